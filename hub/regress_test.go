package hub_test

// Regression tests from a review of the scheduler core: each failed
// (hung, or misbehaved) before its fix.

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
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
