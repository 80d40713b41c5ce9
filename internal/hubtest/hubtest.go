// Package hubtest holds the helpers the hub and greenthread tests share:
// running a hub with a time limit, pipes for the poller, and thread ids.
// Every package's tests run their hubs through it. It is for tests only.
package hubtest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// Limit bounds every Run: a hub that hangs fails its test instead of the
// whole binary.
const Limit = 2 * time.Minute

// ErrTest is an error for tests to pass around and recognise.
var ErrTest = errors.New("test error")

// Run runs main on h in a goroutine of its own (Run locks it to an OS
// thread) and returns Run's error, failing the test if Run takes longer
// than Limit. Green threads must report failures with t.Errorf (or by
// returning an error), never t.Fatal: FailNow would unwind the hub's
// coroutine chain.
func Run(t testing.TB, h *hub.Hub, main func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.Run(main) }()
	limit := time.NewTimer(Limit)
	defer limit.Stop()
	select {
	case err := <-done:
		return err
	case <-limit.C:
		t.Fatalf("hub.Run did not return within %v", Limit)
		return nil
	}
}

// MustRun is Run for a main that must succeed.
func MustRun(t testing.TB, h *hub.Hub, main func() error) {
	t.Helper()
	if err := Run(t, h, main); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// Pipe returns a non-blocking, close-on-exec pipe. The write end is closed
// when the test ends; the read end is for the hub to own (Register) or is
// closed too if closeRead.
func Pipe(t testing.TB, closeRead bool) (r, w int) {
	t.Helper()
	var p [2]int
	if err := pipe2(p[:]); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	if closeRead {
		t.Cleanup(func() { unix.Close(p[0]) })
	}
	return p[0], p[1]
}

// Catch runs f and returns the error it panicked with, or what it
// returned.
func Catch(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				e = fmt.Errorf("panic: %v", r)
			}
			err = e
		}
	}()
	return f()
}

// YieldUntil yields until cond holds, at most limit times.
func YieldUntil(h *hub.Hub, limit int, cond func() bool) error {
	for i := 0; !cond(); i++ {
		if i == limit {
			return fmt.Errorf("condition not met after %d yields", limit)
		}
		if err := h.Raw().Yield(); err != nil {
			return err
		}
	}
	return nil
}

// Virtual is the option of a virtual clock that jumps to the next timer
// when nothing else can happen: tests about time run in no time and
// reproducibly.
func Virtual() hub.Option { return hub.WithClock(timers.NewVirtual(true)) }

// Main creates a hub with opts, runs main as its first green thread with
// Run (bounded by Limit) and returns the hub, for Stats and Dump after the
// run. The test fails if Run returns an error.
func Main(t testing.TB, main func(h *hub.Hub) error, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h, err := MainErr(t, main, opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return h
}

// MainErr is Main for a run whose error the test examines.
func MainErr(t testing.TB, main func(h *hub.Hub) error, opts ...hub.Option) (*hub.Hub, error) {
	t.Helper()
	h := hub.New(opts...)
	return h, Run(t, h, func() error { return main(h) })
}
