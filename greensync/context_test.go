package greensync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// TestWaitContextCancelFromGoroutine: a cancel from another goroutine wakes
// a green thread parked on ctx.Done() promptly, through the door, on a real
// clock and with no timer pending (so nothing polls).
func TestWaitContextCancelFromGoroutine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	parked := make(chan struct{})
	var woke time.Duration
	var cancelAt time.Duration
	h, err := hubtest.MainErr(t, func(h *hub.Hub) error {
		go func() {
			<-parked
			cancelAt = h.Now()
			cancel()
		}()
		// A callback runs only once main has parked in WaitContext.
		h.Raw().AfterFunc(0, func() { close(parked) })
		err := greensync.WaitContext(h, ctx)
		woke = h.Now()
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitContext = %v", err)
	}
	if d := woke - cancelAt; d > 200*time.Millisecond {
		t.Fatalf("woke %v after the cancel", d)
	}
	if h.Stats().Polls > 10 {
		t.Fatalf("%d polls: the wait is not event-driven", h.Stats().Polls)
	}
}

func TestWithContext(t *testing.T) {
	t.Run("cancel interrupts a queue get", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := hubtest.MainErr(t, func(h *hub.Hub) error {
			q := greensync.NewQueue[int](h, 1)
			parked := make(chan struct{})
			go func() {
				<-parked
				cancel()
			}()
			// Runs once main has parked in Get.
			h.Raw().AfterFunc(0, func() { close(parked) })
			_, err := greensync.WithContext(h, ctx, q.Get)
			if q.Getting() != 0 {
				t.Errorf("Getting %d after cancel", q.Getting())
			}
			// The binding is gone: later calls are not interrupted.
			if err2 := greenthread.Sleep(h, time.Millisecond); err2 != nil {
				t.Errorf("Sleep after WithContext = %v", err2)
			}
			return err
		})
		if err != context.Canceled {
			t.Fatalf("WithContext = %v, want ctx.Err() itself", err)
		}
	})
	t.Run("deadline on a semaphore", func(t *testing.T) {
		_, err := hubtest.MainErr(t, func(h *hub.Hub) error {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Millisecond)
			defer cancel()
			s := greensync.NewSemaphore(h, 0)
			_, err := greensync.WithContext(h, ctx, func() (int, error) { return 0, s.Acquire() })
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("done before the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		hubtest.Main(t, func(h *hub.Hub) error {
			ran := false
			_, err := greensync.WithContext(h, ctx, func() (int, error) { ran = true; return 0, nil })
			if ran || err != context.Canceled {
				t.Fatalf("ran %v err %v", ran, err)
			}
			if err := greensync.WaitContext(h, ctx); err != context.Canceled {
				t.Fatalf("WaitContext = %v", err)
			}
			return nil
		}, hubtest.Virtual())

	})
	t.Run("not cancelled", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			ctx, cancel := context.WithCancel(context.Background())
			v, err := greensync.WithContext(h, ctx, func() (int, error) {
				return 3, greenthread.Sleep(h, time.Second)
			})
			cancel()
			greenthread.Sleep(h, time.Millisecond)
			if v != 3 || err != nil {
				t.Fatalf("WithContext = %d, %v", v, err)
			}
			return nil
		}, hubtest.Virtual())

	})
	t.Run("killed while waiting on ctx", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			th := greenthread.Spawn(h, func() (int, error) { return 0, greensync.WaitContext(h, ctx) })
			greenthread.Yield(h)
			th.Kill()
			if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
				t.Fatalf("err %v", err)
			}
			return nil
		}, hubtest.Virtual())

	})
}
