package greenthread_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// testLimit bounds every Run in these tests.
const testLimit = 2 * time.Minute

// run runs main on h in a goroutine of its own and returns Run's error,
// failing the test if Run takes longer than testLimit. Green threads report
// failures with t.Errorf or by returning an error, never t.Fatal.
func run(t *testing.T, h *hub.Hub, main func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.Run(main) }()
	limit := time.NewTimer(testLimit)
	defer limit.Stop()
	select {
	case err := <-done:
		return err
	case <-limit.C:
		t.Fatalf("hub.Run did not return within %v", testLimit)
		return nil
	}
}

// mustRun is run for a main that must succeed.
func mustRun(t *testing.T, h *hub.Hub, main func() error) {
	t.Helper()
	if err := run(t, h, main); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// pipe returns a non-blocking pipe; the write end is closed when the test
// ends, the read end is for the hub to own.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := pipe2(p[:]); err != nil {
		t.Fatalf("pipe2: %v", err)
	}
	t.Cleanup(func() { unix.Close(p[1]) })
	return p[0], p[1]
}

// catch runs f and returns the error it panicked with, or what it
// returned.
func catch(f func() error) (err error) {
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

// yieldUntil yields until cond holds, at most limit times.
func yieldUntil(h *hub.Hub, limit int, cond func() bool) error {
	for i := 0; !cond(); i++ {
		if i == limit {
			return fmt.Errorf("condition not met after %d yields", limit)
		}
		if err := h.Yield(); err != nil {
			return err
		}
	}
	return nil
}

var errTest = errors.New("test error")

// noPanic runs f and returns its error; a panic becomes an error that
// wraps nothing, so a test expecting a returned error fails on it.
func noPanic(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked instead of returning an error: %v", r)
		}
	}()
	return f()
}
