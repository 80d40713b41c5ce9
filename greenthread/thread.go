package greenthread

import (
	"errors"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// ErrKilled is the error of a killed green thread (eventlet's
// GreenletExit); it is hub.ErrKilled.
var ErrKilled = hub.ErrKilled

// ErrStarted is returned by Cancel when the green thread has already
// started; use Kill.
var ErrStarted = errors.New("greenthread: already started")

var waitReason = hub.Block("wait")

// Thread is a green thread with a result: eventlet's GreenThread. Its
// methods are for the hub's green threads; Dead also for hub callbacks.
type Thread[T any] struct {
	h       *hub.Hub
	g       *hub.G
	timer   *timers.Timer // SpawnAfter's, until it fires
	value   T
	err     error
	dead    bool
	links   []link[T]
	linkSeq int
	waiter  *hub.G   // the first green thread in Wait, kept inline (no allocation)
	waiters []*hub.G // the others, in arrival order
}

type link[T any] struct {
	id int
	fn func(*Thread[T])
}

// Spawn starts fn in a new green thread of h, queued behind the green
// threads already ready, and returns its Thread: eventlet's spawn. If the
// thread cannot be created (the caller is not on h's thread, or h is
// shutting down) the Thread returned is already dead and Wait reports why.
func Spawn[T any](h *hub.Hub, fn func() (T, error)) *Thread[T] {
	t := &Thread[T]{h: h}
	g, err := h.Raw().Spawn(func() error {
		v, err := fn()
		t.value = v
		return err
	}, exitHook)
	if err != nil {
		t.dead, t.err = true, err
		return t
	}
	t.g = g
	g.SetOwner(t)
	return t
}

// SpawnAfter is Spawn after d has passed on the hub's clock: eventlet's
// spawn_after. The green thread exists at once; Cancel before d has passed
// means it never runs.
func SpawnAfter[T any](h *hub.Hub, d time.Duration, fn func() (T, error)) *Thread[T] {
	t := &Thread[T]{h: h}
	g, err := h.Raw().NewGreenlet(func(any) (any, error) {
		v, err := fn()
		t.value = v
		return nil, err
	}, h.Raw().Loop(), exitHook)
	if err != nil {
		t.dead, t.err = true, err
		return t
	}
	t.g = g
	g.SetOwner(t)
	t.timer = h.Raw().AfterFunc(d, func() {
		t.timer = nil
		if err := h.Raw().Start(g); err != nil && !g.Dead() {
			h.Raw().Kill(g) // the hub is stopping: the thread never runs
		}
	})
	return t
}

// exiter is what every Thread[T] is to the exit hook.
type exiter interface{ exit(g *hub.G) }

// exitHook is the hub-level exit hook of every Thread. It is one plain
// function, not one per T: a generic function value would allocate.
func exitHook(g *hub.G) { g.Owner().(exiter).exit(g) }

// exit records the result, runs the linked functions and wakes the
// waiters. It runs on the ending green thread, or on its killer's if it
// never started.
func (t *Thread[T]) exit(g *hub.G) {
	t.err = g.Err()
	t.dead = true
	if t.timer != nil {
		g.Hub().Raw().CancelTimer(t.timer)
		t.timer = nil
	}
	links := t.links
	t.links = nil
	for _, l := range links {
		l.fn(t)
	}
	if t.waiter != nil {
		g.Hub().Raw().Ready(t.waiter, nil)
		t.waiter = nil
	}
	for _, w := range t.waiters {
		g.Hub().Raw().Ready(w, nil)
	}
	t.waiters = nil
}

// G returns the hub's record of the green thread (nil if it could not be
// created).
func (t *Thread[T]) G() *hub.G { return t.g }

// Dead reports whether the green thread has ended.
func (t *Thread[T]) Dead() bool { return t.dead }

// Wait blocks the calling green thread until t ends and returns its
// result: the function's value and error, a *hub.PanicError if it panicked,
// or an error that errors.Is ErrKilled if it was killed. Any number of
// green threads may wait. A green thread waiting for itself gets an error.
func (t *Thread[T]) Wait() (T, error) {
	for !t.dead {
		cur := t.h.Raw().Current()
		switch {
		case cur == nil:
			var zero T
			_, err := t.h.Raw().Token() // the precise reason: outside, callback, stopped
			return zero, err
		case cur == t.g:
			var zero T
			return zero, errWaitSelf
		}
		if err := t.park(cur); err != nil {
			var zero T
			return zero, err
		}
	}
	return t.value, t.err
}

var errWaitSelf = errors.New("greenthread: a green thread cannot wait for itself")

func (t *Thread[T]) park(cur *hub.G) error {
	if t.waiter == nil {
		t.waiter = cur
	} else {
		t.waiters = append(t.waiters, cur)
	}
	defer t.removeWaiter(cur)
	return t.h.Raw().Park(waitReason)
}

func (t *Thread[T]) removeWaiter(g *hub.G) {
	if t.waiter == g {
		t.waiter = nil
		return
	}
	for i, w := range t.waiters {
		if w == g {
			t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
			return
		}
	}
}

// Link arranges for fn to be called with t when t ends, on the ending
// green thread (eventlet's link). If t has ended already fn is called at
// once. The returned id is for Unlink.
func (t *Thread[T]) Link(fn func(*Thread[T])) int {
	t.linkSeq++
	if t.dead {
		fn(t)
		return t.linkSeq
	}
	t.links = append(t.links, link[T]{id: t.linkSeq, fn: fn})
	return t.linkSeq
}

// Unlink removes a function added by Link and reports whether it was still
// pending.
func (t *Thread[T]) Unlink(id int) bool {
	for i, l := range t.links {
		if l.id == id {
			t.links = append(t.links[:i], t.links[i+1:]...)
			return true
		}
	}
	return false
}

// Kill ends t: if it has not started it never runs; if it is blocked it is
// woken at its blocking point and unwound (deferred calls run), like
// eventlet's GreenletExit. Called from another green thread, Kill returns
// when t has ended (gevent's kill(block=True)); from a hub callback it only
// arranges the kill. A green thread killing itself unwinds at once.
func (t *Thread[T]) Kill() error {
	if t.dead {
		return nil
	}
	// The hub checks the caller first; a SpawnAfter timer is cancelled by
	// exitThread when the kill ends the thread.
	if err := t.h.Raw().Kill(t.g); err != nil {
		return err
	}
	if t.h.Raw().Current() != nil {
		t.Wait()
	}
	return nil
}

// Cancel kills t only if it has not started yet (eventlet's cancel): for a
// SpawnAfter thread before its time. It returns ErrStarted if t is running
// or has run.
func (t *Thread[T]) Cancel() error {
	if t.dead {
		if t.g != nil && t.g.Started() {
			return ErrStarted
		}
		return nil
	}
	if t.g.Started() {
		return ErrStarted
	}
	return t.Kill()
}

// SpawnN starts fn in a new green thread with no result object: eventlet's
// spawn_n, cheaper than Spawn. A panic in fn is logged through the hub's
// logger, since no one can Wait for it.
func SpawnN(h *hub.Hub, fn func()) error {
	_, err := h.Raw().Spawn(func() error { fn(); return nil }, logFailure)
	return err
}

func logFailure(g *hub.G) {
	var p *hub.PanicError
	if errors.As(g.Err(), &p) {
		g.Hub().Raw().Logger().Error("greenthread: green thread panicked", "g", g.String(), "panic", p.Value, "stack", string(p.Stack))
	}
}

// Sleep suspends the calling green thread for d on the hub's clock
// (eventlet's sleep); d <= 0 yields.
func Sleep(h *hub.Hub, d time.Duration) error { return h.Raw().Sleep(d) }

// Yield lets every other ready green thread run before the caller goes on:
// eventlet's sleep(0).
func Yield(h *hub.Hub) error { return h.Raw().Yield() }
