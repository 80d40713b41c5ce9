// Command bridge shows green threads and goroutines working together: a
// goroutine producer feeds jobs into a bounded greensync.Queue through
// greensync.Call (blocking the goroutine, never the hub, when the queue is
// full), green consumers take them, and the results flow back to ordinary
// Go code on a channel through greensync.Send. The output is the same on
// every run: results are collected and printed in order.
//
// With -trace FILE it also writes a Chrome trace of the run (Perfetto, or
// go run ./cmd/timeline).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

type result struct{ job, square int }

var trace = tracing.Register(flag.CommandLine)

func main() {
	flag.Parse()
	opts, err := trace.Start(1)
	if err == nil {
		err = run(os.Stdout, 20, 3, opts...)
		err = errors.Join(err, trace.Close())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// run pushes jobs 1..n through workers green consumers on a hub made with
// opts and prints the results.
func run(w io.Writer, n, workers int, opts ...hub.Option) error {
	h := hub.New(opts...)
	jobs := greensync.NewQueue[int](h, 4) // bounded: the producer feels back-pressure
	results := make(chan result)

	// The producer is an ordinary goroutine. Each Put runs in a green
	// thread; Call returns when the item is in the queue. Between two
	// calls the consumers wait for what the producer will send: it holds a
	// reference to the hub all along, so the hub knows more is coming and
	// does not take the wait for a deadlock.
	producerDone := make(chan error, 1)
	unref := h.Ref()
	go func() {
		defer unref()
		for i := 1; i <= n; i++ {
			if _, err := greensync.Call(h, func() (struct{}, error) { return struct{}{}, jobs.Put(i) }); err != nil {
				producerDone <- err
				return
			}
		}
		// One stop marker per consumer.
		for range workers {
			if _, err := greensync.Call(h, func() (struct{}, error) { return struct{}{}, jobs.Put(0) }); err != nil {
				producerDone <- err
				return
			}
		}
		producerDone <- nil
	}()

	// The hub runs in its own goroutine: green consumers square the jobs
	// and send the results out on a Go channel without blocking the hub.
	hubDone := make(chan error, 1)
	go func() {
		hubDone <- h.Run(func() error {
			defer close(results) // also if the run fails: the collector below stops
			var consumers []*greenthread.Thread[int]
			for range workers {
				consumers = append(consumers, greenthread.Spawn(h, func() (int, error) {
					done := 0
					for {
						job, err := jobs.Get()
						if err != nil || job == 0 {
							return done, err
						}
						greenthread.Sleep(h, time.Millisecond) // some green I/O
						if err := greensync.Send(h, results, result{job, job * job}); err != nil {
							return done, err
						}
						done++
						jobs.TaskDone()
					}
				}))
			}
			total := 0
			for _, c := range consumers {
				k, err := c.Wait()
				if err != nil {
					return err
				}
				total += k
			}
			if total != n {
				return fmt.Errorf("consumers did %d jobs, want %d", total, n)
			}
			return nil
		})
	}()

	// Plain Go code collects the results.
	var got []result
	for r := range results {
		got = append(got, r)
	}
	if err := <-producerDone; err != nil {
		return err
	}
	if err := <-hubDone; err != nil {
		return err
	}
	slices.SortFunc(got, func(a, b result) int { return a.job - b.job })
	sum := 0
	for _, r := range got {
		fmt.Fprintf(w, "%d² = %d\n", r.job, r.square)
		sum += r.square
	}
	fmt.Fprintf(w, "%d results, sum %d\n", len(got), sum)
	return nil
}
