package hub_test

// Regression tests from a review of the scheduler core: each failed
// (hung, or misbehaved) before its fix.

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// runLimit runs main on h and reports whether Run returned within d (a
// hang fails the test; the stuck goroutine is abandoned).
func runLimit(t *testing.T, h *hub.Hub, main func() error, d time.Duration) (error, bool) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.Run(main) }()
	select {
	case err := <-done:
		return err, true
	case <-time.After(d):
		return nil, false
	}
}

// A green thread whose deferred call blocks while it unwinds from the
// shutdown kill: the doc says it is killed again; does Run return?
func TestShutdownDeferredPark(t *testing.T) {
	h := hub.New()
	_, ok := runLimit(t, h, func() error {
		h.Raw().Spawn(func() error {
			defer func() { h.Raw().Park(hub.Block("in-defer")) }()
			return h.Raw().Park(hub.Block("forever"))
		}, nil)
		h.Raw().Yield()
		return nil
	}, 2*time.Second)
	if !ok {
		t.Fatalf("Run hangs: deferred Park during shutdown unwinding is never killed again")
	}
}

func TestShutdownDeferredSleep(t *testing.T) {
	h := hub.New()
	start := time.Now()
	_, ok := runLimit(t, h, func() error {
		h.Raw().Spawn(func() error {
			defer func() { h.Raw().Sleep(3 * time.Second) }()
			return h.Raw().Park(hub.Block("forever"))
		}, nil)
		h.Raw().Yield()
		return nil
	}, 10*time.Second)
	t.Logf("Run took %v (ok=%v)", time.Since(start), ok)
}

// NewGreenlet(nil parent) from a timer callback: parent should be the loop.
func TestCallbackGreenletParent(t *testing.T) {
	h2 := hub.New()
	var parent *hub.G
	var me *hub.G
	runLimit(t, h2, func() error {
		me = h2.Raw().Current()
		h2.Raw().AfterFunc(0, func() {
			g, err := h2.Raw().NewGreenlet(func(any) (any, error) { return nil, nil }, nil, nil)
			if err != nil {
				t.Errorf("NewGreenlet: %v", err)
				return
			}
			parent = g.Parent()
		})
		h2.Raw().Sleep(5 * time.Millisecond)
		return nil
	}, 5*time.Second)
	if parent != h2.Raw().Loop() {
		t.Errorf("greenlet created in a hub callback has parent %v (main=%v), want the hub loop", parent, me)
	}
}

// Shutdown's kill pass saves g.liveNext before kill(g); a not-started
// thread's exit hook that kills the next one unlinks it and ends the pass
// early, so a later parked thread is not killed and poll blocks forever.
func TestShutdownLinkKillsSibling(t *testing.T) {
	h := hub.New()
	_, ok := runLimit(t, h, func() error {
		a := greenthread.SpawnAfter(h, time.Hour, func() (int, error) { return 0, nil })
		b := greenthread.SpawnAfter(h, time.Hour, func() (int, error) { return 0, nil })
		a.Link(func(*greenthread.Thread[int]) { b.Kill() })
		h.Raw().Spawn(func() error { return h.Raw().Park(hub.Block("forever")) }, nil)
		h.Raw().Yield()
		return nil
	}, 2*time.Second)
	if !ok {
		t.Fatalf("Run hangs")
	}
}

var errX = errors.New("x")

// An Offload whose caller already has an interrupt pending returns it at
// once and never queues fn: a caller that gave up must not have its work
// done behind its back. With one worker, a second Offload completes only
// after any job queued before it.
func TestOffloadInterruptPending(t *testing.T) {
	h := hub.New(hub.WithOffloadWorkers(1))
	var ran atomic.Bool
	mustRun(t, h, func() error {
		h.Raw().Interrupt(h.Raw().Current(), errX)
		if err := h.Offload(func() { ran.Store(true) }); err != errX {
			t.Errorf("Offload with an interrupt pending = %v, want %v", err, errX)
		}
		return h.Offload(func() {})
	})
	if ran.Load() {
		t.Fatal("the interrupted Offload's function ran")
	}
}

