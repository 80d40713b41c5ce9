//go:build linux

package hub_test

// Tests of the poller contract with a fake poller (export_test.go): what
// the kernel cannot provoke on demand.

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/sys/unix"
)

// An event queued by the kernel for a registration that has since been
// closed, its fd number reused by a new registration, is dropped by its
// sequence number: it must not wake the new registration's waiter. The
// virtual clock makes every step one poll: main's sleep lets the loop
// poll (timeout 0) before the clock jumps.
func TestStaleEventDropped(t *testing.T) {
	fake := hub.NewFakePoller()
	r1, _ := pipe(t, false) // the hub owns r1, then its reuse
	r2, _ := pipe(t, true)
	var woke bool
	var werr error
	hubtest.Main(t, func(h *hub.Hub) error {
		raw := h.Raw()
		old, err := raw.Register(r1)
		if err != nil {
			return err
		}
		s1, ok := fake.Seq(r1)
		if !ok {
			return fmt.Errorf("fd %d not registered with the poller", r1)
		}
		if err := old.Close(); err != nil {
			return err
		}
		if _, ok := fake.Seq(r1); ok {
			return fmt.Errorf("fd %d still registered after Close", r1)
		}
		// Reuse the number: r1 now names the read end of the second
		// pipe (empty, so WaitRead's readiness check finds nothing).
		if err := unix.Dup3(r2, r1, unix.O_CLOEXEC); err != nil {
			return fmt.Errorf("dup3: %w", err)
		}
		fd, err := raw.Register(r1)
		if err != nil {
			return err
		}
		s2, _ := fake.Seq(r1)
		if s2 == s1 {
			return fmt.Errorf("the reused fd got the old sequence number %d", s1)
		}
		waiter, err := raw.Spawn(func() error {
			werr = fd.WaitRead()
			woke = true
			return nil
		}, nil)
		if err != nil {
			return err
		}
		if err := raw.Sleep(time.Millisecond); err != nil { // the waiter parks
			return err
		}
		if waiter.State() != "parked" || waiter.Reason().What != "read" {
			return fmt.Errorf("waiter is %s on %s, want parked on read", waiter.State(), waiter.Reason())
		}

		fake.Inject(r1, s1, true)
		if err := raw.Sleep(time.Millisecond); err != nil {
			return err
		}
		if n := fake.Pending(); n != 0 {
			return fmt.Errorf("%d injected events not polled", n)
		}
		if woke || waiter.State() != "parked" {
			t.Errorf("an event with the closed registration's sequence %d woke the waiter on its reuse (sequence %d)", s1, s2)
		}

		fake.Inject(r1, s2, true)
		if err := raw.Sleep(time.Millisecond); err != nil {
			return err
		}
		if !woke {
			t.Errorf("an event with the current sequence %d did not wake the waiter (%s)", s2, waiter.State())
		}
		return nil
	}, hubtest.Virtual(), hub.WithFakePoller(fake))
	if werr != nil {
		t.Errorf("WaitRead = %v, want nil", werr)
	}
}

// A failing poll ends the run: Run returns an error wrapping the poller's,
// the green threads are unwound, and the hub does not retry in a loop. The
// cases fail a timed poll (main sleeps) and an indefinite one (main parks
// while a reference is held, so it is no deadlock).
func TestPollFailureEndsRun(t *testing.T) {
	errPoll := errors.New("poll exploded")
	tests := []struct {
		name string
		wait func(h *hub.Hub) error
	}{
		{
			name: "timed",
			wait: func(h *hub.Hub) error { return h.Raw().Sleep(time.Hour) },
		},
		{
			name: "indefinite",
			wait: func(h *hub.Hub) error {
				defer h.Ref()()
				return h.Raw().Park(hub.Block("forever"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := hub.NewFakePoller()
			fake.FailWait(errPoll)
			var unwound bool
			_, err := hubtest.MainErr(t, func(h *hub.Hub) error {
				defer func() { unwound = true }()
				return tt.wait(h)
			}, hub.WithFakePoller(fake))
			if !errors.Is(err, errPoll) {
				t.Fatalf("Run = %v, want an error wrapping %v", err, errPoll)
			}
			if !unwound {
				t.Error("main was not unwound")
			}
			if n := fake.Waits(); n > 2 {
				t.Errorf("the hub polled %d times after the poll failed, want it to stop", n)
			}
		})
	}
}

// Without a poller for the system (poller_other.go), Run fails with
// errors.ErrUnsupported; main never runs, and a function submitted before
// Run still runs, as Submit promised.
func TestUnsupportedPoller(t *testing.T) {
	h := hub.New(hub.WithPollerError(fmt.Errorf("no poller here: %w", errors.ErrUnsupported)))
	var submitted atomic.Bool
	if err := h.Submit(func() { submitted.Store(true) }); err != nil {
		t.Fatalf("Submit before Run = %v", err)
	}
	var ran bool
	err := run(t, h, func() error { ran = true; return nil })
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Run = %v, want an error wrapping errors.ErrUnsupported", err)
	}
	if ran {
		t.Error("main ran without a poller")
	}
	if !submitted.Load() {
		t.Error("a function submitted before Run never ran")
	}
	if err := h.Submit(func() {}); !errors.Is(err, hub.ErrStopped) {
		t.Errorf("Submit after the failed Run = %v, want ErrStopped", err)
	}
}
