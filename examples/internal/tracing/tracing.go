// Package tracing gives every example its -trace FILE flag: a Chrome trace
// of the run (package timeline), for Perfetto (ui.perfetto.dev) or the
// timeline renderer (go run ./cmd/timeline).
//
//	tr := tracing.Register(fs)      // before fs.Parse
//	opts, err := tr.Start(workers)   // after it: options for every hub
//	h := hub.New(opts...)
//	...
//	err = errors.Join(err, tr.Close())
//
// One trace serves all the hubs of a process (a hub.Group, a launcher's
// hub): each is a process of the trace. With several worker processes
// (-workers N, package service) the parent runs no hub and writes nothing;
// each worker writes FILE.w<index>, its replacement after a crash or a
// SIGHUP overwriting it.
package tracing

import (
	"flag"
	"strconv"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
	"github.com/greenhub/greenhub/timeline"
)

// Trace is the -trace flag and, once started, its tracer. Its methods are
// for the program's main goroutine.
type Trace struct {
	path   string
	chrome *timeline.Chrome
}

// Register adds -trace FILE to fs and returns the Trace to Start after
// fs.Parse.
func Register(fs *flag.FlagSet) *Trace {
	t := &Trace{}
	fs.StringVar(&t.path, "trace", "", "write a Chrome trace of the run to `FILE` (open it in ui.perfetto.dev, or draw it with go run ./cmd/timeline); with -workers N each worker process writes FILE.w<index> instead")
	return t
}

// Path returns the file the trace goes to: -trace, with the worker suffix
// in a worker process; "" without -trace. workers is the -workers count (1
// for programs without it).
func (t *Trace) Path(workers int) string {
	if t.path == "" || workers <= 1 {
		return t.path
	}
	index, _, ok := service.Worker()
	if !ok {
		return "" // the parent of the workers runs no hub
	}
	return t.path + ".w" + strconv.Itoa(index)
}

// Start creates the trace file, if -trace names one, and returns the hub
// options that trace into it: give them to every hub of the process.
// Without -trace (or in the parent of worker processes) it returns none.
// workers is the -workers count, 1 for programs without it.
func (t *Trace) Start(workers int) ([]hub.Option, error) {
	path := t.Path(workers)
	if path == "" {
		return nil, nil
	}
	c, err := timeline.Create(path)
	if err != nil {
		return nil, err
	}
	t.chrome = c
	return []hub.Option{hub.WithTracer(c)}, nil
}

// Close finishes the trace file once the hubs are done; it returns nil if
// there is none.
func (t *Trace) Close() error {
	if t.chrome == nil {
		return nil
	}
	c := t.chrome
	t.chrome = nil
	return c.Close()
}