// A reader made ready by a poll event whose fd is closed before it runs
// gets net.ErrClosed, not a nil "readable". The virtual clock makes the
// order exact: a timer fires in the loop's own timer phase, writes to the
// pipe and submits the close; that turn's poll readies the reader, its
// door phase closes the fd, and the reader runs in the next turn.
func TestWaitReadAfterClose(t *testing.T) {
	r, w := pipe(t, false)
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	var werr error
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		main := h.Raw().Current()
		h.Raw().Spawn(func() error {
			werr = fd.WaitRead()
			h.Raw().Ready(main, nil)
			return nil
		}, nil)
		h.Raw().Yield() // the reader parks in WaitRead
		h.Raw().AfterFunc(time.Millisecond, func() {
			unix.Write(w, []byte("a"))
			h.Submit(func() { fd.Close() })
		})
		return h.Raw().Park(hub.Block("reader"))
	})
	if !errors.Is(werr, net.ErrClosed) {
		t.Fatalf("WaitRead = %v, want net.ErrClosed", werr)
	}
}

// pollWatcher reports each time the hub blocks in poll without a timeout.
type pollWatcher struct {
	hub.NopTracer
	blocked chan struct{}
}

func (p pollWatcher) PollBegin(timeout time.Duration) {
	if timeout < 0 {
		select {
		case p.blocked <- struct{}{}:
		default:
		}
	}
}

// A virtual clock (no auto-jump) moved by a timer callback on the loop
// makes a sleep due; the loop must fire it rather than block in poll,
// since the hub's own thread does not wake itself.
func TestVirtualAdvanceInCallback(t *testing.T) {
	v := timers.NewVirtual(false)
	watch := pollWatcher{blocked: make(chan struct{}, 1)}
	h := hub.New(hub.WithClock(v), hub.WithTracer(watch))
	go func() {
		<-watch.blocked // the hub waits for the clock
		v.Advance(10 * time.Millisecond)
	}()
	_, ok := runLimit(t, h, func() error {
		h.Raw().AfterFunc(10*time.Millisecond, func() { v.Advance(10 * time.Millisecond) })
		return h.Raw().Sleep(20 * time.Millisecond)
	}, 30*time.Second)
	if !ok {
		t.Fatal("Run hangs: main's sleep is due on the virtual clock but never fires")
	}
}

// An offloaded function that submits to its own hub and waits for the
// submitted function to run, while the run ends: main has returned, or the
// green thread that offloaded has been killed. Close must keep serving the
// door while it waits for the offload, or neither ever finishes (shutdown
// hung). The function submits only once main is over, so the offload is in
// flight during shutdown, whatever the scheduling.
func TestRegressionOffloadSubmitShutdown(t *testing.T) {
	tests := []struct {
		name string
		kill bool // main kills the offloading green thread before it returns
	}{
		{name: "main returns", kill: false},
		{name: "offloader killed", kill: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			var started atomic.Bool
			mainOver := make(chan struct{})
			ran := make(chan struct{})
			submitErr := make(chan error, 1)
			var offloader *hub.G
			err, ok := runLimit(t, h, func() error {
				defer close(mainOver)
				g, err := h.Raw().Spawn(func() error {
					return h.Offload(func() {
						started.Store(true)
						<-mainOver
						err := h.Submit(func() { close(ran) })
						submitErr <- err
						if err == nil {
							<-ran
						}
					})
				}, nil)
				if err != nil {
					return err
				}
				offloader = g
				if err := yieldUntil(h, 1e7, started.Load); err != nil {
					return err
				}
				if tt.kill {
					if err := h.Raw().Kill(g); err != nil {
						return err
					}
					return yieldUntil(h, 1000, g.Dead)
				}
				return nil
			}, 30*time.Second)
			if !ok {
				t.Fatal("Run hangs with an offload in flight that submits to the hub")
			}
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if err := <-submitErr; err != nil {
				t.Fatalf("Submit from the offloaded function = %v", err)
			}
			select {
			case <-ran:
			default:
				t.Fatal("Submit returned nil but its function never ran")
			}
			if err := offloader.Err(); !errors.Is(err, hub.ErrKilled) {
				t.Errorf("the offloading green thread's error = %v, want ErrKilled: the run ended while it waited", err)
			}
		})
	}
}

