// Command greenlet is the classic program of greenlet's documentation on a
// greenhub hub. Two greenlets are made, neither running yet; main switches
// to the first, which prints 12 and switches to the second; the second
// prints 56 and switches back; the first prints 34 and returns, which ends
// it. The second would print 78 after its switch, but nothing resumes it.
//
// It prints 12, 56 and 34. When gr1's function returns, control goes to its
// parent (main), which returns; 78 is never printed because nothing
// switches back to gr2, and the hub unwinds it when Run ends.
//
// With -trace FILE it also writes a Chrome trace of the run, the switches
// main, gr1, gr2, gr1, main on tracks of those names:
//
//	go run ./examples/greenlet -trace greenlet.json
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

var trace = tracing.Register(flag.CommandLine)

func main() {
	flag.Parse()
	opts, err := trace.Start(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "greenlet:", err)
		os.Exit(1)
	}
	h := hub.New(opts...)
	err = h.Run(func() error {
		greenthread.Current(h).G().SetName("main") // the names of the trace's tracks
		var gr1, gr2 greenthread.Greenlet
		gr1, err := greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(12)
			gr2.Switch(nil)
			fmt.Println(34)
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		gr2, err = greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(56)
			gr1.Switch(nil)
			fmt.Println(78)
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		gr1.G().SetName("gr1")
		gr2.G().SetName("gr2")
		_, err = gr1.Switch(nil)
		return err
	})
	if err := errors.Join(err, trace.Close()); err != nil {
		fmt.Fprintln(os.Stderr, "greenlet:", err)
		os.Exit(1)
	}
}
