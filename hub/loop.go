package hub

import (
	"bytes"
	"fmt"
	"runtime"
	"time"
)

// Mode says how much Step runs, as libuv's uv_run modes do.
type Mode int

const (
	// RunDefault runs until the run is over: main has returned (and, with
	// WaitForAll, every green thread), or the hub cannot go on (a failed
	// poll, a deadlock).
	RunDefault Mode = iota
	// RunOnce runs one turn of the loop: due timers, the green threads
	// ready when it began, one poll — blocking if nothing is ready, until
	// the earliest timer or an event — and the door.
	RunOnce
	// RunNoWait runs one turn without ever blocking: the poll has timeout
	// 0. For embedding a hub in another loop (a GUI, a notebook) that
	// calls Step whenever it has time.
	RunNoWait
)

// Run runs the hub on the calling goroutine, locked to its OS thread, until
// main returns, and returns main's error (a *PanicError if main panicked).
// main runs as the hub's first green thread. When it returns, the green
// threads still alive are killed and unwound (their deferred calls run),
// offloaded work is waited for while the door keeps serving, functions
// still queued by Submit run, every file descriptor the hub owns is closed,
// and no goroutine is left behind. With the WaitForAll option Run instead
// waits for every green thread to end on its own.
//
// Run returns early with an error wrapping ErrDeadlock when nothing can
// ever wake any green thread again, and with the poller's error when the
// poll system call fails; the green threads are unwound as above.
//
// Run is Begin, Step(RunDefault) and Close. A hub runs once.
func (h *Hub) Run(main func() error) error {
	if err := h.Begin(main); err != nil {
		return err
	}
	_, err := h.Step(RunDefault)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	return err
}

// Begin starts a run that the caller drives with Step and ends with Close:
// it locks the calling goroutine to its OS thread (Close unlocks it),
// creates the poller and queues main as the first green thread. Step and
// Close must be called from the same goroutine; the green threads are
// coroutines of it and the Go runtime resumes them only on its thread.
func (h *Hub) Begin(main func() error) error {
	if !h.state.CompareAndSwap(stateNew, stateRunning) {
		return ErrRunning
	}
	runtime.LockOSThread()
	p, err := h.newPoller()
	if err != nil {
		runtime.UnlockOSThread()
		h.state.Store(stateStopped)
		for _, it := range h.door.close() {
			h.runItem(it) // Submit promised they run
		}
		return fmt.Errorf("hub: %w", err)
	}
	h.poller = p
	h.waker.Store(&h.poller)
	h.wakeSig.Store(0)
	h.loop.goroutine = getg()
	h.loopGoroutine.Store(h.loop.goroutine)
	h.current.Store(h.loop)
	registerRunning(h)
	if h.virtual != nil {
		h.stopVirt = h.virtual.OnAdvance(h.wake)
	}
	if h.watchdog != nil {
		h.watchdog.start(h)
	}
	h.spawn(main, func(g *G) {
		h.mainDone = true
		h.mainErr = g.err
	})
	return nil
}

// Step runs the loop as mode says and reports whether the run goes on
// (main has not returned). Its error wraps ErrDeadlock or the poller's
// error when the hub cannot go on; Close then ends the run. Only the
// goroutine that called Begin may call Step; others get ErrOutside.
func (h *Hub) Step(mode Mode) (alive bool, err error) {
	if err := h.onLoop(); err != nil {
		return false, err
	}
	h.stepping = mode != RunDefault
	for !h.done() && h.err == nil {
		h.turn(mode != RunNoWait)
		if mode != RunDefault {
			break
		}
	}
	h.stepping = false
	return !h.done() && h.err == nil, h.err
}

// done reports whether the run's work is over: main returned and, with
// WaitForAll, every other green thread too.
func (h *Hub) done() bool {
	return h.mainDone && (!h.waitAll || h.live == 0)
}

// leaving reports whether the loop running now — Step's, or Close's — ends
// after this turn, so nothing may block.
func (h *Hub) leaving() bool {
	if h.stopping {
		return h.live == 0 && h.offload.inflight == 0
	}
	return h.done() || h.err != nil
}

// turn is one iteration of the loop: the phases in order. block says
// whether the poll may wait.
func (h *Hub) turn(block bool) {
	h.stats.Turns++
	h.fireTimers()
	h.runBatch()
	h.pollIO(h.pollTimeout(block))
	h.autoJump()
	h.openDoor()
}