// A goroutine flooding Submit shares the hub with timers instead of
// starving them, and the hub stays bounded: Submit waits for room once
// 65,536 items are queued, and the green threads the submitted functions
// spawn do not pile up in the ready queue (they did when the door was
// opened every 61 resumptions: a 2ms sleep took seconds). Under the same flood from 16 goroutines the run
// still ends, every accepted function runs exactly once, and Submit then
// fails with ErrStopped.
func TestRegressionSubmitFloodFair(t *testing.T) {
	const (
		maxSubmits   = 2_000_000
		doorCapacity = 1 << 16
		maxReady     = 4096 // a few door batches (256 each)
	)
	t.Run("sleeps", func(t *testing.T) {
		h := hub.New()
		var accepted atomic.Int64 // Submit returned nil
		var stop atomic.Bool
		var ran, started int // hub thread only: functions run, green threads they spawned started
		flood := func() {
			ran++
			h.Raw().Spawn(func() error { started++; return nil }, nil)
		}
		var wg sync.WaitGroup
		unref := h.Ref() // the submitter may submit while main sleeps
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer unref()
			deadline := time.Now().Add(hubtest.Limit / 2)
			for n := 0; n < maxSubmits && !stop.Load(); n++ {
				if n%1024 == 0 && time.Now().After(deadline) {
					return
				}
				if err := h.Submit(flood); err != nil {
					return
				}
				accepted.Add(1)
			}
		}()
		var backlog int64    // accepted but not yet taken by the hub, at most
		var readyBacklog int // spawned but not yet started, at most
		measure := func() {
			backlog = max(backlog, accepted.Load()-int64(h.Stats().Submitted))
			readyBacklog = max(readyBacklog, ran-started)
		}
		var slept time.Duration
		err := run(t, h, func() error {
			defer stop.Store(true)
			if err := yieldUntil(h, 1e7, func() bool { measure(); return ran >= 1000 }); err != nil {
				return fmt.Errorf("the flood did not start: %w", err)
			}
			start := time.Now()
			for range 5 {
				if err := greenthread.Sleep(h, 2*time.Millisecond); err != nil {
					return err
				}
				measure()
			}
			slept = time.Since(start)
			return nil
		})
		stop.Store(true)
		wg.Wait()
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if slept > 2*time.Second {
			t.Errorf("5 sleeps of 2ms took %v under a Submit flood", slept)
		}
		if backlog > doorCapacity {
			t.Errorf("%d submitted functions were queued at once, want at most the door's %d", backlog, doorCapacity)
		}
		if readyBacklog > maxReady {
			t.Errorf("%d spawned green threads were waiting to start at once, want at most %d", readyBacklog, maxReady)
		}
		t.Logf("sleeps took %v; %d submitted, %d run; largest backlogs: door %d, ready %d", slept, accepted.Load(), ran, backlog, readyBacklog)
	})
	t.Run("shutdown", func(t *testing.T) {
		const submitters = 16
		h := hub.New()
		var accepted atomic.Int64
		var ran int64 // hub thread only; read after Run
		flood := func() {
			ran++
			h.Raw().Spawn(func() error { return nil }, nil)
		}
		runDone := make(chan struct{})
		errs := make([]error, submitters)
		var wg sync.WaitGroup
		for i := range submitters {
			unref := h.Ref()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer unref()
				for n := 0; n < maxSubmits/submitters; n++ {
					if errs[i] = h.Submit(flood); errs[i] != nil {
						return
					}
					accepted.Add(1)
				}
				<-runDone
				errs[i] = h.Submit(flood)
			}()
		}
		err := run(t, h, func() error {
			return yieldUntil(h, 1e7, func() bool { return ran >= 1000 })
		})
		close(runDone)
		wg.Wait()
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		for i, err := range errs {
			if !errors.Is(err, hub.ErrStopped) {
				t.Errorf("submitter %d: Submit after Run = %v, want ErrStopped", i, err)
			}
		}
		if ran != accepted.Load() {
			t.Errorf("%d functions ran, want the %d whose Submit returned nil", ran, accepted.Load())
		}
	})
}

// blockCounter counts the parks on file descriptors.
type blockCounter struct {
	hub.NopTracer
	fdParks int
}

func (c *blockCounter) Block(_ *hub.G, on hub.Reason) {
	if on.FD >= 0 {
		c.fdParks++
	}
}

