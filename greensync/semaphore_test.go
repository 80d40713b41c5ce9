package greensync_test

import (
	"errors"
	"testing"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

func TestSemaphore(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T, h *hub.Hub)
	}{
		{"try acquire and balance", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 2)
			if !s.TryAcquire() || !s.TryAcquire() {
				t.Fatal("TryAcquire failed with permits free")
			}
			if s.TryAcquire() {
				t.Fatal("TryAcquire succeeded with no permit")
			}
			if !s.Locked() || s.Counter() != 0 || s.Balance() != 0 {
				t.Fatalf("Locked %v Counter %d Balance %d", s.Locked(), s.Counter(), s.Balance())
			}
			greenthread.SpawnN(h, func() { s.Acquire() })
			greenthread.Yield(h)
			if s.Balance() != -1 || s.Waiting() != 1 {
				t.Fatalf("Balance %d Waiting %d, want -1, 1", s.Balance(), s.Waiting())
			}
			s.Release()
			greenthread.Yield(h)
			if s.Balance() != 0 {
				t.Fatalf("Balance %d after handoff", s.Balance())
			}
		}},
		{"waiters served in FIFO order, newcomers wait", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 0)
			var order []int
			for i := range 4 {
				greenthread.SpawnN(h, func() {
					if err := s.Acquire(); err != nil {
						t.Error(err)
					}
					order = append(order, i)
				})
			}
			greenthread.Yield(h)
			s.Release()
			s.Release()
			if s.TryAcquire() {
				t.Fatal("newcomer overtook the waiters")
			}
			s.Release()
			s.Release()
			greenthread.Yield(h)
			if len(order) != 4 || order[0] != 0 || order[1] != 1 || order[2] != 2 || order[3] != 3 {
				t.Fatalf("order %v", order)
			}
		}},
		{"unbounded release raises the counter", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 1)
			s.Release()
			if s.Counter() != 2 {
				t.Fatalf("Counter %d", s.Counter())
			}
		}},
		{"bounded semaphore over-release", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewBoundedSemaphore(h, 1)
			if err := s.Release(); !errors.Is(err, greensync.ErrOverRelease) {
				t.Fatalf("Release = %v", err)
			}
			s.Acquire()
			if err := s.Release(); err != nil {
				t.Fatal(err)
			}
			if err := s.Release(); !errors.Is(err, greensync.ErrOverRelease) {
				t.Fatalf("second Release = %v", err)
			}
			if s.Counter() != 1 {
				t.Fatalf("Counter %d", s.Counter())
			}
		}},
		{"acquire timeout", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 0)
			start := h.Now()
			err := s.AcquireTimeout(10 * ms)
			if !errors.Is(err, greensync.ErrTimeout) {
				t.Fatalf("AcquireTimeout = %v", err)
			}
			if d := h.Now() - start; d != 10*ms {
				t.Fatalf("timed out after %v", d)
			}
			if s.Waiting() != 0 || s.Balance() != 0 {
				t.Fatalf("Waiting %d Balance %d after timeout", s.Waiting(), s.Balance())
			}
			s.Release()
			if err := s.AcquireTimeout(10 * ms); err != nil {
				t.Fatalf("AcquireTimeout with a permit = %v", err)
			}
		}},
		{"permit handed to a killed waiter goes on", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 0)
			a := greenthread.Spawn(h, func() (int, error) { return 0, s.Acquire() })
			b := greenthread.Spawn(h, func() (int, error) { return 0, s.Acquire() })
			greenthread.Yield(h)
			s.Release() // to a, which has not run yet
			a.Kill()
			if _, err := b.Wait(); err != nil {
				t.Fatalf("b: %v", err)
			}
			if s.Counter() != 0 || s.Waiting() != 0 {
				t.Fatalf("Counter %d Waiting %d", s.Counter(), s.Waiting())
			}
		}},
		{"permit handed to a killed waiter with no one behind returns", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 0)
			a := greenthread.Spawn(h, func() (int, error) { return 0, s.Acquire() })
			greenthread.Yield(h)
			s.Release()
			a.Kill()
			if s.Counter() != 1 {
				t.Fatalf("Counter %d, want the permit back", s.Counter())
			}
		}},
		{"waiter timed out after the grant keeps the permit", func(t *testing.T, h *hub.Hub) {
			s := greensync.NewSemaphore(h, 0)
			// Both timers are due at 5ms; the release is scheduled first, so
			// the permit is granted, then the Timeout fires before the
			// waiter runs.
			h.Raw().AfterFunc(5*ms, func() { s.Release() })
			var got error = errors.New("not run")
			var late error
			th := greenthread.Spawn(h, func() (int, error) {
				tmo, _ := greensync.StartTimeout(h, 5*ms)
				got = s.Acquire()
				if !tmo.Expired() {
					t.Error("timeout did not fire")
				}
				tmo.Cancel()
				late = greenthread.Sleep(h, ms) // the withdrawn expiry must not hit this
				return 0, nil
			})
			th.Wait()
			if got != nil || late != nil || s.Counter() != 0 {
				t.Fatalf("Acquire = %v, later Sleep = %v, Counter %d", got, late, s.Counter())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error { tt.body(t, h); return nil }, hubtest.Virtual())
		})
	}
}

func TestCappedSemaphore(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		s := greensync.NewCappedSemaphore(h, 1, 2)
		if err := s.Release(); err != nil || s.Counter() != 2 {
			t.Fatalf("Release = %v, Counter %d", err, s.Counter())
		}
		released := false
		greenthread.SpawnN(h, func() {
			s.Release()
			released = true
		})
		greenthread.Yield(h)
		if released || s.Balance() != 3 {
			t.Fatalf("Release past the limit did not block (Balance %d)", s.Balance())
		}
		if !s.TryAcquire() {
			t.Fatal("TryAcquire failed")
		}
		greenthread.Yield(h)
		if !released || s.Counter() != 2 {
			t.Fatalf("blocked Release not let through: released %v Counter %d", released, s.Counter())
		}
		s.Acquire()
		s.Acquire()
		if err := s.AcquireTimeout(ms); !errors.Is(err, greensync.ErrTimeout) {
			t.Fatalf("AcquireTimeout on empty = %v", err)
		}
		if s.Counter() != 0 || s.Balance() != 0 || s.Limit() != 2 {
			t.Fatalf("Counter %d Balance %d Limit %d", s.Counter(), s.Balance(), s.Limit())
		}
		return nil
	}, hubtest.Virtual())

}
