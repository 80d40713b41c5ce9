package greensync_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// TestRegressionRecvKillKeepsValue: a green thread killed at the instant
// its Recv helper took a value from the channel used to lose the value
// with it. The value must go to the next Recv of the channel on the hub.
// The kill lands both before and after the helper's report reached the
// hub (the door's timing decides which); both must keep the value.
func TestRegressionRecvKillKeepsValue(t *testing.T) {
	for i := range 50 {
		hubtest.Main(t, func(h *hub.Hub) error {
			ch := make(chan int)
			a := greenthread.Spawn(h, func() (int, error) {
				v, _, err := greensync.Recv(h, ch)
				return v, err
			})
			greenthread.Yield(h) // a parks in Recv; its helper waits on ch
			// Blocks the hub's thread (deliberately, for an instant) until
			// a's helper has taken the value; its report is not in yet.
			ch <- 42
			a.Kill()
			if _, err := a.Wait(); !errors.Is(err, hub.ErrKilled) {
				t.Errorf("round %d: killed receiver: %v", i, err)
			}
			// Real clock: the helper's report comes through the door on
			// its own time, which a virtual clock would jump past.
			v, err := greensync.WithTimeout(h, 5*time.Second, func() (int, error) {
				v, ok, err := greensync.Recv(h, ch)
				if err == nil && !ok {
					err = errors.New("channel reported closed")
				}
				return v, err
			})
			if v != 42 || err != nil {
				t.Errorf("round %d: next Recv = %d, %v; want the killed receiver's 42", i, v, err)
			}
			return nil
		})
		if t.Failed() {
			return
		}
	}
}

// TestRegressionDeadlineSaturates: a Timeout of math.MaxInt64 ("never")
// used to overflow now+d into the past and fire at once.
func TestRegressionDeadlineSaturates(t *testing.T) {
	tests := []struct {
		name  string
		block func(h *hub.Hub) error
	}{
		{"StartTimeout", func(h *hub.Hub) error {
			tmo, err := greensync.StartTimeout(h, math.MaxInt64)
			if err != nil {
				return err
			}
			defer tmo.Cancel()
			if err := greenthread.Sleep(h, ms); err != nil {
				return err
			}
			if !tmo.Pending() {
				return errors.New("timeout of MaxInt64 not pending after 1ms")
			}
			return nil
		}},
		{"NewTimeout near the end of time", func(h *hub.Hub) error {
			tmo := greensync.NewTimeout(h, math.MaxInt64-time.Second)
			if err := tmo.Start(); err != nil {
				return err
			}
			defer tmo.Cancel()
			return greenthread.Sleep(h, ms)
		}},
		{"WithTimeout", func(h *hub.Hub) error {
			_, err := greensync.WithTimeout(h, math.MaxInt64, func() (int, error) {
				return 0, greenthread.Sleep(h, ms)
			})
			return err
		}},
		{"AcquireTimeout", func(h *hub.Hub) error {
			s := greensync.NewSemaphore(h, 0)
			h.Raw().AfterFunc(ms, func() { s.Release() })
			return s.AcquireTimeout(math.MaxInt64)
		}},
		{"GetTimeout", func(h *hub.Hub) error {
			q := greensync.NewQueue[int](h, 1)
			h.Raw().AfterFunc(ms, func() { q.TryPut(1) })
			_, err := q.GetTimeout(math.MaxInt64)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				// Move the clock off zero, where now+MaxInt64 still fits.
				if err := greenthread.Sleep(h, time.Hour); err != nil {
					return err
				}
				if err := tt.block(h); err != nil {
					t.Errorf("blocking call under a MaxInt64 timeout = %v", err)
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

// TestRegressionTimeoutAtYield: eventlet delivers a Timeout at every switch
// point. A 20ms Timeout around a loop of Yield used to let the loop run on;
// one around a greenlet Switch waited for the greenlet to switch back.
// (Needs the hub's Yield and Switch to deliver a pending Interrupt.)
func TestRegressionTimeoutAtYield(t *testing.T) {
	t.Run("yield loop", func(t *testing.T) {
		// A real clock: a virtual one does not move while green threads
		// are ready, and a Yield loop always is.
		hubtest.Main(t, func(h *hub.Hub) error {
			tmo, err := greensync.StartTimeout(h, 20*ms)
			if err != nil {
				return err
			}
			defer tmo.Cancel()
			start := time.Now()
			for time.Since(start) < 2*time.Second {
				if err = greenthread.Yield(h); err != nil {
					break
				}
			}
			if d := time.Since(start); err != tmo || d > 150*ms {
				t.Errorf("Yield loop under a 20ms Timeout ended after %v with %v; want the Timeout at ~20ms", d, err)
			}
			return nil
		})
	})
	t.Run("greenlet switch", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			gl, err := greenthread.NewGreenlet(h, func(any) (any, error) {
				return "woke", greenthread.Sleep(h, time.Second)
			}, greenthread.Greenlet{})
			if err != nil {
				return err
			}
			tmo, err := greensync.StartTimeout(h, 20*ms)
			if err != nil {
				return err
			}
			defer tmo.Cancel()
			start := h.Now()
			v, err := gl.Switch(nil)
			if d := h.Now() - start; err != tmo || d != 20*ms {
				t.Errorf("Switch under a 20ms Timeout returned %v, %v after %v; want the Timeout at 20ms", v, err, d)
			}
			return nil
		}, hubtest.Virtual())
	})
}
