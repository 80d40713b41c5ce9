// Package tracing gives every example its -trace FILE and -exectrace FILE
// flags: a Chrome trace of the run (package timeline), for Perfetto
// (ui.perfetto.dev) or the timeline renderer (go run ./cmd/timeline), and
// a Go execution trace (runtime/trace) in which each green thread is a
// task, for go tool trace.
//
//	tr := tracing.Register(fs)      // before fs.Parse
//	opts, err := tr.Start(workers)   // after it: options for every hub
//	h := hub.New(opts...)
//	...
//	err = errors.Join(err, tr.Close())
//
// One trace serves all the hubs of a process (a hub.Group, a launcher's
// hub): each is a process of the Chrome trace. With several worker
// processes (-workers N, package service) the parent runs no hub and
// writes nothing; each worker writes FILE.w<index>, its replacement after
// a crash or a SIGHUP overwriting it. The same goes for -exectrace.
package tracing

import (
	"errors"
	"flag"
	"os"
	"runtime/trace"
	"strconv"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
	"github.com/greenhub/greenhub/timeline"
)

// Trace is the -trace and -exectrace flags and, once started, their
// tracers. Its methods are for the program's main goroutine.
type Trace struct {
	chromeFile string // -trace
	execFile   string // -exectrace

	chrome *timeline.Chrome
	exec   *os.File // the execution trace, while runtime/trace writes it
}

// Register adds -trace FILE and -exectrace FILE to fs and returns the
// Trace to Start after fs.Parse.
func Register(fs *flag.FlagSet) *Trace {
	t := &Trace{}
	fs.StringVar(&t.chromeFile, "trace", "", "write a Chrome trace of the run to `FILE` (open it in ui.perfetto.dev, or draw it with go run ./cmd/timeline); with -workers N each worker process writes FILE.w<index> instead")
	fs.StringVar(&t.execFile, "exectrace", "", "write a Go execution trace of the run to `FILE`, each green thread a task (go tool trace FILE); with -workers N each worker process writes FILE.w<index> instead")
	return t
}

// output returns the file a trace flag's value names: file, with the
// worker suffix in a worker process; "" when file is "" or in the parent
// of worker processes. workers is the -workers count (1 for programs
// without it).
func output(file string, workers int) string {
	if file == "" || workers <= 1 {
		return file
	}
	index, _, ok := service.Worker()
	if !ok {
		return "" // the parent of the workers runs no hub
	}
	return file + ".w" + strconv.Itoa(index)
}

// Start creates the trace files that -trace and -exectrace name, starts
// the execution tracer for -exectrace, and returns the hub options that
// trace into them: give them to every hub of the process. Without either
// flag (or in the parent of worker processes) it returns none. workers is
// the -workers count, 1 for programs without it. On an error nothing is
// left open.
func (t *Trace) Start(workers int) ([]hub.Option, error) {
	var tracers []hub.Tracer // hub.Tracer values: Tee leaves out nil interfaces, not typed nils
	if file := output(t.chromeFile, workers); file != "" {
		c, err := timeline.Create(file)
		if err != nil {
			return nil, err
		}
		t.chrome = c
		tracers = append(tracers, c)
	}
	if file := output(t.execFile, workers); file != "" {
		f, err := os.Create(file)
		if err != nil {
			return nil, errors.Join(err, t.Close())
		}
		if err := trace.Start(f); err != nil {
			return nil, errors.Join(err, f.Close(), t.Close())
		}
		t.exec = f
		tracers = append(tracers, timeline.NewRuntime())
	}
	tracer := timeline.Tee(tracers...)
	if tracer == nil {
		return nil, nil
	}
	return []hub.Option{hub.WithTracer(tracer)}, nil
}

// Close finishes the trace files once the hubs are done: it stops the
// execution tracer and closes both files. It returns nil if there are
// none.
func (t *Trace) Close() error {
	var err error
	if t.exec != nil {
		trace.Stop() // returns once the trace is written
		err = t.exec.Close()
		t.exec = nil
	}
	if t.chrome != nil {
		err = errors.Join(err, t.chrome.Close())
		t.chrome = nil
	}
	return err
}
