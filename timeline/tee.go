package timeline

import (
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Tee returns a tracer that passes every event to each of tracers, in
// order: Chrome and Runtime at once. Nil interface values are left out
// (a nil *Chrome in a hub.Tracer is not one: build the list from
// hub.Tracer values); with none left Tee returns nil (no tracer, for
// hub.WithTracer), with one that one.
func Tee(tracers ...hub.Tracer) hub.Tracer {
	var ts tee
	for _, t := range tracers {
		if t != nil {
			ts = append(ts, t)
		}
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return ts[0]
	}
	return ts
}

type tee []hub.Tracer

func (ts tee) Spawn(g *hub.G) {
	for _, t := range ts {
		t.Spawn(g)
	}
}

func (ts tee) Switch(from, to *hub.G) {
	for _, t := range ts {
		t.Switch(from, to)
	}
}

func (ts tee) Resume(g *hub.G) {
	for _, t := range ts {
		t.Resume(g)
	}
}

func (ts tee) Block(g *hub.G, on hub.Reason) {
	for _, t := range ts {
		t.Block(g, on)
	}
}

func (ts tee) Wake(g *hub.G) {
	for _, t := range ts {
		t.Wake(g)
	}
}

func (ts tee) Exit(g *hub.G, err error) {
	for _, t := range ts {
		t.Exit(g, err)
	}
}

func (ts tee) PhaseBegin(p hub.Phase) {
	for _, t := range ts {
		t.PhaseBegin(p)
	}
}

func (ts tee) PhaseEnd(p hub.Phase, n int) {
	for _, t := range ts {
		t.PhaseEnd(p, n)
	}
}

func (ts tee) PollBegin(timeout time.Duration) {
	for _, t := range ts {
		t.PollBegin(timeout)
	}
}

func (ts tee) PollEnd(events int) {
	for _, t := range ts {
		t.PollEnd(events)
	}
}

func (ts tee) TimerFire(tm *timers.Timer) {
	for _, t := range ts {
		t.TimerFire(tm)
	}
}
