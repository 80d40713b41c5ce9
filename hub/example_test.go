package hub_test

import (
	"fmt"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Run runs main as the hub's first green thread. Green threads take turns:
// each runs until it sleeps or yields, and timers fire in deadline order.
// A virtual clock makes the output exact.
func ExampleHub_Run() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	err := h.Run(func() error {
		for _, name := range []string{"a", "b"} {
			h.Raw().Spawn(func() error {
				for i := 1; i <= 2; i++ {
					fmt.Println(name, i, "at", h.Now())
					h.Raw().Sleep(time.Second)
				}
				return nil
			}, nil)
		}
		h.Raw().Sleep(time.Minute) // when main returns, Run kills the rest
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

// Submit is the one door in from other goroutines: the function runs on
// the hub's thread, where it may wake a green thread.
func ExampleHub_Submit() {
	h := hub.New()
	err := h.Run(func() error {
		tok, _ := h.Raw().Token() // names main's next park
		go func() {               // a plain goroutine, not a green thread
			result := 6 * 7
			h.Submit(func() {
				fmt.Println("submitted function got", result)
				h.Raw().ReadyToken(tok, nil)
			})
		}()
		err := h.Raw().Park(hub.Block("result"))
		fmt.Println("main woke:", err)
		return nil
	})
	fmt.Println("Run:", err)
	// Output:
	// submitted function got 42
	// main woke: <nil>
	// Run: <nil>
}

// Offload runs a call that would block the OS thread on another goroutine
// (eventlet's tpool.execute) while the other green threads go on.
func ExampleHub_Offload() {
	h := hub.New(hub.WithOffloadWorkers(2))
	h.Run(func() error {
		h.Raw().Spawn(func() error {
			fmt.Println("another green thread runs meanwhile")
			return nil
		}, nil)
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
		h.Raw().Sleep(time.Second)
		return nil
	})
	// Output:
	// spawn g1
	// block g1 on sleep
	// wake g1
	// exit g1 <nil>
}
