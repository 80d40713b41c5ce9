package hub

import (
	"runtime"
	"runtime/debug"
	"time"
)

// This file is the scheduler: the one function that decides what runs
// next (schedule, Go's schedule()), reached from the loop, park, yield and
// exit; the switch itself (transfer); and the park/ready/kill/interrupt
// state changes of a G.

// schedule returns the green thread to run next: the next of the current
// batch or, when the batch is over, the first of a new one after the rest
// of the turn — the periodic poll, the door, the due timers — has run right
// here, without blocking, on the stack of whoever is leaving. It returns
// nil when the loop must take over: nothing is ready (only the loop blocks
// in poll), the run is ending, or Step runs one turn at a time.
//
// A batch cut short by the periodic poll goes on, after the poll and the
// due timers, to its end: the door is opened once per batch, so what it
// lets in (up to doorBudget spawns or wake-ups) joins the ready queue no
// faster than batches drain it, and a batch, never extended, always ends.
// Opened every pollEvery resumptions, a Submit flood grew the ready queue
// without bound and held a woken green thread behind it.
func (h *Hub) schedule() *G {
	for {
		if g := h.nextInBatch(); g != nil {
			return g
		}
		if h.tracer != nil {
			h.endBatchPhase()
		}
		if h.stepping || h.leaving() {
			return nil
		}
		h.periodicPoll()
		if h.batch > 0 { // cut short by the periodic poll
			h.fireTimers()
			continue
		}
		h.openDoor()
		h.stats.Turns++
		h.fireTimers()
		if !h.beginBatch() {
			return nil
		}
	}
}

// beginBatch makes the green threads ready now the batch and reports
// whether there are any.
func (h *Hub) beginBatch() bool {
	h.batch = h.runq.len()
	return h.batch > 0
}

// nextInBatch pops the next green thread of the current batch, or returns
// nil when the batch is over or the periodic poll is due.
func (h *Hub) nextInBatch() *G {
	for h.batch > 0 && h.ticks < pollEvery {
		h.batch--
		g := h.runq.pop()
		if g.state != gReady { // killed before it started
			continue
		}
		h.ticks++
		h.stats.Resumes++
		if h.tracer != nil && !h.batchTraced {
			h.batchTraced, h.batchFrom = true, h.stats.Resumes-1
			h.tracer.PhaseBegin(PhaseBatch)
		}
		return g
	}
	return nil
}

// endBatchPhase tells the tracer that the batch phase under way, if any,
// is over: nextInBatch found the batch over or the periodic poll due.
func (h *Hub) endBatchPhase() {
	if h.batchTraced {
		h.batchTraced = false
		h.tracer.PhaseEnd(PhaseBatch, int(h.stats.Resumes-h.batchFrom))
	}
}

