package main

import (
	"io"
	"net"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoServer serves io.Copy echoes on a free loopback port until the test
// ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func TestExitStatus(t *testing.T) {
	addr := echoServer(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "ok", args: []string{"-addr", addr, "-conns", "3", "-warmup", "0s", "-duration", "100ms", "-json"}, want: 0},
		{name: "no address", args: []string{"-conns", "3"}, want: 2},
		{name: "bad flag value", args: []string{"-addr", addr, "-size", "0"}, want: 2},
		{name: "unknown flag", args: []string{"-bogus"}, want: 2},
		{name: "stray argument", args: []string{"-addr", addr, "extra"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