// fireTimers fires the timers that are due. The clock is read once, and
// only if a timer is pending; at most the timers pending when the phase
// began fire, so a timer that re-arms itself for "now" cannot hold the
// loop.
func (h *Hub) fireTimers() {
	h.nowOK = false
	n := h.timers.Len()
	if n == 0 {
		return
	}
	h.now, h.nowOK = h.clock.Now(), true
	fired := 0 // counted only for the tracer
	for ; n > 0; n-- {
		t := h.timers.PopDue(h.now)
		if t == nil {
			break
		}
		if h.tracer != nil {
			if fired == 0 {
				h.tracer.PhaseBegin(PhaseTimers)
			}
			fired++
			h.tracer.TimerFire(t)
		}
		h.runCallback(t.F)
	}
	if fired > 0 {
		h.tracer.PhaseEnd(PhaseTimers, fired)
	}
}

// runBatch starts a batch — the green threads ready now — and runs it: the
// loop resumes the one schedule picks; each hands the thread on when it
// parks or yields, so the loop gets control back only when schedule has
// nothing for it.
func (h *Hub) runBatch() {
	h.beginBatch()
	g := h.schedule()
	if g == nil {
		return
	}
	if h.tracer != nil {
		h.tracer.Switch(h.loop, g)
	}
	h.transfer(h.loop, g)
	if h.watchdog != nil {
		h.watchdog.running(h.watchdog.loopGoid)
	}
}

// noPoll is the poll timeout that skips the poll phase altogether.
const noPoll = time.Duration(-2)

// pollTimeout computes how long the poll may wait: not at all while green
// threads are ready, the door has work, the hub is unwinding or the caller
// may not block; until the earliest timer if one is pending; else until an
// event or a wake-up — unless nothing can ever come, which is a deadlock.
func (h *Hub) pollTimeout(block bool) time.Duration {
	if h.leaving() {
		return noPoll // the loop is about to end: wait for nothing
	}
	if !block || h.runq.len() > 0 || h.door.pending.Load() || (h.stopping && h.live > 0) {
		return 0
	}
	t := h.timers.Peek()
	switch {
	case t == nil:
		if h.deadlocked() {
			h.err = h.deadlockError()
			return noPoll
		}
		return -1
	case h.virtual == nil:
		if !h.nowOK {
			h.now, h.nowOK = h.clock.Now(), true
		}
		return max(t.When()-h.now, 0)
	case h.virtual.AutoJump(), t.When() <= h.clock.Now():
		// Auto-jump: the clock moves to the timer after the poll (see
		// autoJump). Due: advanced on the hub's own thread, which does
		// not wake itself.
		return 0
	}
	return -1 // a virtual clock someone else advances: OnAdvance wakes the poll
}

// pollIO polls for I/O with the timeout and dispatches the events. A poll
// with timeout 0 and nothing to find — no fd registered, no wake-up
// outstanding — is skipped: it would cost a system call for nothing.
func (h *Hub) pollIO(timeout time.Duration) {
	if timeout == noPoll {
		return
	}
	h.ticks = 0
	if timeout == 0 && h.nfds == 0 && h.wakeSig.Load() == 0 {
		h.stats.Skipped++
		return
	}
	h.stats.Polls++
	if h.tracer != nil {
		h.tracer.PollBegin(timeout)
	}
	if h.watchdog != nil {
		h.watchdog.polling.Store(true)
	}
	events, err := h.poller.wait(timeout)
	if h.watchdog != nil {
		h.watchdog.polling.Store(false)
		h.watchdog.progress.Add(1)
	}
	if err != nil && h.err == nil {
		h.err = fmt.Errorf("hub: poll: %w", err)
	}
	if h.tracer != nil {
		h.tracer.PollEnd(len(events))
	}
	h.dispatch(events)
}

// periodicPoll is the poll between two batches: timeout 0, and only when
// pollEvery green threads have been resumed since the last poll, so a
// switch never pays for a system call and I/O is never starved.
func (h *Hub) periodicPoll() {
	if h.ticks >= pollEvery {
		h.pollIO(0)
	}
}

// dispatch makes the green threads whose file descriptors are ready
// runnable and records the readiness on the FDs.
func (h *Hub) dispatch(events []event) {
	for i := range events {
		ev := &events[i]
		if ev.wake {
			h.wakeSig.Store(0)
			continue
		}
		d := h.lookup(ev.fd, ev.seq, ev.hasSeq)
		if d == nil {
			continue // closed since the kernel queued the event
		}
		if ev.hup {
			d.hup = true
		}
		if ev.readable {
			d.readReady = true
			h.ready(d.reader, nil)
		}
		if ev.writable {
			d.writeReady = true
			h.ready(d.writer, nil)
		}
	}
}

