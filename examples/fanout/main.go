// Command fanout shows how fan-out meets run-to-block scheduling. One
// reader green thread reads lines from a connection and puts each on a
// greensync.Queue; four writer green threads take them off. A burst of 100
// lines arrives at once, so the reader's first read returns all of them.
//
// A green thread runs until it blocks: the writers that a Put wakes become
// ready, but they run only when the reader parks — on a full queue, or on
// its next read once the burst is used up. With a queue that holds the
// burst, the reader handles every line before any writer runs, and the
// queue's peak length is the burst; with a small queue the reader parks
// mid-burst and the writers start early, at the price of a switch per few
// lines. Size queues for the bursts you expect: big enough to absorb
// them, if the reader should not be held up, or small enough to bound the
// memory and the first line's wait.
//
// go run ./examples/fanout
//
// -trace FILE writes a Chrome trace of the four runs, a hub each (see
// docs/tutorial).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

const (
	burst   = 100 // lines sent in one write
	writers = 4
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trace := tracing.Register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	opts, err := trace.Start(1)
	if err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 1
	}
	err = errors.Join(report(stdout, opts), trace.Close())
	if err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 1
	}
	return 0
}

// report runs fanOut with each queue size and prints a line for each.
// opts are the hubs' options.
func report(stdout io.Writer, opts []hub.Option) error {
	fmt.Fprintf(stdout, "%-10s %-23s %-12s %-14s %-17s %s\n", "queue", "first writer ran after", "peak length", "reader parked", "lines per writer", "resumes")
	for _, size := range []int{greensync.Unbounded, burst, 10, 1} {
		r, err := fanOut(size, opts)
		if err != nil {
			return err
		}
		name := fmt.Sprint(size)
		if size == greensync.Unbounded {
			name = "unbounded"
		}
		fmt.Fprintf(stdout, "%-10s %-23s %-12d %-14d %-17s %d\n",
			name, fmt.Sprintf("%d lines", r.beforeFirstWrite), r.peak, r.parkedOnPut, fmt.Sprint(r.perWriter), r.resumes)
	}
	return nil
}

// result is what one run of fanOut observed.
type result struct {
	beforeFirstWrite int // lines the reader had taken when a writer first ran
	peak             int // the queue's longest length
	parkedOnPut      int // Puts that found the queue full
	perWriter        [writers]int
	resumes          uint64
}

// fanOut sends a burst of lines over a loopback connection to a reader
// that feeds a queue of size (greensync.Unbounded: no limit) and the
// writers, and reports what happened. opts are the hub's options.
func fanOut(size int, opts []hub.Option) (result, error) {
	var r result
	h := hub.New(opts...)
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		client, err := netio.Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		server, err := l.AcceptConn()
		if err != nil {
			return err
		}
		defer server.Close()

		q := greensync.NewQueue[string](h, size)
		read := 0
		done := greensync.NewEvent[struct{}](h)
		written := 0
		for i := range writers {
			greenthread.SpawnN(h, func() {
				for {
					if _, err := q.Get(); err != nil {
						return // killed at the end of the run
					}
					if written == 0 {
						r.beforeFirstWrite = read
					}
					r.perWriter[i]++
					if written++; written == burst {
						done.Send(struct{}{})
					}
				}
			})
		}
		reader := greenthread.Spawn(h, func() (struct{}, error) {
			sc := bufio.NewScanner(server)
			for sc.Scan() {
				read++
				if q.Full() {
					r.parkedOnPut++
				}
				if err := q.Put(sc.Text()); err != nil {
					return struct{}{}, err
				}
				r.peak = max(r.peak, q.Len())
			}
			return struct{}{}, sc.Err()
		})
		// The writers wait in Get, the reader in Read.
		if err := greenthread.Yield(h); err != nil {
			return err
		}

		start := h.Stats().Resumes
		if _, err := io.WriteString(client, strings.Repeat("a line\n", burst)); err != nil {
			return err
		}
		client.Close()
		if _, err := done.Wait(); err != nil {
			return err
		}
		r.resumes = h.Stats().Resumes - start
		_, err = reader.Wait() // it has seen EOF
		return err
	})
	return r, err
}
