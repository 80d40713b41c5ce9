package timers_test

import (
	"fmt"
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Timers with equal deadlines fire in the order they were scheduled.
func ExampleHeap() {
	var h timers.Heap
	newTimer := func(name string) *timers.Timer {
		return &timers.Timer{F: func() { fmt.Println("fire", name) }}
	}
	a, b, c := newTimer("a"), newTimer("b"), newTimer("c")
	h.Schedule(a, 20*time.Millisecond)
	h.Schedule(b, 10*time.Millisecond)
	h.Schedule(c, 10*time.Millisecond) // ties with b, scheduled after it

	for t := h.Pop(); t != nil; t = h.Pop() {
		fmt.Print(t.When(), " ")
		t.F()
	}
	// Output:
	// 10ms fire b
	// 10ms fire c
	// 20ms fire a
}

// A hub's turn: fire every timer due at the clock's current time.
func ExampleHeap_PopDue() {
	clock := timers.NewVirtual(false)
	var h timers.Heap
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		h.Schedule(&timers.Timer{F: func() { fmt.Println("timer", d, "at", clock.Now()) }}, d)
	}
	for h.Len() > 0 {
		clock.Advance(1500 * time.Millisecond)
		for t := h.PopDue(clock.Now()); t != nil; t = h.PopDue(clock.Now()) {
			t.F()
		}
	}
	// Output:
	// timer 1s at 1.5s
	// timer 2s at 3s
	// timer 3s at 3s
}

func ExampleVirtual() {
	clock := timers.NewVirtual(false)
	fmt.Println(clock.Now())
	clock.Advance(time.Second)
	fmt.Println(clock.Now())
	clock.AdvanceTo(1500 * time.Millisecond)
	fmt.Println(clock.Now())
	clock.AdvanceTo(time.Second) // never backwards
	clock.Advance(-time.Minute)  // ignored
	fmt.Println(clock.Now())
	// Output:
	// 0s
	// 1s
	// 1.5s
	// 1.5s
}
