// Command spawn shows eventlet's ways of starting green threads — spawn,
// spawn_n and spawn_after — and sleep, on one hub, and the three rules that
// make its output the same on every run: the ready queue is FIFO; a spawned
// green thread starts only when its spawner yields or blocks; timers fire
// in deadline order, equal deadlines in the order they were set.
//
// With -trace FILE it also writes a Chrome trace of the run (Perfetto, or
// go run ./cmd/timeline).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

var trace = tracing.Register(flag.CommandLine)

func main() {
	flag.Parse()
	opts, err := trace.Start(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
	h := hub.New(opts...)
	err = h.Run(func() error {
		greenthread.Current(h).G().SetName("main") // the trace's lanes are named

		// spawn: a green thread with a result to wait for.
		square := greenthread.Spawn(h, func() (int, error) {
			fmt.Println("spawn starts, sleeps 20ms")
			greenthread.Sleep(h, 20*time.Millisecond)
			return 7 * 7, nil
		})
		square.G().SetName("spawn")

		// spawn_n: fire and forget, cheaper. They run in spawn order.
		for i := 1; i <= 3; i++ {
			greenthread.SpawnN(h, func() {
				greenthread.Current(h).G().SetName(fmt.Sprint("spawn_n ", i))
				fmt.Printf("spawn_n %d runs\n", i)
			})
		}

		// spawn_after: starts later; with the same delay, in the order set;
		// a cancelled one never runs.
		late := greenthread.SpawnAfter(h, 10*time.Millisecond, func() (string, error) {
			fmt.Println("spawn_after 1 fired")
			return "late", nil
		})
		late.G().SetName("spawn_after 1")
		later := greenthread.SpawnAfter(h, 10*time.Millisecond, func() (string, error) {
			fmt.Println("spawn_after 2 fired")
			return "later", nil
		})
		later.G().SetName("spawn_after 2")
		never := greenthread.SpawnAfter(h, 10*time.Millisecond, func() (string, error) {
			fmt.Println("this never prints")
			return "", nil
		})
		never.G().SetName("cancelled")
		never.Cancel()

		// Deferred start: nothing spawned has run yet. sleep(0) lets
		// them run, in the order spawned, and main goes last.
		fmt.Println("main has spawned 4 green threads")
		greenthread.Yield(h)
		fmt.Println("main is back from sleep(0)")

		v, err := late.Wait()
		fmt.Println("spawn_after returned", v, err)
		n, err := square.Wait()
		fmt.Println("spawn returned", n, err)
		_, err = never.Wait()
		fmt.Println("cancelled thread:", err)
		return nil
	})
	if err := errors.Join(err, trace.Close()); err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
}
