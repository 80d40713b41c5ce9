package hub

import (
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Tracer receives the hub's scheduling events, on the hub's thread, as
// they happen (greenlet's settrace, Trio's Instrument). Methods must not
// block or call back into the hub. Embed NopTracer to implement only some.
//
// One tracer may serve several hubs (a Group gives its tracer to every
// hub): the events that carry a G belong to G.Hub; the loop's events
// (phases, polls, timers) to the hub whose thread calls them, CallerHub.
//
// The loop's phases do not always run on the loop's own stack: after a G
// blocks, yields or exits, the rest of the turn (the batch's end, a
// periodic poll, the door, timers, the next batch's start) may run on that
// G's goroutine, reported before the Switch away from it — or before its
// Resume, when it is the next to run. A G is not running from its Block,
// yield or Exit until its next Resume.
type Tracer interface {
	// Spawn: g was created (a green thread or a greenlet).
	Spawn(g *G)
	// Switch: control passes from one G to another; from is the hub loop
	// (Raw.Loop) when the loop resumes a ready green thread, and to is the
	// loop when a G parks, yields or ends with nothing else to run. It is
	// called on from's goroutine, before the switch (after Exit when from
	// has ended).
	Switch(from, to *G)
	// Resume: g runs: called on g's own goroutine once it has the thread
	// — after a Switch to it, or when g parked or yielded and was itself
	// the next to run (no Switch then) — for tracers that must act there
	// (runtime/trace regions begin and end on one goroutine). Never
	// called for the hub loop.
	Resume(g *G)
	// Block: g parks, waiting for what the reason says.
	Block(g *G, on Reason)
	// Wake: parked g became ready.
	Wake(g *G)
	// Exit: g ended; err is nil, its error, a *PanicError or ErrKilled.
	Exit(g *G, err error)
	// PhaseBegin: the loop's phase p starts, and has work: a phase that
	// would do nothing (no timer due, nothing ready, an empty door) is not
	// reported. Phases never nest; between PhaseBegin and PhaseEnd of the
	// batch the green threads run.
	PhaseBegin(p Phase)
	// PhaseEnd: phase p is over, having done n things — timers fired,
	// green threads resumed, door items run.
	PhaseEnd(p Phase, n int)
	// PollBegin: the hub is about to poll, blocking up to timeout (-1:
	// until an event). The poll is the loop's phase between the batch and
	// the door; a poll skipped (nothing to poll, nothing to wait for) is
	// not reported.
	PollBegin(timeout time.Duration)
	// PollEnd: the poll returned this many events.
	PollEnd(events int)
	// TimerFire: a timer is due and its function is about to run (inside
	// the timers phase).
	TimerFire(t *timers.Timer)
}

// Phase is one of the loop's phases that the tracer sees begin and end (the
// poll has PollBegin and PollEnd). See the package comment for the order.
type Phase uint8

const (
	// PhaseTimers fires the due timers; its count is the timers fired.
	PhaseTimers Phase = iota
	// PhaseBatch resumes the green threads that were ready when it began,
	// one after another; its count is the green threads resumed. A batch
	// cut short by the periodic poll ends there and goes on as a new
	// batch phase after it.
	PhaseBatch
	// PhaseDoor runs what other goroutines submitted; its count is the
	// items run.
	PhaseDoor
)

var phaseNames = [...]string{"timers", "batch", "door"}

// String returns the phase's name: timers, batch or door.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase" + itoa(int(p))
}

// NopTracer implements Tracer with methods that do nothing.
type NopTracer struct{}

func (NopTracer) Spawn(*G)                {}
func (NopTracer) Switch(_, _ *G)          {}
func (NopTracer) Resume(*G)               {}
func (NopTracer) Block(*G, Reason)        {}
func (NopTracer) Wake(*G)                 {}
func (NopTracer) Exit(*G, error)          {}
func (NopTracer) PhaseBegin(Phase)        {}
func (NopTracer) PhaseEnd(Phase, int)     {}
func (NopTracer) PollBegin(time.Duration) {}
func (NopTracer) PollEnd(int)             {}
func (NopTracer) TimerFire(*timers.Timer) {}
