package hub

import (
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Tracer receives the hub's scheduling events, on the hub's thread, as
// they happen (greenlet's settrace, Trio's Instrument). Methods must not
// block or call back into the hub. Embed NopTracer to implement only some.
type Tracer interface {
	// Spawn: g was created (a green thread or a greenlet).
	Spawn(g *G)
	// Switch: control passes from one G to another; from is the hub loop
	// (Hub.Loop) when the loop resumes a ready green thread.
	Switch(from, to *G)
	// Block: g parks, waiting for what the reason says.
	Block(g *G, on Reason)
	// Wake: parked g became ready.
	Wake(g *G)
	// Exit: g ended; err is nil, its error, a *PanicError or ErrKilled.
	Exit(g *G, err error)
	// PollBegin: the hub is about to poll, blocking up to timeout (-1:
	// until an event).
	PollBegin(timeout time.Duration)
	// PollEnd: the poll returned this many events.
	PollEnd(events int)
	// TimerFire: a timer is due and its function is about to run.
	TimerFire(t *timers.Timer)
}

// NopTracer implements Tracer with methods that do nothing.
type NopTracer struct{}

func (NopTracer) Spawn(*G)                {}
func (NopTracer) Switch(_, _ *G)          {}
func (NopTracer) Block(*G, Reason)        {}
func (NopTracer) Wake(*G)                 {}
func (NopTracer) Exit(*G, error)          {}
func (NopTracer) PollBegin(time.Duration) {}
func (NopTracer) PollEnd(int)             {}
func (NopTracer) TimerFire(*timers.Timer) {}