// autoJump moves a virtual clock in auto-jump mode to the earliest
// deadline when nothing else can happen: time passes only when the hub
// would otherwise wait for it.
func (h *Hub) autoJump() {
	if h.virtual == nil || !h.virtual.AutoJump() || h.runq.len() > 0 || h.door.pending.Load() || h.leaving() {
		return
	}
	if t := h.timers.Peek(); t != nil && t.When() > h.clock.Now() {
		h.virtual.AdvanceTo(t.When())
	}
}

// openDoor runs what other goroutines submitted, a bounded share per turn
// or batch (doorBudget; see schedule), so that a goroutine flooding Submit
// cannot starve timers, I/O or the green threads already ready.
func (h *Hub) openDoor() {
	if !h.door.pending.Load() {
		return
	}
	items := h.door.take(doorBudget)
	h.stats.Submitted += uint64(len(items))
	traced := h.tracer != nil && len(items) > 0
	if traced {
		h.tracer.PhaseBegin(PhaseDoor)
	}
	for i := range items {
		h.runItem(items[i])
		items[i] = doorItem{}
	}
	if traced {
		h.tracer.PhaseEnd(PhaseDoor, len(items))
	}
	h.door.giveBack(items)
}

// deadlocked reports whether nothing can ever wake any green thread: none
// is ready or due to be, no timer is pending (the caller checked), no fd
// has a waiter, no offloaded call or door item is in flight and no other
// goroutine holds a reference (Ref). The door is read after the references,
// so a goroutine that submits and then drops its reference is seen.
func (h *Hub) deadlocked() bool {
	return h.live > 0 && h.fdWaiters == 0 && h.offload.inflight == 0 &&
		h.refs.Load() == 0 && !h.door.pending.Load() && h.wakeSig.Load() == 0
}

func (h *Hub) deadlockError() error {
	var b bytes.Buffer
	h.dump(&b)
	return fmt.Errorf("%w\n%s", ErrDeadlock, b.String())
}

// wake interrupts a blocked poll so the loop looks at its door. Any
// goroutine may call it; concurrent calls make one system call between two
// polls. The hub's own thread never needs waking: it looks at the door
// before it next blocks.
func (h *Hub) wake() {
	if _, err := h.caller(); err == nil {
		return
	}
	h.wakePoller()
}

// wakePoller is wake for a caller known not to be on the hub's thread.
func (h *Hub) wakePoller() {
	if h.wakeSig.CompareAndSwap(0, 1) {
		h.wakeMu.RLock()
		if p := h.waker.Load(); p != nil {
			if err := (*p).wake(); err != nil {
				h.logger.Error("hub: wake-up failed", "err", err)
			}
		}
		h.wakeMu.RUnlock()
	}
}

// Close ends a run begun with Begin: it kills the green threads still
// alive and unwinds them (their deferred calls run), waits for offloaded
// work while still serving the door, runs what is left in the door,
// closes every file descriptor the hub owns and the poller, stops the
// hub's goroutines and unlocks the OS thread. It returns main's error if
// main has returned, else nil. Only the goroutine that called Begin may
// call it.
func (h *Hub) Close() error {
	if err := h.onLoop(); err != nil {
		return err
	}
	h.stopping = true
	returned := h.mainDone // main killed below has not returned: its ErrKilled is not returned
	for h.live > 0 || h.offload.inflight > 0 {
		h.killAll()
		h.offload.inflight -= h.offload.dropQueued()
		h.turn(true)
	}
	h.offload.close()
	h.state.Store(stateStopped)
	unregisterRunning(h)
	for _, it := range h.door.close() {
		h.runItem(it)
	}
	for _, d := range h.fds {
		if d != nil {
			d.shut()
		}
	}
	h.current.Store(h.loop) // stopped coroutines' goroutines may be reused
	for c := h.pool.get(); c != nil; c = h.pool.get() {
		c.stop()
	}
	h.wakeMu.Lock()
	h.waker.Store(nil)
	h.wakeMu.Unlock()
	if err := h.poller.close(); err != nil {
		h.logger.Error("hub: closing the poller", "err", err)
	}
	if h.watchdog != nil {
		h.watchdog.stop()
	}
	if h.stopVirt != nil {
		h.stopVirt()
	}
	h.current.Store(nil)
	h.loopGoroutine.Store(0)
	runtime.UnlockOSThread()
	if !returned {
		return nil
	}
	return h.mainErr
}

// killAll kills every live green thread that has no kill waiting to be
// delivered — again, if one blocked in a deferred call while the last kill
// unwound it. Killing one that never started ends it at once and runs its
// exit hook, which may end others: the pass then starts again from the
// head of the list.
func (h *Hub) killAll() {
	for g := h.liveHead; g != nil; {
		if g.killPending {
			g = g.liveNext
			continue
		}
		started := g.started
		h.kill(g)
		if started {
			g = g.liveNext
		} else {
			g = h.liveHead
		}
	}
}
