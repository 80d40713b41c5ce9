package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/greenhub/greenhub/bench/loadgen"
)

// Drive a small echo server with 10 connections for a fraction of a second
// and check that every echoed byte came back right.
func ExampleRun() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() { // a goroutine-per-connection echo server
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	cfg := loadgen.Default()
	cfg.Addr = ln.Addr().String()
	cfg.Conns = 10
	cfg.Warmup = 50 * time.Millisecond
	cfg.Duration = 200 * time.Millisecond
	res, err := loadgen.Run(context.Background(), cfg)
	ln.Close()
	<-done
	if err != nil {
		panic(err)
	}
	fmt.Println("messages echoed:", res.Msgs > 0)
	fmt.Println("mismatches:", res.Mismatches, "errors:", res.Errors)
	fmt.Println("p50 <= p99:", res.Latency.P50 <= res.Latency.P99)
	// Output:
	// messages echoed: true
	// mismatches: 0 errors: 0
	// p50 <= p99: true
}
