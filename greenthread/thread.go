package greenthread

import (
	"errors"
	"fmt"
	"runtime/debug"
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

// ErrWaitSelf is returned by Wait (and Kill's wait) when a green thread
// waits for itself: it could never return.
var ErrWaitSelf = errors.New("greenthread: a green thread cannot wait for itself")

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

	// waiters are the green threads in Wait. The queue's first node is
	// first, inline: the common single waiter allocates nothing.
	waiters hub.WaitQueue[struct{}]
	first   hub.Waiter[struct{}]
	seeded  bool
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

// exit records the result, wakes the waiters and runs the linked
// functions, in that order (eventlet's GreenThread.main sends its exit
// event, then resolves its links). Each link runs isolated: a panic in one
// is reported through the hub's panic handler and the next one runs. A
// failure that nobody waits for and nobody is linked to goes to the panic
// handler too (Raw.ReportFailure), as eventlet prints the traceback of a
// green thread nobody joins. It runs on the ending green thread, or on its
// killer's if it never started.
func (t *Thread[T]) exit(g *hub.G) {
	t.err = g.Err()
	t.dead = true
	r := g.Hub().Raw()
	if t.timer != nil {
		r.CancelTimer(t.timer)
		t.timer = nil
	}
	links := t.links
	t.links = nil
	if t.waiters.Len() == 0 && len(links) == 0 {
		r.ReportFailure(g, t.err)
		return
	}
	t.waiters.WakeAll(struct{}{})
	for _, l := range links {
		t.runLink(g, l.fn)
	}
}

// runLink calls fn, reporting a panic through the hub's panic handler. A
// kill of the ending green thread while fn blocks is no failure.
func (t *Thread[T]) runLink(g *hub.G, fn func(*Thread[T])) {
	defer func() {
		if v := recover(); v != nil && !isKill(v) {
			g.Hub().Raw().ReportFailure(g, &hub.PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	fn(t)
}

// isKill reports whether v, a recovered panic value, is the hub's kill
// signal, which unwinds a killed green thread: an error that errors.Is
// hub.ErrKilled.
func isKill(v any) bool {
	err, ok := v.(error)
	return ok && errors.Is(err, hub.ErrKilled)
}

// G returns the hub's record of the green thread (nil if it could not be
// created).
func (t *Thread[T]) G() *hub.G { return t.g }

// Dead reports whether the green thread has ended.
func (t *Thread[T]) Dead() bool { return t.dead }

// Wait blocks the calling green thread until t ends and returns its
// result: the function's value and error, a *hub.PanicError if it panicked,
// or an error that errors.Is ErrKilled if it was killed. Any number of
// green threads may wait. A green thread waiting for itself gets
// ErrWaitSelf; a hub callback, an error that errors.Is hub.ErrNotGreen
// (unless t has ended). An interrupted wait (a greensync Timeout, a
// context) returns the interruption's error.
func (t *Thread[T]) Wait() (T, error) {
	if !t.dead {
		if err := t.wait(); err != nil {
			var zero T
			return zero, err
		}
	}
	return t.value, t.err
}

// wait parks the calling green thread until t has ended.
func (t *Thread[T]) wait() error {
	g, err := t.h.Raw().Green()
	switch {
	case err != nil:
		return err
	case g == t.g:
		return ErrWaitSelf
	}
	if !t.seeded {
		t.seeded = true
		t.waiters.Release(&t.first) // the first Push takes it: no allocation
	}
	_, err = t.waiters.Await(g, waitReason)
	return err
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
// eventlet's GreenletExit; if it recovers the kill and goes on, the hub
// kills it again at its next blocking point. Called from another green
// thread, Kill returns when t has ended (gevent's kill(block=True)), and
// returns nil only then: if the wait is interrupted (a greensync Timeout,
// a context), Kill returns the interruption's error and t may still be
// alive (the kill stands; Dead tells). From a hub callback Kill cannot
// wait: it arranges the kill and returns nil if t has ended at once (it had
// not started), else an error that errors.Is hub.ErrNotGreen. A green
// thread killing itself unwinds at once.
func (t *Thread[T]) Kill() error {
	if t.dead {
		return nil
	}
	// The hub checks the caller first; a SpawnAfter timer is cancelled by
	// exit when the kill ends the thread.
	if err := t.h.Raw().Kill(t.g); err != nil {
		return err
	}
	if t.dead {
		return nil
	}
	if err := t.wait(); err != nil {
		if errors.Is(err, hub.ErrNotGreen) {
			return fmt.Errorf("greenthread: kill arranged, not waited for: %w", err)
		}
		return err
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
// spawn_n, cheaper than Spawn. Since no one can wait for it, a panic in fn
// goes to the hub's panic handler (hub.WithPanicHandler; by default a slog
// Error with the stack).
func SpawnN(h *hub.Hub, fn func()) error {
	_, err := h.Raw().Spawn(func() error { fn(); return nil }, nil)
	return err
}

// Sleep suspends the calling green thread for d on the hub's clock
// (eventlet's sleep); d <= 0 yields.
func Sleep(h *hub.Hub, d time.Duration) error { return h.Raw().Sleep(d) }

// Yield lets every other ready green thread run before the caller goes on:
// eventlet's sleep(0).
func Yield(h *hub.Hub) error { return h.Raw().Yield() }
