package main

import (
	"errors"
	"fmt"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// The classic greenlet program prints 12, 56 and 34, never 78.
func Example() {
	main()
	// Output:
	// 12
	// 56
	// 34
}

// Switch passes values both ways; Throw makes the target's pending Switch
// return an error, and the target's result (or error) goes to its parent
// when it ends. Throw(nil) is greenlet's GreenletExit: the target unwinds,
// its deferred calls running.
func Example_throw() {
	h := hub.New()
	h.Run(func() error {
		main := greenthread.Current(h)
		gr, _ := greenthread.NewGreenlet(h, func(arg any) (any, error) {
			fmt.Println("gr starts with", arg)
			v, err := main.Switch("ping")
			fmt.Println("gr's switch returned", v, err)
			return "gr's result", nil
		}, greenthread.Greenlet{})
		v, err := gr.Switch("hello")
		fmt.Println("main got", v, err)
		v, err = gr.Throw(errors.New("boom"))
		fmt.Println("main got", v, err, "- gr dead:", gr.Dead())

		gr2, _ := greenthread.NewGreenlet(h, func(any) (any, error) {
			defer fmt.Println("gr2's deferred call runs")
			if _, err := main.Switch(nil); err != nil {
				fmt.Println("gr2's switch returned", err)
				return nil, err // an error, not an exception: gr2 returns it
			}
			return "not this", nil
		}, greenthread.Greenlet{})
		gr2.Switch(nil)
		v, err = gr2.Throw(nil)
		fmt.Println("main got", v, err, "- gr2 dead:", gr2.Dead())
		return nil
	})
	// Output:
	// gr starts with hello
	// main got ping <nil>
	// gr's switch returned <nil> boom
	// main got gr's result <nil> - gr dead: true
	// gr2's switch returned hub: green thread killed
	// gr2's deferred call runs
	// main got <nil> <nil> - gr2 dead: true
}
