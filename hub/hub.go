package hub

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/greenhub/greenhub/timers"
)

// pollEvery is how many green threads the hub may resume in a row before it
// polls for I/O (with timeout 0) even though its ready queue is not empty:
// the scheduling-tick interval of Go's scheduler and Tokio.
const pollEvery = 61

const (
	stateNew int32 = iota
	stateRunning
	stateStopped
)

// Hub is an event loop on one OS thread: a poller, a min-heap of timers and
// a FIFO ready queue, scheduling green threads that run until they block,
// sleep or yield. Create one with New and start it with Run.
//
// Methods are to be called on the hub's thread — from its green threads or
// from hub callbacks (timer functions, functions given to Submit) — unless
// their documentation says any goroutine. Called from elsewhere they return
// ErrOutside (or panic with it where they return no error) and leave the hub
// untouched.
type Hub struct {
	clock   timers.Clock
	virtual *timers.Virtual // the clock, if it is virtual
	timers  timers.Heap
	now     time.Duration // clock read at the start of this turn, if nowValid
	nowOK   bool

	runq       runQueue
	batch      int  // green threads of the current batch not yet resumed
	ticks      int  // green threads resumed since the last poll
	inCallback bool // a hub callback is running (on the loop or a green thread's stack)

	poller *poller
	waker  atomic.Pointer[poller] // the poller, for wake-ups from other goroutines
	fds    []*FD                  // registered file descriptors by number
	nfds   int
	fdSeq  uint32

	loop          *G                // the hub loop itself, at the bottom of the call chain
	current       atomic.Pointer[G] // the G that last started running on the hub's thread
	loopGoroutine atomic.Uintptr
	transferTo    *G // destination of the switch under way (see transfer)
	nextID        uint64
	liveHead      *G
	liveTail      *G
	live          int
	pool          coroPool

	door    door
	wakeSig atomic.Uint32 // 1 while a wake-up of the poller is outstanding
	wakeMu  sync.RWMutex  // held (read) across a wake-up's write; shutdown takes it before closing the poller
	refs    atomic.Int64  // references held by other goroutines (Ref)
	offload offloadPool

	tracer    Tracer
	watchdog  *watchdog
	logger    *slog.Logger
	onFailure func(g *G, err error) // WithPanicHandler; nil: log
	waitAll   bool

	state    atomic.Int32
	stopping bool
	mainDone bool
	mainErr  error
	stats    Stats
}

// Stats are counters of what the hub did, for tests and benchmarks.
type Stats struct {
	Turns      uint64 // loop iterations
	Resumes    uint64 // green threads resumed from the ready queue
	Polls      uint64 // poll system calls made
	Skipped    uint64 // periodic polls skipped because there was nothing to poll
	Spawned    uint64 // green threads and greenlets created
	Coroutines uint64 // coroutines created (the others were reused)
}

// New returns a hub configured by opts. It holds no OS resources until Run.
func New(opts ...Option) *Hub {
	h := &Hub{
		clock:  timers.NewReal(),
		logger: slog.Default(),
		pool:   coroPool{max: 256},
	}
	h.offload.max = 16
	h.loop = &G{h: h, state: gRunning, onChain: true, parent: nil}
	for _, o := range opts {
		o.apply(h)
	}
	h.virtual, _ = h.clock.(*timers.Virtual)
	return h
}

