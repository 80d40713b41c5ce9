package main

import (
	"fmt"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// The output is the same on every run: FIFO ready queue, deferred start,
// ordered timers.
func Example() {
	main()
	// Output:
	// main has spawned 4 green threads
	// spawn starts, sleeps 20ms
	// spawn_n 1 runs
	// spawn_n 2 runs
	// spawn_n 3 runs
	// main is back from sleep(0)
	// spawn_after 1 fired
	// spawn_after 2 fired
	// spawn_after returned late <nil>
	// spawn returned 49 <nil>
	// cancelled thread: hub: green thread killed
}

// Timer ties, exactly: on a virtual clock that stands still while main
// sets them, three timers share one deadline and fire in the order they
// were set; one set later with a shorter delay fires first.
func Example_timerTies() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		var done []*greenthread.Thread[struct{}]
		after := func(d time.Duration, name string) {
			done = append(done, greenthread.SpawnAfter(h, d, func() (struct{}, error) {
				fmt.Printf("%s fires at %v\n", name, h.Now())
				return struct{}{}, nil
			}))
		}
		after(10*time.Millisecond, "a")
		after(10*time.Millisecond, "b")
		after(10*time.Millisecond, "c")
		after(5*time.Millisecond, "d")
		for _, t := range done {
			t.Wait()
		}
		return nil
	})
	// Output:
	// d fires at 5ms
	// a fires at 10ms
	// b fires at 10ms
	// c fires at 10ms
}