// leave picks where the thread goes when cur, the green thread running
// now, has just parked or queued itself: the next green thread (one
// coroutine switch, where going through the loop would take two), cur
// itself if it is the next, or the loop. The caller transfers there.
func (h *Hub) leave(cur *G) *G {
	g := h.schedule()
	switch g {
	case cur:
		cur.state = gRunning
		if h.watchdog != nil {
			h.watchdog.progress.Add(1) // the loop's phases ran: not a stall
		}
		if h.tracer != nil {
			h.tracer.Resume(cur) // runs on, with no switch
		}
		return cur
	case nil:
		g = h.loop
	}
	if h.tracer != nil {
		h.tracer.Switch(cur, g)
	}
	return g
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

// arrive records that g now runs: the caller check and the watchdog read
// this.
func (h *Hub) arrive(g *G) {
	g.state = gRunning
	h.current.Store(g)
	if h.watchdog != nil {
		h.watchdog.running(g.c.goid)
	}
	if h.tracer != nil {
		h.tracer.Resume(g)
	}
}

// park suspends g, the running G, until Ready, an interrupt or a kill
// resumes it. It returns the error the waker passed, and whether a kill is
// to be raised: the caller undoes its registrations first, then calls
// raiseKill. A kill or interrupt already pending returns at once.
func (h *Hub) park(g *G, why Reason) (error, bool) {
	g.parkSeq++ // first, so a token taken for this park is stale even if it never sleeps
	if g.killNow() {
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
	return err, g.takeKill()
}

// raiseKill unwinds the running green thread as a kill does: deferred calls
// run, and the hub reports ErrKilled.
func raiseKill() { panic(killSignal{}) }

// ready moves a parked g to the back of the ready queue; its park returns
// err. It reports false, and does nothing, if g is not parked.
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

func (h *Hub) readyToken(t WakeToken, err error) bool {
	if t.g == nil || t.g.parkSeq != t.seq {
		return false
	}
	return h.ready(t.g, err)
}

// yield is Raw.Yield: a switch point like any park, so a pending kill or
// interrupt is delivered before and after it.
func (h *Hub) yield() error {
	g, err := h.green()
	if err != nil {
		return err
	}
	if err := g.pendingKillOrInterrupt(); err != nil {
		return err
	}
	g.state = gReady
	h.runq.push(g)
	h.transfer(g, h.leave(g))
	return g.pendingKillOrInterrupt()
}

// pendingKillOrInterrupt raises a kill due at this switch point (see
// killNow), or returns (and clears) a pending interrupt.
func (g *G) pendingKillOrInterrupt() error {
	if g.killNow() {
		raiseKill()
	}
	if err := g.interrupt; err != nil {
		g.interrupt = nil
		return err
	}
	return nil
}

// sleep is Raw.Sleep.
func (h *Hub) sleep(d time.Duration) error {
	if d <= 0 {
		return h.yield()
	}
	g, err := h.green()
	if err != nil {
		return err
	}
	t := &g.c.timer
	h.timers.Schedule(t, saturatingAdd(h.clock.Now(), d))
	err, killed := h.park(g, reasonSleep)
	h.timers.Cancel(t)
	if killed {
		raiseKill()
	}
	return err
}

// killNow reports whether a kill is to be raised at the switch point g is
// at: one delivered and not raised yet, or an earlier one that g recovered
// from and went on (the kill is sticky). A killed G whose deferred calls
// block while the kill unwinds it is let block: unwinding, not going on.
func (g *G) killNow() bool {
	if g.takeKill() {
		return true
	}
	return g.killed && !unwinding()
}

// takeKill reports, and clears, a kill delivered to g and not raised yet.
func (g *G) takeKill() bool {
	if g.killPending {
		g.killPending = false
		return true
	}
	return false
}

// unwinding reports whether the calling goroutine is running deferred
// calls for a panic: runtime.gopanic is on its stack. Only switch points
// of killed green threads ask, so its cost (a stack walk) is off every
// fast path.
func unwinding() bool {
	var pcs [256]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs[:])])
	for {
		f, more := frames.Next()
		if f.Function == "runtime.gopanic" {
			return true
		}
		if !more {
			return false
		}
	}
}

// kill arranges for g to unwind (Raw.Kill). The kill is sticky: a green
// thread that recovers it and goes on is killed again at each of its
// switch points until it ends.
func (h *Hub) kill(g *G) {
	switch {
	case g.state == gDead:
	case !g.started:
		// It never runs. A spawned G stays in the ready queue as dead
		// and the scheduler skips it.
		if g.err == nil {
			g.err = ErrKilled
		}
		g.killed = true
		g.state = gDead
		h.finish(g)
	case g.state == gRunning:
		g.killed = true
		if g == h.current.Load() && !h.inCallback {
			raiseKill()
		}
	default: // ready, or parked: wake it at its blocking point
		g.killed, g.killPending = true, true
		h.ready(g, ErrKilled)
	}
}

// interrupt is Raw.Interrupt: a parked g — whatever it waits on, a greenlet
// switch included — is woken with err; a ready or running one finds err
// at its next switch point.
func (h *Hub) interrupt(g *G, err error) bool {
	if g.state == gDead || g == h.loop {
		return false
	}
	if g.state == gParked {
		g.interrupt = nil
		return h.ready(g, err)
	}
	g.interrupt = err
	return true
}

// runCallback runs a hub callback (a timer function, a submitted function).
// It may run on the loop or, between batches, on the stack of the green
// thread that is leaving (see schedule): inCallback makes blocking calls
// refuse it either way, and a panic goes to the panic handler.
func (h *Hub) runCallback(f func()) {
	defer func() {
		h.inCallback = false
		if r := recover(); r != nil {
			h.reportFailure(h.loop, &PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	h.inCallback = true
	f()
}
