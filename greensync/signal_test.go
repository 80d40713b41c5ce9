package greensync_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// The tests send signals to the test process itself. A signal relayed to
// a Signals does not end the process; every test waits until the signals
// it sent have reached its Signals (Wait or Pending) before it stops it, so
// that none arrives once the default action is back.

// kill sends sig to the test process.
func kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Errorf("kill: %v", err)
	}
}

// awaitPending sleeps (green, 1ms at a time) until s holds n signals,
// for at most two seconds.
func awaitPending(t *testing.T, h *hub.Hub, s *greensync.Signals, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); s.Pending() < n; {
		if time.Now().After(deadline) {
			t.Errorf("%d signals queued after 2s, want %d", s.Pending(), n)
			return
		}
		greenthread.Sleep(h, ms)
	}
}

func notify(t *testing.T, h *hub.Hub, sigs ...os.Signal) *greensync.Signals {
	t.Helper()
	s, err := greensync.NotifySignal(h, sigs...)
	if err != nil {
		t.Fatalf("NotifySignal: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func TestSignalsWait(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		kill(t, syscall.SIGUSR1) // from the hub's thread: kill(2) does not block
		sig, err := s.Wait()
		if sig != syscall.SIGUSR1 || err != nil {
			t.Errorf("Wait = %v, %v; want SIGUSR1", sig, err)
		}
		return nil
	})
}

// Signals that arrive while nobody waits are queued and come out in order.
func TestSignalsQueuedInOrder(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP)
		// One at a time: the kernel merges a signal already pending.
		sent := []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGUSR1}
		for i, sig := range sent {
			kill(t, sig)
			awaitPending(t, h, s, i+1)
		}
		for _, want := range sent {
			sig, err := s.Wait()
			if sig != want || err != nil {
				t.Errorf("Wait = %v, %v; want %v", sig, err, want)
			}
		}
		return nil
	})
}

// Each signal goes to one waiter; waiters parked at once are all served.
func TestSignalsSeveralWaiters(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		var ths []*greenthread.Thread[os.Signal]
		for range 3 {
			ths = append(ths, greenthread.Spawn(h, s.Wait))
		}
		greenthread.Yield(h)
		for i := range ths {
			kill(t, syscall.SIGUSR1)
			// Wait until this one has been taken before sending the next,
			// or the kernel merges them.
			for deadline := time.Now().Add(2 * time.Second); ; {
				done := 0
				for _, th := range ths {
					if th.Dead() {
						done++
					}
				}
				if done == i+1 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("%d waiters served after 2s, want %d", done, i+1)
					return nil
				}
				greenthread.Sleep(h, ms)
			}
		}
		for i, th := range ths {
			if sig, err := th.Wait(); sig != syscall.SIGUSR1 || err != nil {
				t.Errorf("waiter %d: %v, %v", i, sig, err)
			}
		}
		return nil
	})
}

// A Timeout ends a Wait without taking a signal; a later one still comes.
func TestSignalsWaitTimeout(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		sig, err := greensync.WithTimeout(h, 20*ms, s.Wait)
		if !errors.Is(err, greensync.ErrTimeout) || sig != nil {
			t.Errorf("Wait under a Timeout = %v, %v; want ErrTimeout", sig, err)
		}
		kill(t, syscall.SIGUSR1)
		sig, err = greensync.WithTimeout(h, 2*time.Second, s.Wait)
		if sig != syscall.SIGUSR1 || err != nil {
			t.Errorf("Wait = %v, %v; want SIGUSR1", sig, err)
		}
		return nil
	})
}

// A killed waiter unwinds; the next signal goes to the next Wait.
func TestSignalsWaitKilled(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		th := greenthread.Spawn(h, s.Wait)
		greenthread.Yield(h)
		if err := th.Kill(); err != nil {
			t.Errorf("Kill: %v", err)
		}
		if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
			t.Errorf("killed waiter: %v; want ErrKilled", err)
		}
		kill(t, syscall.SIGUSR1)
		if sig, err := s.Wait(); sig != syscall.SIGUSR1 || err != nil {
			t.Errorf("Wait after the kill = %v, %v", sig, err)
		}
		return nil
	})
}

// Stop from another goroutine wakes a parked waiter; what was queued
// before it comes out first.
func TestSignalsStop(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		kill(t, syscall.SIGUSR1)
		awaitPending(t, h, s, 1)
		done := make(chan struct{})
		go func() { s.Stop(); close(done) }()
		if _, _, err := greensync.Recv(h, done); err != nil {
			t.Errorf("Recv: %v", err)
		}
		if sig, err := s.Wait(); sig != syscall.SIGUSR1 || err != nil {
			t.Errorf("first Wait after Stop = %v, %v; want the queued SIGUSR1", sig, err)
		}
		if _, err := s.Wait(); err != greensync.ErrSignalsStopped {
			t.Errorf("Wait after Stop = %v; want ErrSignalsStopped", err)
		}
		s.Stop() // twice: nothing
		return nil
	})
}

func TestSignalsStopWakesWaiter(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		th := greenthread.Spawn(h, s.Wait)
		greenthread.Yield(h)
		s.Stop() // on the hub's thread
		if _, err := th.Wait(); err != greensync.ErrSignalsStopped {
			t.Errorf("parked Wait after Stop = %v; want ErrSignalsStopped", err)
		}
		return nil
	})
}

// A green thread parked in Wait is not a deadlock: a signal can come.
func TestSignalsWaitIsNoDeadlock(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := notify(t, h, syscall.SIGUSR1)
		go func() {
			time.Sleep(50 * ms) // pacing: main is parked by then, or takes it at once
			syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		}()
		if sig, err := s.Wait(); sig != syscall.SIGUSR1 || err != nil {
			t.Errorf("Wait = %v, %v", sig, err)
		}
		return nil
	})
}

// A Signals nobody waits on holds no reference: green threads waiting for
// something that can never come are still a deadlock.
func TestSignalsIdleHoldsNoRef(t *testing.T) {
	_, err := hubtest.MainErr(t, func(h *hub.Hub) error {
		notify(t, h, syscall.SIGUSR1)
		_, err := greensync.NewEvent[int](h).Wait()
		return err
	})
	if !errors.Is(err, hub.ErrDeadlock) {
		t.Fatalf("Run = %v; want ErrDeadlock", err)
	}
}

func TestSignalsErrors(t *testing.T) {
	h := hub.New()
	for _, sig := range []os.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		if _, err := greensync.NotifySignal(h, syscall.SIGUSR1, sig); err == nil {
			t.Errorf("NotifySignal(%v) succeeded", sig)
		}
	}
	if _, err := greensync.NotifySignal(nil, syscall.SIGUSR1); err == nil {
		t.Error("NotifySignal(nil hub) succeeded")
	}
	s, err := greensync.NotifySignal(h, syscall.SIGUSR1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if _, err := s.Wait(); !errors.Is(err, hub.ErrNotStarted) {
		t.Errorf("Wait before the run = %v; want ErrNotStarted", err)
	}
	hubtest.MustRun(t, h, func() error {
		done := greensync.NewEvent[error](h)
		h.Submit(func() { // a hub callback may not park
			_, err := s.Wait()
			done.Send(err)
		})
		if err, _ := done.Wait(); !errors.Is(err, hub.ErrNotGreen) {
			t.Errorf("Wait from a hub callback = %v; want ErrNotGreen", err)
		}
		return nil
	})
	if _, err := s.Wait(); !errors.Is(err, hub.ErrStopped) {
		t.Errorf("Wait after the run = %v; want ErrStopped", err)
	}
}
