package hub

import (
	"iter"
	"runtime/debug"
	"sync/atomic"

	"github.com/greenhub/greenhub/timers"
)

// gState is where a G is in its life.
type gState uint8

const (
	gNew     gState = iota // a greenlet created but never switched to
	gReady                 // in the ready queue
	gRunning               // executing (or, for the loop, on the call chain)
	gParked                // suspended until Ready, a switch or a kill
	gDead                  // finished; never runs again
)

var stateNames = [...]string{"new", "ready", "running", "parked", "dead"}

func (s gState) String() string { return stateNames[s] }

// Reason says what a parked G waits for. The tracer and the hub dump show
// it; it costs nothing to pass (no allocation).
type Reason struct {
	// What is a short word: "sleep", "read", "write", "switch", "offload",
	// "wait", "yield"… Packages above the hub add their own.
	What string
	// FD is the file descriptor for "read" and "write", -1 otherwise.
	FD int
}

// Block returns a Reason that names no file descriptor.
func Block(what string) Reason { return Reason{What: what, FD: -1} }

func (r Reason) String() string {
	if r.FD >= 0 {
		return r.What + " fd " + itoa(r.FD)
	}
	return r.What
}

var (
	reasonSleep   = Block("sleep")
	reasonSwitch  = Block("switch")
	reasonOffload = Block("offload")
)

// G is one coroutine of a hub: the stack of a green thread or a greenlet
// (the Go runtime's g, greenlet's greenlet). Green threads started with
// Spawn have the hub loop as parent and are scheduled by the hub; greenlets
// made with NewGreenlet run only when switched to and hand their result to
// their parent when they end.
//
// A G's methods may be called only on its hub's thread (by the hub's green
// threads or hub callbacks), except ID, which never changes, and Name and
// SetName, which are atomic (the watchdog and tracers read names from
// their own goroutines).
type G struct {
	h      *Hub
	id     uint64
	name   atomic.Pointer[string] // atomic: the watchdog reads it from its own goroutine
	parent *G

	fn      func() error               // body of a green thread (Spawn)
	greenFn func(arg any) (any, error) // body of a greenlet (NewGreenlet)
	onExit  func(*G)

	c         *coro   // the coroutine running this G while it lives
	goroutine uintptr // getg() of that coroutine, set once when the body starts

	state       gState
	started     bool
	onChain     bool // this G's next() is on the active call chain (see transfer)
	killed      bool // killed once: a switch point outside the unwinding raises the kill again
	killPending bool // a kill is to be raised when this G next resumes
	reason      Reason
	parkSeq     uint64 // counts parks; a WakeToken from an older park is stale

	value     any   // what a switch hands over to this G
	wakeErr   error // the error the current park returns
	interrupt error // an Interrupt that found the G not parked: its next park returns it

	result any
	err    error

	owner  any         // the object a higher package wraps this G in
	locals map[any]any // green-thread-local values (greenthread.Local), dropped when the G ends

	livePrev, liveNext *G
}

// Local returns the value stored under key for this G by SetLocal, and
// whether there is one: the storage of greenthread.Local. Hub thread only.
func (g *G) Local(key any) (any, bool) {
	v, ok := g.locals[key]
	return v, ok
}

// SetLocal stores v under key for this G until it ends (a G that has ended
// stores nothing); DeleteLocal removes it. Keys are compared as map keys:
// use a pointer of the package's own. Hub thread only.
func (g *G) SetLocal(key, v any) {
	if g.state == gDead {
		return
	}
	if g.locals == nil {
		g.locals = make(map[any]any)
	}
	g.locals[key] = v
}

// DeleteLocal removes the value stored under key. Hub thread only.
func (g *G) DeleteLocal(key any) { delete(g.locals, key) }

// ID returns the G's number, unique within its hub; the hub loop is 0.
func (g *G) ID() uint64 { return g.id }

// Name returns the G's name, "" unless SetName gave it one.
func (g *G) Name() string {
	if p := g.name.Load(); p != nil {
		return *p
	}
	return ""
}

// SetName names the G for traces, dumps and watchdog reports.
func (g *G) SetName(name string) { g.name.Store(&name) }

// String returns the name, or "g<ID>" if there is none.
func (g *G) String() string {
	if g == nil {
		return "<nil>"
	}
	if name := g.Name(); name != "" {
		return name
	}
	if g.id == 0 {
		return "hub"
	}
	return "g" + itoa(int(g.id))
}

// Hub returns the hub that owns the G.
func (g *G) Hub() *Hub { return g.h }

// Dead reports whether the G has finished (returned, panicked or was
// killed).
func (g *G) Dead() bool { return g.state == gDead }

// Started reports whether the G's function has begun to run.
func (g *G) Started() bool { return g.started }

// State returns the G's state as a word: new, ready, running, parked, dead.
func (g *G) State() string { return g.state.String() }

// Reason returns what the G waits for while it is parked.
func (g *G) Reason() Reason { return g.reason }

// Err returns how the G ended: nil, the error its function returned, a
// *PanicError, or ErrKilled. It is nil while the G lives.
func (g *G) Err() error { return g.err }

// Parent returns the G that receives control and the result when this one
// ends: the hub loop for green threads.
func (g *G) Parent() *G { return g.parent }

// SetParent changes the parent, as greenlet's parent attribute does. A
// parent from another hub, or one that would make a cycle, is refused.
func (g *G) SetParent(p *G) error {
	if p == nil || p.h != g.h {
		return ErrOtherHub
	}
	for q := p; q != nil; q = q.parent {
		if q == g {
			return ErrCycle
		}
	}
	g.parent = p
	return nil
}

