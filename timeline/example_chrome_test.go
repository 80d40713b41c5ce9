package timeline_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timers"
)

// A run traced into a buffer, then read back: the instants on the green
// threads' tracks, in order. The G's are named after their spawn, so
// their first events show g1 and g2; a G that ends reports its exit, then
// its switch to whoever runs next (here the hub). Load such a file in
// Perfetto to see it all.
func ExampleNewChrome() {
	var buf bytes.Buffer
	c := timeline.NewChrome(&buf)
	h := hub.New(hub.WithTracer(c), hub.WithClock(timers.NewVirtual(true)))
	err := h.Run(func() error {
		raw := h.Raw()
		raw.Current().SetName("main")
		worker, err := raw.Spawn(func() error { return raw.Sleep(time.Millisecond) }, nil)
		if err != nil {
			return err
		}
		worker.SetName("worker")
		return raw.Sleep(2 * time.Millisecond)
	})
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	var trace struct {
		TraceEvents []struct {
			Ph, Name string
			Tid      int
			Args     map[string]any
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &trace); err != nil {
		fmt.Println(err)
		return
	}
	names := map[int]any{}
	for _, e := range trace.TraceEvents {
		switch {
		case e.Ph == "M" && e.Name == "thread_name":
			names[e.Tid] = e.Args["name"]
		case e.Ph == "i" && e.Name == "switch":
			fmt.Println(names[e.Tid], "switch to", names[int(e.Args["to"].(float64))])
		case e.Ph == "i" && e.Name == "block":
			fmt.Println(names[e.Tid], "block", e.Args["reason"])
		case e.Ph == "i":
			fmt.Println(names[e.Tid], e.Name)
		}
	}
	// Output:
	// g1 spawn
	// hub switch to g1
	// g2 spawn
	// main block sleep
	// main switch to worker
	// worker block sleep
	// worker switch to hub
	// worker wake
	// hub switch to worker
	// worker exit
	// worker switch to hub
	// main wake
	// hub switch to main
	// main exit
	// main switch to hub
}

// Both tracers at once: a Chrome trace file, and tasks for `go tool trace`
// while the execution tracer runs (here started by hand; `go test -trace`
// does it for tests). Then `go tool trace exec.out` shows each green
// thread as a task of type greenhub.G, with a region per run.
func ExampleNewRuntime() {
	exec, err := os.Create("exec.out")
	if err != nil {
		log.Fatal(err)
	}
	defer exec.Close()
	if err := trace.Start(exec); err != nil {
		log.Fatal(err)
	}
	defer trace.Stop()

	chrome, err := timeline.Create("run.json")
	if err != nil {
		log.Fatal(err)
	}
	h := hub.New(hub.WithTracer(timeline.Tee(chrome, timeline.NewRuntime())))
	err = h.Run(func() error {
		return h.Raw().Sleep(time.Millisecond)
	})
	if cerr := chrome.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Fatal(err)
	}
}
