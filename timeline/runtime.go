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

	mu      sync.Mutex
	gs      map[*hub.G]*taskedG
	running map[*hub.Hub]*taskedG      // the G whose run region is open, by hub
	phases  map[*hub.Hub]*trace.Region // the timers, poll or door region open on a hub

	tasks, ended, regions int // see Counts
}

// taskedG is a traced G: its task and the region of its current run.
type taskedG struct {
	ctx    context.Context
	task   *trace.Task
	region *trace.Region // open from Resume to the switch away
}

// NewRuntime returns a tracer for the Go execution tracer.
func NewRuntime() *Runtime {
	return &Runtime{gs: make(map[*hub.G]*taskedG), running: make(map[*hub.Hub]*taskedG), phases: make(map[*hub.Hub]*trace.Region)}
}

// Counts returns how many tasks r began and ended, and how many run
// regions it began: what a run has put into the execution trace, 0s if the
// tracer was off. Any goroutine may call it.
func (r *Runtime) Counts() (tasks, ended, regions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks, r.ended, r.regions
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
		r.endRun(from.Hub(), t)
		trace.Log(t.ctx, "switch", to.String())
	}
}

// Resume begins g's region on g's own goroutine, unless it is open: g
// yielded and ran on with no loop phase in between.
func (r *Runtime) Resume(g *hub.G) {
	t := r.lookup(g)
	if t == nil || t.region != nil {
		return
	}
	t.region = trace.StartRegion(t.ctx, "run")
	r.mu.Lock()
	r.running[g.Hub()] = t
	r.regions++
	r.mu.Unlock()
}

// endRun ends t's run region, on the goroutine that runs t's G.
func (r *Runtime) endRun(h *hub.Hub, t *taskedG) {
	if t.region == nil {
		return
	}
	t.region.End()
	t.region = nil
	r.mu.Lock()
	if r.running[h] == t {
		delete(r.running, h)
	}
	r.mu.Unlock()
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
	r.endRun(g.Hub(), t) // on g's own goroutine: its body ended there
	how := "ok"
	if err != nil {
		how = err.Error()
	}
	trace.Log(t.ctx, "name", g.String()) // as named by now: names are often set after the spawn
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
// is logged at its end instead. A G whose run region is open has blocked,
// yielded or ended, and the phase runs on its goroutine: its region ends
// first, so that the phase is not billed to it.
func (r *Runtime) PhaseBegin(p hub.Phase) {
	if !trace.IsEnabled() {
		return
	}
	r.endRunning()
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

// PollBegin begins a poll region, after the running G's, as PhaseBegin.
func (r *Runtime) PollBegin(time.Duration) {
	if trace.IsEnabled() {
		r.endRunning()
		r.beginPhase("poll")
	}
}

// PollEnd ends the poll region.
func (r *Runtime) PollEnd(int) { r.endPhase() }

// TimerFire does nothing: the timers phase is a region.
func (r *Runtime) TimerFire(*timers.Timer) {}

// endRunning ends the run region open on the calling hub, if any: that of
// the G on whose goroutine the loop's phases now run.
func (r *Runtime) endRunning() {
	h := hub.CallerHub()
	r.mu.Lock()
	t := r.running[h]
	r.mu.Unlock()
	if t != nil {
		r.endRun(h, t)
	}
}

// beginPhase begins a phase's region on the calling goroutine.
func (r *Runtime) beginPhase(name string) {
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