// Owner returns the value SetOwner stored: the higher-level object (a
// greenthread.Thread, a greenlet) that wraps this G.
func (g *G) Owner() any { return g.owner }

// SetOwner stores the higher-level object that wraps this G.
func (g *G) SetOwner(v any) { g.owner = v }

// coro is an iter.Pull coroutine that runs G bodies one after another: when
// a G ends, its coroutine goes back to the hub's pool and the next Spawn
// reuses it, stack and all, instead of creating a goroutine.
type coro struct {
	next      func() (struct{}, bool)
	stop      func()
	yield     func(struct{}) bool
	g         *G
	goroutine uintptr
	goid      int64        // only when the watchdog is on
	timer     timers.Timer // the sleep timer of whichever G runs here
}

func (h *Hub) newCoro() *coro {
	h.stats.Coroutines++
	c := &coro{}
	c.timer.F = func() { h.ready(c.g, nil) }
	c.next, c.stop = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		c.goroutine = getg()
		if h.watchdog != nil {
			c.goid = goroutineID()
		}
		for {
			g := c.g
			h.runBody(g)
			dest := h.exitTarget(g)
			c.g, g.c = nil, nil
			h.transferTo = dest
			if !h.pool.put(c) {
				// The coroutine ends and the runtime may reuse its
				// goroutine: the thread check must not match it any more.
				h.current.Store(h.loop)
				return
			}
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return c
}

// runBody runs g's function on the current coroutine and records how it
// ended. Panics are recovered here: a green thread's failure stays inside
// it.
func (h *Hub) runBody(g *G) {
	g.goroutine = g.c.goroutine
	g.started = true
	h.arrive(g)
	h.call(g, func() {
		if g.greenFn != nil {
			v := g.value
			g.value = nil
			g.result, g.err = g.greenFn(v)
		} else {
			g.err = g.fn()
		}
	})
	h.finish(g)
}

// call runs f and turns a panic into g's error: ErrKilled for a kill, a
// *PanicError with the stack for anything else.
func (h *Hub) call(g *G, f func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killSignal); ok {
				g.err = ErrKilled
			} else {
				g.err = &PanicError{Value: r, Stack: debug.Stack()}
			}
		}
	}()
	f()
}

// finish ends g: runs its exit hook, marks it dead and takes it off the
// live list. It runs on g's own coroutine when the body ended, or on the
// killer's when g is killed before it started. A failure nobody can
// observe — no exit hook, no ancestor waiting in a switch to receive it —
// goes to the panic handler.
func (h *Hub) finish(g *G) {
	if g.onExit != nil {
		h.callback(g.onExit, g)
	} else if h.switchingAncestor(g) == nil {
		h.reportFailure(g, g.err)
	}
	g.state = gDead
	g.onChain = false
	g.locals = nil // freed with the green thread, even if its record is kept
	h.unlink(g)
	if h.tracer != nil {
		h.tracer.Exit(g, g.err)
	}
}

// callback runs a hub-level function, reporting a panic through the panic
// handler instead of letting it take the hub down.
func (h *Hub) callback(f func(*G), g *G) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killSignal); ok {
				return // g was killed (again) while its exit hook blocked: it ends now
			}
			h.reportFailure(h.loop, &PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	f(g)
}

// switchingAncestor returns the nearest ancestor of g that receives g's
// result when g ends: one waiting in a switch, or a greenlet not started
// yet. nil when control goes back to the scheduler.
func (h *Hub) switchingAncestor(g *G) *G {
	for p := g.parent; p != nil && p != h.loop; p = p.parent {
		if (p.state == gParked && p.reason == reasonSwitch) || p.state == gNew {
			return p
		}
	}
	return nil
}

// exitTarget picks where control goes when g ends: the nearest ancestor
// waiting in a switch (or a greenlet not started yet), else the next green
// thread of the batch, else the hub loop.
// That ancestor's switch returns g's result; a kill is not an error there,
// as greenlet's GreenletExit is not.
func (h *Hub) exitTarget(g *G) *G {
	if p := h.switchingAncestor(g); p != nil {
		p.value = g.result
		p.wakeErr = g.err
		if g.err == ErrKilled {
			p.wakeErr = nil
		}
		p.state = gRunning
		if h.tracer != nil {
			h.tracer.Switch(g, p)
		}
		return p
	}
	n := h.schedule()
	if n == nil {
		n = h.loop
	}
	if h.tracer != nil {
		h.tracer.Switch(g, n)
	}
	return n
}

// spawn creates a green thread and queues it: the hub-thread part of Spawn.
func (h *Hub) spawn(fn func() error, onExit func(*G)) *G {
	g := h.newG(h.loop)
	g.fn, g.onExit = fn, onExit
	g.state = gReady
	h.runq.push(g)
	if h.tracer != nil {
		h.tracer.Spawn(g)
	}
	return g
}

func (h *Hub) newG(parent *G) *G {
	h.nextID++
	h.stats.Spawned++
	g := &G{h: h, id: h.nextID, parent: parent}
	if h.liveTail == nil {
		h.liveHead = g
	} else {
		h.liveTail.liveNext = g
		g.livePrev = h.liveTail
	}
	h.liveTail = g
	h.live++
	return g
}

func (h *Hub) unlink(g *G) {
	if g.livePrev != nil {
		g.livePrev.liveNext = g.liveNext
	} else if h.liveHead == g {
		h.liveHead = g.liveNext
	} else {
		return // not on the list
	}
	if g.liveNext != nil {
		g.liveNext.livePrev = g.livePrev
	} else {
		h.liveTail = g.livePrev
	}
	g.livePrev, g.liveNext = nil, nil
	h.live--
}