// Run runs the hub on the calling goroutine, locked to its OS thread, until
// main returns, and returns main's error (a *PanicError if main panicked).
// main runs as the hub's first green thread. When it returns, the green
// threads still alive are killed and unwound (their deferred calls run),
// offloaded work is waited for, functions still queued by Submit run, every
// file descriptor the hub owns is closed, and no goroutine is left behind.
// With the WaitForAll option Run instead waits for every green thread to
// end on its own.
//
// Run may be called once per hub.
func (h *Hub) Run(main func() error) error {
	if !h.state.CompareAndSwap(stateNew, stateRunning) {
		return ErrRunning
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := newPoller()
	if err != nil {
		h.state.Store(stateStopped)
		for _, it := range h.door.close() {
			h.runItem(it) // Submit promised they run
		}
		return fmt.Errorf("hub: %w", err)
	}
	h.poller = p
	h.waker.Store(p)
	h.wakeSig.Store(0)
	h.loop.goroutine = getg()
	h.loopGoroutine.Store(h.loop.goroutine)
	h.current.Store(h.loop)
	if h.virtual != nil {
		defer h.virtual.OnAdvance(h.wake)()
	}
	if h.watchdog != nil {
		h.watchdog.start(h)
	}
	h.spawn(main, func(g *G) {
		h.mainDone = true
		h.mainErr = g.err
	})
	for !h.done() {
		h.turn()
	}
	h.shutdown()
	return h.mainErr
}

// done reports whether Run's work is over: main returned and, with
// WaitForAll, every other green thread too.
func (h *Hub) done() bool {
	return h.mainDone && (!h.waitAll || h.live == 0)
}

// leaving reports whether the loop running now — Run's, or shutdown's —
// ends after this turn.
func (h *Hub) leaving() bool {
	if h.stopping {
		return h.live == 0
	}
	return h.done()
}

// turn is one iteration of the loop, phase by phase.
func (h *Hub) turn() {
	h.stats.Turns++
	h.runTimers()
	h.runBatch()
	h.poll()
	if h.door.pending.Load() {
		h.runDoor()
	}
}

// runTimers fires the timers that are due. The clock is read once, and only
// if a timer is pending; at most the timers pending when the phase began
// fire, so a timer that re-arms itself for "now" cannot hold the loop.
func (h *Hub) runTimers() {
	h.nowOK = false
	n := h.timers.Len()
	if n == 0 {
		return
	}
	h.now, h.nowOK = h.clock.Now(), true
	for ; n > 0; n-- {
		t := h.timers.PopDue(h.now)
		if t == nil {
			return
		}
		if h.tracer != nil {
			h.tracer.TimerFire(t)
		}
		h.runCallback(t.F)
	}
}

// runCallback runs a hub callback (a timer function, a submitted function).
// It may run on the loop or, between batches, on the stack of the green
// thread that parked (see leave): inCallback makes blocking calls
// refuse it either way, and a panic is logged, not let loose.
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

// runBatch starts a batch: the green threads ready now. The loop resumes
// the first; each hands the thread to the next when it parks or yields
// (leave), so the loop gets control back only when nothing is ready.
func (h *Hub) runBatch() {
	h.batch = h.runq.len()
	g := h.nextReady()
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

// nextReady pops the next green thread of the current batch, or returns
// nil when the batch is over or the periodic poll is due.
func (h *Hub) nextReady() *G {
	for h.batch > 0 && h.ticks < pollEvery {
		h.batch--
		g := h.runq.pop()
		if g.state == gDead { // killed before it started
			continue
		}
		h.ticks++
		h.stats.Resumes++
		return g
	}
	return nil
}

// leave chooses where the thread goes when cur, the green thread running
// now, has just parked or queued itself: straight to the next green thread
// (pickNext) — one coroutine switch, where going through the loop would
// take two — or back to cur itself if it is the next, or to the loop when
// nothing is ready or Run is ending (only the loop blocks in poll). The
// caller transfers there; keeping the choice out of the switching frames
// keeps the call stack at the switch shallow, and every frame there costs a
// mispredicted return when the green thread resumes.
func (h *Hub) leave(cur *G) *G {
	g := h.pickNext()
	switch g {
	case cur:
		cur.state = gRunning
		if h.watchdog != nil {
			h.watchdog.progress.Add(1) // the loop's phases ran: not a stall
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

// pickNext returns the green thread to run next: the next of the current
// batch, or, when the batch is over, the first of a new one after the
// loop's non-blocking phases (due timers, the periodic poll, the door) have
// run right here, on the stack of the green thread that is leaving. It
// returns nil when the loop must take over: nothing is ready, or Run is
// ending.
func (h *Hub) pickNext() *G {
	for !h.leaving() {
		if g := h.nextReady(); g != nil {
			return g
		}
		h.runTimers()
		h.periodicPoll()
		if h.door.pending.Load() {
			h.runDoor()
		}
		if h.runq.len() == 0 {
			return nil
		}
		h.batch = h.runq.len()
	}
	return nil
}

// periodicPoll polls without blocking when pollEvery green threads have
// been resumed since the last poll, unless there is nothing to poll.
func (h *Hub) periodicPoll() {
	if h.ticks < pollEvery {
		return
	}
	h.ticks = 0
	if h.nfds == 0 && h.wakeSig.Load() == 0 {
		h.stats.Skipped++
		return
	}
	h.wait(0)
}

// poll waits for I/O: not at all while green threads are ready (except
// every pollEvery resumptions, with timeout 0), until the earliest timer if
// one is pending, else until an event or a wake-up. With no file descriptor
// registered and no wake-up outstanding a zero-timeout poll has nothing to
// find and is skipped. A virtual clock in auto-jump mode is moved to the
// earliest deadline when nothing else can happen.
func (h *Hub) poll() {
	if h.leaving() {
		return // the loop is about to end: wait for nothing
	}
	timeout := time.Duration(-1)
	var jumpTo *timers.Timer
	switch t := h.timers.Peek(); {
	case h.runq.len() > 0:
		h.periodicPoll()
		return
	case t == nil:
	case h.virtual == nil:
		if !h.nowOK {
			h.now, h.nowOK = h.clock.Now(), true
		}
		timeout = max(t.When()-h.now, 0)
	case h.virtual.AutoJump():
		timeout, jumpTo = 0, t
	case t.When() <= h.clock.Now():
		timeout = 0 // advanced on the hub's own thread, which does not wake itself
	}
	if h.door.pending.Load() || h.stopping {
		// Submitted from the hub's own thread, which does not wake itself;
		// or shutting down, where a green thread that blocks again while
		// it unwinds must be killed again, not waited for.
		timeout = 0
	}
	h.ticks = 0
	if timeout == 0 && h.nfds == 0 && h.wakeSig.Load() == 0 {
		h.stats.Skipped++
	} else {
		h.wait(timeout)
	}
	if jumpTo != nil && h.runq.len() == 0 && !h.door.pending.Load() {
		h.virtual.AdvanceTo(jumpTo.When())
	}
}

// wait makes the poll system call and wakes the green threads whose file
// descriptors are ready.
func (h *Hub) wait(timeout time.Duration) {
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
	if err != nil {
		h.logger.Error("hub: poll failed", "err", err)
	}
	if h.tracer != nil {
		h.tracer.PollEnd(len(events))
	}
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

// wake interrupts a blocked poll so the loop looks at its door. Any
// goroutine may call it; concurrent calls make one system call between two
// polls. The hub's own thread never needs waking: it looks at the door
// before it next blocks.
func (h *Hub) wake() {
	if _, err := h.caller(); err == nil {
		return
	}
	if h.wakeSig.CompareAndSwap(0, 1) {
		h.wakeMu.RLock()
		if p := h.waker.Load(); p != nil {
			if err := p.wake(); err != nil {
				h.logger.Error("hub: wake-up failed", "err", err)
			}
		}
		h.wakeMu.RUnlock()
	}
}

// shutdown kills what is left, waits for offloaded work, runs what was
// submitted and releases every resource.
func (h *Hub) shutdown() {
	h.stopping = true
	for h.live > 0 {
		h.killAll()
		h.turn()
	}
	h.offload.close()
	h.state.Store(stateStopped)
	for _, it := range h.door.close() {
		h.runItem(it)
	}
	for _, d := range h.fds {
		if d != nil {
			d.shut(true)
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
	h.current.Store(nil)
	h.loopGoroutine.Store(0)
}

// killAll kills every live green thread that has no kill pending. Killing
// one that never started ends it at once and runs its exit hook, which may
// end others: the pass then starts again from the head of the list.
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

// caller returns the G the calling goroutine is on this hub: the running
// green thread, or h.loop for hub callbacks. Any other goroutine gets an
// error and the hub is not touched.
func (h *Hub) caller() (*G, error) {
	gp := getg()
	if cur := h.current.Load(); cur != nil && cur.goroutine == gp {
		if h.inCallback {
			return h.loop, nil // a callback run inline on cur's stack
		}
		return cur, nil
	}
	if gp == h.loopGoroutine.Load() && gp != 0 {
		return h.loop, nil
	}
	switch h.state.Load() {
	case stateNew:
		return nil, ErrNotStarted
	case stateStopped:
		return nil, ErrStopped
	}
	return nil, ErrOutside
}

// green returns the running green thread, or an error if the caller is a
// hub callback or not on the hub's thread at all.
func (h *Hub) green() (*G, error) {
	g, err := h.caller()
	if err == nil && (g == h.loop || h.inCallback) {
		return nil, ErrNotGreen
	}
	return g, err
}

// mustCaller is caller for methods that return no error: misuse is a
// programming error and panics.
func (h *Hub) mustCaller() *G {
	g, err := h.caller()
	if err != nil {
		panic(err)
	}
	return g
}

// Stats returns the hub's counters. Hub thread only, or after Run returned.
func (h *Hub) Stats() Stats { return h.stats }

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

// newGreenlet creates a greenlet: a G that runs fn when it is first
// switched to, with the switch's value as arg, and whose result goes to its
// parent when it ends (greenlet.greenlet(run, parent)). A nil parent means
// the caller.
func (h *Hub) newGreenlet(fn func(arg any) (any, error), parent *G, onExit func(*G)) (*G, error) {
	cur, err := h.caller()
	if err != nil {
		return nil, err
	}
	if h.stopping {
		return nil, ErrStopped
	}
	if parent == nil {
		parent = cur
	}
	if parent.h != h {
		return nil, ErrOtherHub
	}
	g := h.newG(parent)
	g.greenFn, g.onExit = fn, onExit
	if h.tracer != nil {
		h.tracer.Spawn(g)
	}
	return g, nil
}

// start queues g, a greenlet made by NewGreenlet that has not started, to
// be run by the hub like a spawned green thread: SpawnAfter creates its
// green thread at once and starts it when its timer fires. g's parent
// becomes the hub loop.
func (h *Hub) start(g *G) error {
	if _, err := h.caller(); err != nil {
		return err
	}
	switch {
	case g.h != h:
		return ErrOtherHub
	case h.stopping:
		return ErrStopped
	case g.state != gNew:
		return ErrNotSwitchable
	}
	g.parent = h.loop
	g.state = gReady
	h.runq.push(g)
	return nil
}

// throw switches to target as Switch does, making target's Switch return
// err instead of a value (greenlet's throw). Throwing into a greenlet that
// has not started kills it: it never runs, and Throw returns as its parent
// would. A nil err is ErrKilled.
func (h *Hub) throw(target *G, err error) (any, error) {
	cur, cerr := h.green()
	if cerr != nil {
		return nil, cerr
	}
	if err == nil {
		err = ErrKilled
	}
	if target.h == h && target.state == gNew {
		target.err = err
		h.kill(target)
		if err == ErrKilled {
			return nil, nil
		}
		return nil, err
	}
	return h.switchTo(cur, target, nil, err)
}

// interrupt makes g's current blocking call return err, whatever it is
// blocked on (Sleep, an fd, a queue…): eventlet's Timeout raising into a
// green thread. If g is parked it is woken now; if it is ready or running,
// its next park returns err at once without blocking. A later Interrupt
// replaces an earlier one that has not been delivered. It reports false
// for a dead g. Hub thread only.
func (h *Hub) interrupt(g *G, err error) bool {
	if g.state == gDead || g == h.loop {
		return false
	}
	if g.state == gParked && g.reason != reasonSwitch {
		g.interrupt = nil
		return h.ready(g, err)
	}
	g.interrupt = err
	return true
}

func (h *Hub) readyToken(t WakeToken, err error) bool {
	if t.g == nil || t.g.parkSeq != t.seq {
		return false
	}
	return h.ready(t.g, err)
}

// yield puts the calling green thread at the back of the ready queue and
// runs the others: eventlet's sleep(0). The periodic poll makes sure a
// green thread that spins on Yield cannot starve I/O or timers.
func (h *Hub) yield() error {
	g, err := h.green()
	if err != nil {
		return err
	}
	if g.killPending {
		g.killPending = false
		raiseKill()
	}
	g.state = gReady
	h.runq.push(g)
	h.transfer(g, h.leave(g))
	if g.killPending {
		g.killPending = false
		raiseKill()
	}
	return nil
}

// sleep suspends the calling green thread for d on the hub's clock;
// d <= 0 is Yield. It returns early only with an error (a Timeout, say).
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
