package tracing_test

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timeline"
)

// An example program's tracing: Register before the flags are parsed,
// Start after, the options to the hub, Close once it has returned. The
// Chrome trace then holds a track for the hub's loop and one per green
// thread, named by SetName: main ran until it waited for the worker, and
// again once the worker had ended.
func ExampleRegister() {
	dir, err := os.MkdirTemp("", "tracing-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "run.json")

	fs := flag.NewFlagSet("example", flag.ExitOnError)
	trace := tracing.Register(fs)
	fs.Parse([]string{"-trace", file}) // and -exectrace FILE for go tool trace

	opts, err := trace.Start(1) // 1: no worker processes
	if err != nil {
		log.Fatal(err)
	}
	h := hub.New(opts...)
	err = h.Run(func() error {
		greenthread.Current(h).G().SetName("main")
		worker := greenthread.Spawn(h, func() (string, error) { return "done", nil })
		worker.G().SetName("worker")
		_, err := worker.Wait()
		return err
	})
	if err := errors.Join(err, trace.Close()); err != nil {
		log.Fatal(err)
	}

	recorded, err := timeline.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	for _, track := range recorded.Tracks {
		fmt.Printf("%s: %s, runs: %d\n", track.Hub, track.Name, len(track.Runs))
	}
	// Output:
	// hub 1: hub, runs: 0
	// hub 1: main, runs: 2
	// hub 1: worker, runs: 1
}
