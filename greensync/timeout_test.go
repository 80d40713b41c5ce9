package greensync_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// TestTimeoutInterrupts checks that a Timeout interrupts every kind of
// blocking call, at the right virtual time, with itself as the error.
func TestTimeoutInterrupts(t *testing.T) {
	tests := []struct {
		name  string
		block func(h *hub.Hub) error
	}{
		{"Sleep", func(h *hub.Hub) error { return greenthread.Sleep(h, time.Hour) }},
		{"Event.Wait", func(h *hub.Hub) error {
			_, err := greensync.NewEvent[int](h).Wait()
			return err
		}},
		{"Queue.Get", func(h *hub.Hub) error {
			_, err := greensync.NewQueue[int](h, 1).Get()
			return err
		}},
		{"Queue.Put", func(h *hub.Hub) error {
			return greensync.NewQueue[int](h, 0).Put(1)
		}},
		{"Queue.Join", func(h *hub.Hub) error {
			q := greensync.NewQueue[int](h, 1)
			q.Put(1)
			return q.Join()
		}},
		{"Semaphore.Acquire", func(h *hub.Hub) error {
			return greensync.NewSemaphore(h, 0).Acquire()
		}},
		{"Thread.Wait", func(h *hub.Hub) error {
			th := greenthread.Spawn(h, func() (int, error) {
				return 0, greenthread.Sleep(h, time.Hour)
			})
			defer th.Kill()
			_, err := th.Wait()
			return err
		}},
		{"pipe read", func(h *hub.Hub) error {
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				return err
			}
			if err := unix.SetNonblock(p[0], true); err != nil {
				unix.Close(p[0])
				unix.Close(p[1])
				return err
			}
			defer unix.Close(p[1])
			fd, err := h.Raw().Register(p[0])
			if err != nil {
				unix.Close(p[0])
				return err
			}
			defer fd.Close()
			return fd.WaitRead()
		}},
		{"chan receive", func(h *hub.Hub) error {
			_, _, err := greensync.Recv(h, make(chan int))
			return err
		}},
		{"chan send", func(h *hub.Hub) error {
			return greensync.Send(h, make(chan int), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				start := h.Now()
				tmo, err := greensync.StartTimeout(h, 5*ms)
				if err != nil {
					t.Fatal(err)
				}
				defer tmo.Cancel()
				err = tt.block(h)
				if err != tmo || !errors.Is(err, greensync.ErrTimeout) {
					t.Fatalf("blocking call returned %v, want the Timeout", err)
				}
				if d := h.Now() - start; d != 5*ms {
					t.Fatalf("interrupted after %v, want 5ms", d)
				}
				if !tmo.Expired() || tmo.Pending() {
					t.Fatalf("Expired %v Pending %v", tmo.Expired(), tmo.Pending())
				}
				return nil
			}, hubtest.Virtual())

		})
	}
}

func TestTimeoutNested(t *testing.T) {
	tests := []struct {
		name         string
		outer, inner time.Duration
		wantInner    bool
	}{
		{"inner fires first", 10 * ms, 3 * ms, true},
		{"outer fires first", 3 * ms, 10 * ms, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				outer, _ := greensync.StartTimeout(h, tt.outer)
				defer outer.Cancel()
				_, err := greensync.WithTimeout(h, tt.inner, func() (int, error) {
					return 0, greenthread.Sleep(h, time.Hour)
				})
				var fired *greensync.Timeout
				if !errors.As(err, &fired) {
					t.Fatalf("err %v is no *Timeout", err)
				}
				if fired == outer == tt.wantInner {
					t.Fatalf("the wrong timeout won: %v (outer %v)", fired.Duration(), tt.outer)
				}
				if fired.Duration() != min(tt.outer, tt.inner) {
					t.Fatalf("fired %v", fired.Duration())
				}
				if tt.wantInner {

					if err := greenthread.Sleep(h, time.Hour); err != outer {
						t.Fatalf("after the inner timeout, Sleep = %v, want the outer", err)
					}
				}
				return nil
			}, hubtest.Virtual())

		})
	}
}

func TestTimeoutCancelled(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		tmo, _ := greensync.StartTimeout(h, 5*ms)
		if !tmo.Cancel() {
			t.Fatal("Cancel of a pending timeout reported false")
		}
		if err := greenthread.Sleep(h, 20*ms); err != nil {
			t.Fatalf("Sleep after Cancel = %v", err)
		}
		if tmo.Expired() || tmo.Cancel() {
			t.Fatal("cancelled timeout expired")
		}

		tmo2, _ := greensync.StartTimeout(h, 0)
		h.Raw().AfterFunc(0, func() {})
		for !tmo2.Expired() {
			greenthread.Yield(h)
		}
		tmo2.Cancel()
		if err := greenthread.Sleep(h, ms); err != nil {
			t.Fatalf("withdrawn expiry delivered: %v", err)
		}

		if err := tmo.Start(); err != nil {
			t.Fatal(err)
		}
		if err := tmo.Start(); !errors.Is(err, greensync.ErrTimeoutStarted) {
			t.Fatalf("second Start = %v", err)
		}
		tmo.Cancel()
		return nil
	}, hubtest.Virtual())

}

func TestWithTimeout(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		v, err := greensync.WithTimeout(h, 10*ms, func() (string, error) {
			greenthread.Sleep(h, ms)
			return "in time", nil
		})
		if v != "in time" || err != nil {
			t.Fatalf("WithTimeout = %q, %v", v, err)
		}
		if err := greenthread.Sleep(h, 20*ms); err != nil {
			t.Fatalf("the timeout outlived WithTimeout: %v", err)
		}
		_, err = greensync.WithTimeout(h, 10*ms, func() (string, error) {
			return "", greenthread.Sleep(h, time.Second)
		})
		if !errors.Is(err, greensync.ErrTimeout) {
			t.Fatalf("WithTimeout = %v", err)
		}
		var te interface{ Timeout() bool }
		if !errors.As(err, &te) || !te.Timeout() {
			t.Fatal("timeout error has no Timeout() true")
		}
		return nil
	}, hubtest.Virtual())

	if _, err := greensync.WithTimeout(hub.New(), ms, func() (int, error) { return 0, nil }); err == nil {
		t.Fatal("WithTimeout outside a hub succeeded")
	}
}
