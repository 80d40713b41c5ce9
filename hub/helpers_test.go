package hub_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// testLimit bounds every Run in these tests: a hub that hangs fails its
// test instead of the whole binary.
const testLimit = 2 * time.Minute

// run runs main on h in a goroutine of its own (Run locks it to an OS
// thread) and returns Run's error, failing the test if Run takes longer
// than testLimit. Green threads must report failures with t.Errorf (or by
// returning an error), never t.Fatal: FailNow would unwind the hub's
// coroutine chain.
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

// group spawns green threads with the hub's own API and waits for them
// (greenthread is the friendlier way; these tests stay one level down).
type group struct {
	h      *hub.Hub
	live   int
	waiter *hub.G
}

func newGroup(h *hub.Hub) *group { return &group{h: h} }

// spawn starts fn in a green thread; onExit, if not nil, runs when it ends.
func (gr *group) spawn(fn func() error, onExit func(*hub.G)) (*hub.G, error) {
	g, err := gr.h.Spawn(fn, func(g *hub.G) {
		if onExit != nil {
			onExit(g)
		}
		gr.live--
		if gr.live == 0 && gr.waiter != nil {
			gr.h.Ready(gr.waiter, nil)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	gr.live++
	return g, nil
}

// wait parks the calling green thread until every green thread of the
// group has ended.
func (gr *group) wait() error {
	for gr.live > 0 {
		gr.waiter = gr.h.Current()
		err := gr.h.Park(hub.Block("group"))
		gr.waiter = nil
		if err != nil {
			return err
		}
	}
	return nil
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

// pipe returns a non-blocking pipe. The write end is closed when the test
// ends; the read end is for the hub to own (Register) or is closed too if
// closeRead.
func pipe(t *testing.T, closeRead bool) (r, w int) {
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

// readSome reads from a registered non-blocking fd, parking on it until
// data (or EOF) comes.
func readSome(d *hub.FD, buf []byte) (int, error) {
	for {
		n, err := unix.Read(d.Sysfd(), buf)
		if err == unix.EAGAIN {
			d.ClearReadReady()
			if err := d.WaitRead(); err != nil {
				return 0, err
			}
			continue
		}
		return n, err
	}
}

var errTest = errors.New("test error")
