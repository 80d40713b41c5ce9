package study_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/greenhub/greenhub/bench/study"
)

// The three sweeps go through one base point, each varying one of C, D
// and K.
func ExampleSweeps() {
	base := study.Point{Work: 20 * time.Microsecond, Wait: 5 * time.Millisecond, Inflight: 64}
	sweeps := study.Sweeps(base,
		[]time.Duration{0, 20 * time.Microsecond, time.Millisecond},
		[]time.Duration{0, 5 * time.Millisecond},
		[]int{1, 64, 2048})
	for _, s := range sweeps {
		fmt.Printf("%-8s", s.Name)
		for _, p := range s.Points {
			fmt.Printf(" %s", s.Label(p))
		}
		fmt.Println()
	}
	// Output:
	// cpu      C=0 C=20µs C=1ms
	// wait     D=0 D=5ms
	// inflight K=1 K=64 K=2048
}

// A request as the producer writes it and an executor reads it.
func ExampleReadFrame() {
	wire := study.AppendFrame(nil, study.Frame{Kind: study.Request, ID: 42, Work: 20, Wait: 5000, Payload: []byte("ping")})
	f, err := study.ReadFrame(bytes.NewReader(wire), nil)
	fmt.Println(len(wire), f.Kind, f.ID, f.Work, f.Wait, string(f.Payload), err)
	// Output: 25 request 42 20 5000 ping <nil>
}
