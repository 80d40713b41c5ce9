package hub

import (
	"iter"
	"runtime/debug"

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
// threads or hub callbacks), except ID, which never changes.
type G struct {
	h      *Hub
	id     uint64
	name   string
	parent *G

	fn      func() error               // body of a green thread (Spawn)
	greenFn func(arg any) (any, error) // body of a greenlet (NewGreenlet)
	onExit  func(*G)

	c         *coro   // the coroutine running this G while it lives
	goroutine uintptr // getg() of that coroutine, set once when the body starts

	state       gState
	started     bool
	onChain     bool // this G's next() is on the active call chain (see transfer)
	killPending bool // a kill is to be raised when this G next resumes
	reason      Reason
	parkSeq     uint64 // counts parks; a WakeToken from an older park is stale

	value     any   // what a switch hands over to this G
	wakeErr   error // the error the current park returns
	interrupt error // an Interrupt that found the G not parked: its next park returns it

	result any
	err    error

	owner any // the object a higher package wraps this G in

	livePrev, liveNext *G
}

// ID returns the G's number, unique within its hub; the hub loop is 0.
func (g *G) ID() uint64 { return g.id }

// Name returns the G's name, "" unless SetName gave it one.
func (g *G) Name() string { return g.name }

// SetName names the G for traces, dumps and watchdog reports.
func (g *G) SetName(name string) { g.name = name }

// String returns the name, or "g<ID>" if there is none.
func (g *G) String() string {
	if g == nil {
		return "<nil>"
	}
	if g.name != "" {
		return g.name
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

// transfer moves control from cur, the G running now, to target, and
// returns when control comes back to cur.
//
// The coroutines form a call chain: the hub loop at the bottom, and each G
// that resumed another with next() below the one it resumed. A target off
// the chain (suspended in yield, or never run) is resumed with next(): one
// coroutine switch, and cur joins the chain. A target on the chain is below
// cur, so cur yields and the chain unwinds until it reaches the target.
// h.transferTo carries the destination through the unwinding. A switch to
// the G that resumed you, or to one you can resume, costs exactly one
// coroutine switch, like iter.Pull itself; each G joins and leaves the
// chain once per switch, so the unwinding never costs more than the
// switches that built the chain.
func (h *Hub) transfer(cur, target *G) {
	if target == cur {
		return
	}
	for {
		h.transferTo = target
		if target.onChain {
			cur.onChain = false
			cur.c.yield(struct{}{})
		} else {
			target.onChain = true
			if target.c == nil {
				h.attach(target)
			}
			target.c.next()
		}
		if target = h.transferTo; target == cur {
			break
		}
	}
	if cur != h.loop {
		h.arrive(cur)
	}
}

// attach gives target, about to run for the first time, a coroutine: a
// pooled one, or a new one.
func (h *Hub) attach(target *G) {
	c := h.pool.get()
	if c == nil {
		c = h.newCoro()
	}
	c.g, target.c = target, c
}

// arrive records that g now runs: the thread check and the watchdog read
// this.
func (h *Hub) arrive(g *G) {
	g.state = gRunning
	h.current.Store(g)
	if h.watchdog != nil {
		h.watchdog.running(g.c.goid)
	}
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
	g.killPending = false
	g.onChain = false
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
	if n := h.pickNext(); n != nil {
		if h.tracer != nil {
			h.tracer.Switch(g, n)
		}
		return n
	}
	return h.loop
}

// park suspends g, the running G, until Ready, a switch or a kill resumes
// it. It returns the error the waker passed, and whether a kill is to be
// raised: the caller undoes its registrations first, then calls raiseKill.
func (h *Hub) park(g *G, why Reason) (error, bool) {
	g.parkSeq++ // first, so a token taken for this park is stale even if it never sleeps
	if g.killPending {
		g.killPending = false
		return nil, true
	}
	if err := g.interrupt; err != nil {
		g.interrupt = nil
		return err, false
	}
	g.state = gParked
	g.reason = why
	if h.tracer != nil {
		h.tracer.Block(g, why)
	}
	h.transfer(g, h.leave(g))
	g.reason = Reason{}
	err := g.wakeErr
	g.wakeErr = nil
	if g.killPending {
		g.killPending = false
		return err, true
	}
	return err, false
}

// raiseKill unwinds the running green thread as a kill does: deferred calls
// run, and the hub reports ErrKilled.
func raiseKill() { panic(killSignal{}) }

// ready moves a parked g to the back of the ready queue; Park returns err.
// It reports false, and does nothing, if g is not parked.
func (h *Hub) ready(g *G, err error) bool {
	if g == nil || g.state != gParked {
		return false
	}
	g.state = gReady
	g.wakeErr = err
	h.runq.push(g)
	if h.tracer != nil {
		h.tracer.Wake(g)
	}
	return true
}

// kill arranges for g to unwind. See Hub.Kill.
func (h *Hub) kill(g *G) {
	switch {
	case g.state == gDead:
	case !g.started:
		// It never runs. A spawned G stays in the ready queue as dead
		// and the loop skips it.
		if g.err == nil {
			g.err = ErrKilled
		}
		g.state = gDead
		h.finish(g)
	case g.state == gRunning:
		if g == h.current.Load() {
			raiseKill()
		}
	default: // ready, or parked: wake it at its blocking point
		g.killPending = true
		h.ready(g, ErrKilled)
	}
}

// switchTo is the greenlet-level switch: it suspends the running G and
// resumes target, handing it v (or err, which target's switch returns).
func (h *Hub) switchTo(cur, target *G, v any, err error) (any, error) {
	switch {
	case target.h != h:
		return nil, ErrOtherHub
	case target == cur:
		return v, err
	case target.state == gNew:
	case target.state == gParked && target.reason == reasonSwitch:
	default:
		return nil, ErrNotSwitchable
	}
	if cur.killPending {
		cur.killPending = false
		raiseKill()
	}
	target.value, target.wakeErr = v, err
	target.state = gRunning
	cur.state = gParked
	cur.reason = reasonSwitch
	cur.parkSeq++
	if h.tracer != nil {
		h.tracer.Switch(cur, target)
	}
	h.transfer(cur, target)
	cur.reason = Reason{}
	v, err = cur.value, cur.wakeErr
	cur.value, cur.wakeErr = nil, nil
	if cur.killPending {
		cur.killPending = false
		raiseKill()
	}
	return v, err
}
