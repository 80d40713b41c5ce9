package hub

import (
	"log/slog"
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
// sleep or yield. Create one with New and run it with Run (or Begin, Step
// and Close, to drive it one turn at a time).
//
// The user face is small: Run and the run modes, Submit and Ref for other
// goroutines, Offload for blocking work, Now, Stats, Dump. Green threads
// are spawned with package greenthread; primitives are built on Raw.
type Hub struct {
	clock   timers.Clock
	virtual *timers.Virtual // the clock, if it is virtual
	timers  timers.Heap
	now     time.Duration // clock read at the start of this turn, if nowOK
	nowOK   bool

	runq       runQueue
	batch      int  // green threads of the current batch not yet resumed
	ticks      int  // green threads resumed since the last poll
	stepping   bool // Step in RunOnce or RunNoWait: batches end at the loop
	inCallback bool // a hub callback is running (on the loop or a green thread's stack)

	poller    pollerAPI
	waker     atomic.Pointer[pollerAPI] // the poller, for wake-ups from other goroutines
	fds       []*FD                     // registered file descriptors by number
	nfds      int
	fdWaiters int // green threads parked in FD.WaitRead or WaitWrite
	fdSeq     uint32

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
	wakeMu  sync.RWMutex  // held (read) across a wake-up's write; Close takes it before closing the poller
	refs    atomic.Int64  // references held by other goroutines (Ref)
	offload offloadPool

	tracer      Tracer
	batchTraced bool   // the tracer saw PhaseBegin(PhaseBatch) and not its end yet
	batchFrom   uint64 // stats.Resumes when that batch phase began
	watchdog    *watchdog
	logger      *slog.Logger
	onFailure   func(g *G, err error) // WithPanicHandler; nil: log
	waitAll     bool
	newPoller   func() (pollerAPI, error)

	state    atomic.Int32
	stopping bool
	mainDone bool
	mainErr  error
	err      error // what ends the run early: a failed poll, a deadlock
	stopVirt func()
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
	Submitted  uint64 // items taken from the door (Submit, SubmitReady)
	Live       int    // green threads and greenlets alive now
}

// New returns a hub configured by opts. It holds no OS resources until Run.
func New(opts ...Option) *Hub {
	h := &Hub{
		clock:     timers.NewReal(),
		logger:    slog.Default(),
		pool:      coroPool{max: 256},
		newPoller: newPoller,
	}
	h.offload.max = 16
	h.door.capacity = defaultDoorCapacity
	h.loop = &G{h: h, state: gRunning, onChain: true, parent: nil}
	for _, o := range opts {
		o.apply(h)
	}
	h.virtual, _ = h.clock.(*timers.Virtual)
	return h
}

// Stats returns the hub's counters. Hub thread only, or after Run returned.
func (h *Hub) Stats() Stats {
	s := h.stats
	s.Live = h.live
	return s
}
