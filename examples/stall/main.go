// Command stall breaks the one rule of cooperative scheduling on purpose
// and shows what the watchdog says. A ticker green thread wants to run
// every 10ms; another green thread then waits 300ms in one of three ways
// (-sleep):
//
//   - stdlib: time.Sleep, the mistake. The hub's OS thread sleeps, so no
//     other green thread runs: the ticker's longest gap is the whole
//     300ms, and the watchdog (hub.WithWatchdog, 100ms here) logs an Error
//     naming the green thread, the wait it is stuck in and its stack.
//   - green: greenthread.Sleep, which parks only the caller.
//   - offload: h.Offload(func() { time.Sleep(...) }), the remedy for a
//     blocking call that cannot be made green (a file read, cgo, a
//     database driver): it runs on an offload goroutine while the caller
//     is parked.
//
// go run ./examples/stall -sleep stdlib
//
// -trace FILE writes a Chrome trace of the run (see docs/tutorial).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// The ticker's period, the blocking call's length and the watchdog's
// threshold.
const (
	tick      = 10 * time.Millisecond
	blocked   = 300 * time.Millisecond
	threshold = 100 * time.Millisecond
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	how := fs.String("sleep", "stdlib", "how the worker waits: stdlib (time.Sleep, the mistake), green (greenthread.Sleep) or offload (h.Offload)")
	trace := tracing.Register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	wait, ok := map[string]func(h *hub.Hub) error{
		"stdlib":  func(*hub.Hub) error { time.Sleep(blocked); return nil },
		"green":   func(h *hub.Hub) error { return greenthread.Sleep(h, blocked) },
		"offload": func(h *hub.Hub) error { return h.Offload(func() { time.Sleep(blocked) }) },
	}[*how]
	if !ok {
		fmt.Fprintf(stderr, "stall: -sleep %q: want stdlib, green or offload\n", *how)
		return 2
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts, err := trace.Start(1)
	if err != nil {
		log.Error("stall: exiting", "err", err)
		return 1
	}
	h := hub.New(append(opts, hub.WithLogger(log), hub.WithWatchdog(threshold))...)
	err = h.Run(func() error {
		var longest time.Duration
		done := false
		ticker := greenthread.Spawn(h, func() (struct{}, error) {
			for last := time.Now(); !done; {
				if err := greenthread.Sleep(h, tick); err != nil {
					return struct{}{}, err
				}
				longest = max(longest, time.Since(last))
				last = time.Now()
			}
			return struct{}{}, nil
		})
		worker := greenthread.Spawn(h, func() (struct{}, error) {
			if err := greenthread.Sleep(h, 5*tick); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, wait(h)
		})
		worker.G().SetName("worker")
		if _, err := worker.Wait(); err != nil {
			return err
		}
		if err := greenthread.Sleep(h, 5*tick); err != nil {
			return err
		}
		done = true
		if _, err := ticker.Wait(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the worker waited %v with -sleep %s; the ticker's longest gap: %v\n",
			blocked, *how, longest.Round(10*time.Millisecond))
		return nil
	})
	if err := errors.Join(err, trace.Close()); err != nil {
		log.Error("stall: exiting", "err", err)
		return 1
	}
	return 0
}
