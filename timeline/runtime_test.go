package timeline_test

import (
	"bytes"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timeline/internal/tracetest"
)

// sleepers is the greenlet program plus green threads that sleep: blocks,
// wake-ups, timers.
func sleepers(h *hub.Hub) error {
	var out strings.Builder
	if err := tracetest.Greenlet(&out)(h); err != nil {
		return err
	}
	for range 3 {
		greenthread.SpawnN(h, func() { greenthread.Sleep(h, time.Millisecond) })
	}
	return greenthread.Sleep(h, 2*time.Millisecond)
}

// Without the execution tracer on, Runtime makes no task.
func TestRuntimeOff(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("the execution tracer is on (go test -trace)")
	}
	r := timeline.NewRuntime()
	hubtest.Main(t, sleepers, hub.WithTracer(r), hubtest.Virtual())
	if tasks, ended, regions := r.Counts(); tasks+ended+regions != 0 {
		t.Errorf("%d tasks, %d ended, %d regions with the tracer off", tasks, ended, regions)
	}
}

// With the execution tracer on, every G is a task, ended when it exits,
// with a region for every time it was switched to (counted by Chrome, fed
// the same events through Tee), and the trace holds the task type and the
// block reasons.
func TestRuntimeTasks(t *testing.T) {
	var out bytes.Buffer
	if err := trace.Start(&out); err != nil {
		t.Skipf("the execution tracer: %v", err)
	}
	r := timeline.NewRuntime()
	var js bytes.Buffer
	c := timeline.NewChrome(&js)
	h := hubtest.Main(t, sleepers, hub.WithTracer(timeline.Tee(r, nil, c)), hubtest.Virtual())
	trace.Stop()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	switchesToG := 0
	for _, e := range parseTrace(t, js.Bytes()) {
		if e.Ph == "i" && e.Name == "switch" && e.Args["to"] != float64(0) {
			switchesToG++
		}
	}
	tasks, ended, regions := r.Counts()
	if spawned := int(h.Stats().Spawned); tasks != spawned || ended != spawned {
		t.Errorf("%d tasks begun, %d ended; %d G's spawned", tasks, ended, spawned)
	}
	if regions != switchesToG || regions < 8 {
		t.Errorf("%d regions, %d switches to a G; want equal, 8 or more", regions, switchesToG)
	}
	for _, s := range []string{"greenhub.G", "gr1", "sleep", "switch", "run", "timers"} {
		if !bytes.Contains(out.Bytes(), []byte(s)) {
			t.Errorf("the execution trace (%d bytes) lacks %q", out.Len(), s)
		}
	}
}

// recorder counts the events it gets.
type recorder struct {
	hub.NopTracer
	spawns, switches int
}

func (r *recorder) Spawn(*hub.G)       { r.spawns++ }
func (r *recorder) Switch(_, _ *hub.G) { r.switches++ }

// Tee gives every event to every tracer; nils are left out.
func TestTee(t *testing.T) {
	if timeline.Tee() != nil || timeline.Tee(nil, nil) != nil {
		t.Error("Tee of no tracer is not nil")
	}
	one := &recorder{}
	if timeline.Tee(nil, one) != hub.Tracer(one) {
		t.Error("Tee of one tracer is not that tracer")
	}
	a, b := &recorder{}, &recorder{}
	hubtest.Main(t, sleepers, hub.WithTracer(timeline.Tee(a, nil, b)), hubtest.Virtual())
	if a.spawns < 6 || a.switches < 10 || *a != *b {
		t.Errorf("tracers saw %+v and %+v; want the same, 6 spawns and 10 switches or more", *a, *b)
	}
}
