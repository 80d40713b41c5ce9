package hub_test

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Run runs main as the hub's first green thread. Green threads take turns:
// each runs until it sleeps or yields, and timers fire in deadline order.
// A virtual clock makes the output exact. Applications spawn and sleep
// through package greenthread.
func ExampleHub_Run() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	err := h.Run(func() error {
		for _, name := range []string{"a", "b"} {
			greenthread.SpawnN(h, func() {
				for i := 1; i <= 2; i++ {
					fmt.Println(name, i, "at", h.Now())
					greenthread.Sleep(h, time.Second)
				}
			})
		}
		greenthread.Sleep(h, time.Minute) // when main returns, Run kills the rest
		fmt.Println("main done at", h.Now())
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// a 1 at 0s
	// b 1 at 0s
	// a 2 at 1s
	// b 2 at 1s
	// main done at 1m0s
	// Run: <nil>
}

// Step drives the hub one turn at a time, as libuv's uv_run modes do: for
// a hub embedded in another loop (a GUI, a notebook) or a test that looks
// between turns. Begin, Step and Close must run on one goroutine.
func ExampleHub_Step() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Begin(func() error {
		for i := range 3 {
			fmt.Println("main, turn", i)
			greenthread.Yield(h)
		}
		return nil
	})
	for turn := 0; ; turn++ {
		alive, err := h.Step(hub.RunNoWait)
		if err != nil || !alive {
			break
		}
		fmt.Println("the embedding loop runs between turns")
	}
	fmt.Println("Close:", h.Close())
	// Output:
	// main, turn 0
	// the embedding loop runs between turns
	// main, turn 1
	// the embedding loop runs between turns
	// main, turn 2
	// the embedding loop runs between turns
	// Close: <nil>
}

// Submit is the one door in from other goroutines: the function runs on
// the hub's thread. A goroutine that will submit later holds a Ref, so
// that the hub knows a wake-up may still come.
func ExampleHub_Submit() {
	h := hub.New()
	err := h.Run(func() error {
		results := make(chan int, 1)
		unref := h.Ref()
		go func() { // a plain goroutine, not a green thread
			defer unref()
			result := 6 * 7
			h.Submit(func() {
				fmt.Println("submitted function got", result)
				results <- result
			})
		}()
		for len(results) == 0 {
			greenthread.Sleep(h, time.Millisecond)
		}
		fmt.Println("main saw", <-results)
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// submitted function got 42
	// main saw 42
	// Run: <nil>
}

// Offload runs a call that would block the OS thread on another goroutine
// (eventlet's tpool.execute) while the other green threads go on.
func ExampleHub_Offload() {
	h := hub.New(hub.WithOffloadWorkers(2))
	h.Run(func() error {
		greenthread.SpawnN(h, func() {
			fmt.Println("another green thread runs meanwhile")
		})
		var n int
		err := h.Offload(func() {
			n, _ = strconv.Atoi("12345") // think: a file read, a DNS lookup, cgo
		})
		fmt.Println("offloaded:", n, err)

		err = h.Offload(func() { panic("worker trouble") })
		fmt.Printf("a panic comes back as %T\n", err)
		return nil
	})
	// Output:
	// another green thread runs meanwhile
	// offloaded: 12345 <nil>
	// a panic comes back as *hub.PanicError
}

// When nothing can ever wake any green thread, Run does not hang as
// eventlet does: it returns ErrDeadlock with a dump of who waits on what.
func ExampleErrDeadlock() {
	h := hub.New()
	err := h.Run(func() error {
		return h.Raw().Park(hub.Block("a reply nobody will send"))
	})
	fmt.Println(errors.Is(err, hub.ErrDeadlock))
	// Output:
	// true
}

// Raw is the face for building blocking primitives. A one-shot latch: a
// green thread parks in Wait until another opens it.
func ExampleRaw() {
	h := hub.New()
	h.Run(func() error {
		raw := h.Raw()
		var waiters hub.WaitQueue[string]
		open := func(msg string) { waiters.WakeAll(msg) }
		wait := func() (string, error) {
			g, err := raw.Green()
			if err != nil {
				return "", err
			}
			w := waiters.Push(g)
			defer waiters.Release(w)
			if err := waiters.Wait(w, hub.Block("latch")); err != nil {
				return "", err
			}
			return w.Item, nil
		}
		greenthread.SpawnN(h, func() { open("opened") })
		msg, err := wait()
		fmt.Println(msg, err)
		return nil
	})
	// Output:
	// opened <nil>
}

// lifeTracer prints green threads' lives; embedding NopTracer leaves the
// other events alone.
type lifeTracer struct{ hub.NopTracer }

func (lifeTracer) Spawn(g *hub.G)                { fmt.Println("spawn", g) }
func (lifeTracer) Block(g *hub.G, on hub.Reason) { fmt.Println("block", g, "on", on) }
func (lifeTracer) Wake(g *hub.G)                 { fmt.Println("wake", g) }
func (lifeTracer) Exit(g *hub.G, err error)      { fmt.Println("exit", g, err) }

// A tracer sees the hub's scheduling as it happens (greenlet's settrace).
func ExampleTracer() {
	h := hub.New(hub.WithTracer(lifeTracer{}), hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		greenthread.Sleep(h, time.Second)
		return nil
	})
	// Output:
	// spawn g1
	// block g1 on sleep
	// wake g1
	// exit g1 <nil>
}
