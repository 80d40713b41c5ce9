package timeline

import (
	"context"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Runtime is a hub.Tracer for the Go execution tracer (runtime/trace, `go
// tool trace`). A green thread or greenlet spawned while the execution
// tracer is on becomes a task of type "greenhub.G", logged with its name;
// each stretch it runs is a region "run" on its own coroutine's goroutine
// (from the Resume after the switch to it until the switch away or its
// exit); its blocks, wake-ups, switches and exit are logs in its task. The
// timers, poll and door phases are regions on the goroutine that runs them,
// and a batch is a log "batch" with the green threads it resumed.
//
// Green threads spawned while the execution tracer was off are not traced,
// and then each event costs Runtime an atomic load. One Runtime may serve
// several hubs; its methods are called on their threads and hold a
// sync.Mutex only for a map access, never across a park.
type Runtime struct {
	traced atomic.Int64 // G's with a task: when 0, events for G's are skipped at once

	mu     sync.Mutex
	gs     map[*hub.G]*taskedG
	phases map[*hub.Hub]*trace.Region // the timers, poll or door region open on a hub

	// Counts, for tests: tasks begun and ended, regions begun.
	tasks, ended, regions int
}

// taskedG is a traced G: its task and the region of its current run.
type taskedG struct {
	ctx    context.Context
	task   *trace.Task
	region *trace.Region // open from Resume to the switch away
}

// NewRuntime returns a tracer for the Go execution tracer.
func NewRuntime() *Runtime {
	return &Runtime{gs: make(map[*hub.G]*taskedG), phases: make(map[*hub.Hub]*trace.Region)}
}

// taskType is the type of the green threads' tasks in `go tool trace`.
const taskType = "greenhub.G"

// lookup returns g's task, nil if g is not traced.
func (r *Runtime) lookup(g *hub.G) *taskedG {
	if r.traced.Load() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gs[g]
}

// Spawn begins a task for g if the execution tracer is on.
func (r *Runtime) Spawn(g *hub.G) {
	if !trace.IsEnabled() {
		return
	}
	ctx, task := trace.NewTask(context.Background(), taskType)
	trace.Log(ctx, "spawn", g.String())
	r.mu.Lock()
	r.gs[g] = &taskedG{ctx: ctx, task: task}
	r.tasks++
	r.mu.Unlock()
	r.traced.Add(1)
}

// Switch ends from's region (on from's goroutine, where Resume began it)
// and logs the switch.
func (r *Runtime) Switch(from, to *hub.G) {
	if t := r.lookup(from); t != nil {
		if t.region != nil {
			t.region.End()
			t.region = nil
		}
		trace.Log(t.ctx, "switch", to.String())
	}
}

// Resume begins g's region on g's own goroutine.
func (r *Runtime) Resume(g *hub.G) {
	if t := r.lookup(g); t != nil {
		t.region = trace.StartRegion(t.ctx, "run")
		r.mu.Lock()
		r.regions++
		r.mu.Unlock()
	}
}

// Block logs what g waits for.
func (r *Runtime) Block(g *hub.G, on hub.Reason) {
	if t := r.lookup(g); t != nil {
		trace.Log(t.ctx, "block", on.String())
	}
}

// Wake logs g's wake-up.
func (r *Runtime) Wake(g *hub.G) {
	if t := r.lookup(g); t != nil {
		trace.Log(t.ctx, "wake", "")
	}
}

// Exit ends g's region and task, logging how it ended.
func (r *Runtime) Exit(g *hub.G, err error) {
	t := r.lookup(g)
	if t == nil {
		return
	}
	if t.region != nil { // g's own goroutine: its body ended there
		t.region.End()
	}
	how := "ok"
	if err != nil {
		how = err.Error()
	}
	trace.Log(t.ctx, "exit", how)
	t.task.End()
	r.mu.Lock()
	delete(r.gs, g)
	r.ended++
	r.mu.Unlock()
	r.traced.Add(-1)
}

// PhaseBegin begins a region for the timers or door phase on the
// goroutine running it; the batch phase, which ends on another goroutine,
// is logged at its end instead.
func (r *Runtime) PhaseBegin(p hub.Phase) {
	if p != hub.PhaseBatch {
		r.beginPhase(p.String())
	}
}

// PhaseEnd ends the phase's region, or logs the batch.
func (r *Runtime) PhaseEnd(p hub.Phase, n int) {
	if p == hub.PhaseBatch {
		if trace.IsEnabled() {
			trace.Log(context.Background(), "batch", "resumed "+strconv.Itoa(n))
		}
		return
	}
	r.endPhase()
}

// PollBegin begins a poll region.
func (r *Runtime) PollBegin(time.Duration) { r.beginPhase("poll") }

// PollEnd ends the poll region.
func (r *Runtime) PollEnd(int) { r.endPhase() }

// TimerFire does nothing: the timers phase is a region.
func (r *Runtime) TimerFire(*timers.Timer) {}

func (r *Runtime) beginPhase(name string) {
	if !trace.IsEnabled() {
		return
	}
	h := hub.CallerHub()
	region := trace.StartRegion(context.Background(), name)
	r.mu.Lock()
	r.phases[h] = region
	r.mu.Unlock()
}

func (r *Runtime) endPhase() {
	h := hub.CallerHub()
	r.mu.Lock()
	region := r.phases[h]
	delete(r.phases, h)
	r.mu.Unlock()
	if region != nil {
		region.End()
	}
}