// WaitRead and WaitWrite have level semantics: on an fd that is ready now
// they return at once, without parking — also when the readiness was seen
// before (data written before Register, data left after a partial read),
// and though the registration is edge-triggered. Only an fd that is not
// ready parks, until a green thread makes it ready.
func TestRegressionWaitReadOnReadyFD(t *testing.T) {
	tests := []struct {
		name  string
		write bool // register the write end; else the read end
		// before runs before Register, with the pipe's two ends.
		before func(t *testing.T, r, w int)
		// wait runs in main with the registered end; r and w are the
		// pipe's ends (fd is a duplicate of one of them).
		wait      func(h *hub.Hub, fd *hub.FD, r, w int) error
		wantParks int
	}{
		{
			name:   "read: data written before Register",
			before: func(t *testing.T, r, w int) { writeAll(t, w, "abc") },
			wait: func(h *hub.Hub, fd *hub.FD, r, w int) error {
				return waitAndRead(fd, 3)
			},
			wantParks: 0,
		},
		{
			name: "read: data left after a partial read",
			wait: func(h *hub.Hub, fd *hub.FD, r, w int) error {
				if err := spawnAfterYield(h, func() error { return writeString(w, "abc") }); err != nil {
					return err
				}
				return waitAndRead(fd, 3) // parks once, until the write
			},
			wantParks: 1,
		},
		{
			name: "read: no data parks until a green thread writes",
			wait: func(h *hub.Hub, fd *hub.FD, r, w int) error {
				if err := spawnAfterYield(h, func() error { return writeString(w, "a") }); err != nil {
					return err
				}
				return waitAndRead(fd, 1)
			},
			wantParks: 1,
		},
		{
			name:  "write: writable pipe",
			write: true,
			wait: func(h *hub.Hub, fd *hub.FD, r, w int) error {
				for range 3 {
					if err := fd.WaitWrite(); err != nil {
						return err
					}
				}
				return nil
			},
			wantParks: 0,
		},
		{
			name:  "write: full pipe parks until a green thread drains it",
			write: true,
			before: func(t *testing.T, r, w int) {
				for {
					if _, err := unix.Write(w, make([]byte, 4096)); err == unix.EAGAIN {
						return
					} else if err != nil {
						t.Fatalf("filling the pipe: %v", err)
					}
				}
			},
			wait: func(h *hub.Hub, fd *hub.FD, r, w int) error {
				if err := spawnAfterYield(h, func() error { return drain(r) }); err != nil {
					return err
				}
				for range 3 { // parks once, until the drain
					if err := fd.WaitWrite(); err != nil {
						return err
					}
				}
				return nil
			},
			wantParks: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := pipe(t, true)
			if tt.before != nil {
				tt.before(t, r, w)
			}
			end := r
			if tt.write {
				end = w
			}
			owned, err := unix.FcntlInt(uintptr(end), unix.F_DUPFD_CLOEXEC, 0) // the hub's own
			if err != nil {
				t.Fatalf("dup: %v", err)
			}
			counter := &blockCounter{}
			hubtest.Main(t, func(h *hub.Hub) error {
				fd, err := h.Raw().Register(owned)
				if err != nil {
					unix.Close(owned)
					return err
				}
				return tt.wait(h, fd, r, w)
			}, hub.WithTracer(counter))
			if counter.fdParks != tt.wantParks {
				t.Errorf("parked %d times on the fd, want %d", counter.fdParks, tt.wantParks)
			}
		})
	}
}

// waitAndRead reads n bytes one at a time, calling WaitRead before each
// read: after the first, each WaitRead finds data left by the last read.
func waitAndRead(fd *hub.FD, n int) error {
	var b [1]byte
	for i := range n {
		if err := fd.WaitRead(); err != nil {
			return err
		}
		if _, err := unix.Read(fd.Sysfd(), b[:]); err != nil {
			return fmt.Errorf("read %d after WaitRead: %w", i, err)
		}
	}
	return nil
}

// spawnAfterYield spawns a green thread that yields once, then runs fn.
func spawnAfterYield(h *hub.Hub, fn func() error) error {
	_, err := h.Raw().Spawn(func() error {
		if err := h.Raw().Yield(); err != nil {
			return err
		}
		return fn()
	}, nil)
	return err
}

func writeString(fd int, s string) error {
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func writeAll(t *testing.T, fd int, s string) {
	t.Helper()
	if err := writeString(fd, s); err != nil {
		t.Fatal(err)
	}
}

// drain reads a non-blocking fd until it is empty.
func drain(fd int) error {
	buf := make([]byte, 1<<16)
	for {
		if _, err := unix.Read(fd, buf); err == unix.EAGAIN {
			return nil
		} else if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
	}
}
