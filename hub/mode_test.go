package hub_test

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// The run modes: Begin, then Step as libuv's uv_run modes, then Close.
func TestRunModes(t *testing.T) {
	tests := []struct {
		name string
		// drive begins a run on h, steps it and closes it, all on one
		// goroutine of its own, not the test's: it reports with t.Errorf
		// and, to stop early, closes the run and returns.
		drive func(t *testing.T, h *hub.Hub)
	}{
		{
			name: "RunNoWait never blocks",
			drive: func(t *testing.T, h *hub.Hub) {
				var unwound bool
				begin(t, h, func() error {
					defer func() { unwound = true }()
					return h.Raw().Sleep(time.Hour) // the real clock
				})
				for i := range 3 {
					start := time.Now()
					alive, err := h.Step(hub.RunNoWait)
					if d := time.Since(start); d > time.Second {
						t.Errorf("step %d: Step(RunNoWait) took %v with main asleep for an hour", i, d)
					}
					if !alive || err != nil {
						t.Errorf("step %d: Step(RunNoWait) = %v, %v; want true, nil", i, alive, err)
					}
				}
				if err := h.Close(); err != nil {
					t.Errorf("Close = %v, want nil: main never returned", err)
				}
				if !unwound {
					t.Error("Close did not unwind main")
				}
			},
		},
		{
			name: "RunOnce runs one turn",
			drive: func(t *testing.T, h *hub.Hub) {
				var runs int
				begin(t, h, func() error {
					for range 3 {
						runs++
						if err := h.Raw().Yield(); err != nil {
							return err
						}
					}
					runs++
					return nil
				})
				for k := 1; k <= 4; k++ {
					before := h.Stats().Turns
					alive, err := h.Step(hub.RunOnce)
					if err != nil {
						t.Errorf("step %d: Step(RunOnce) = %v", k, err)
						break
					}
					if turns := h.Stats().Turns - before; turns != 1 {
						t.Errorf("step %d: Step(RunOnce) ran %d turns, want 1", k, turns)
					}
					if runs != k {
						t.Errorf("step %d: main resumed %d times, want %d", k, runs, k)
					}
					if want := k < 4; alive != want {
						t.Errorf("step %d: alive = %v, want %v", k, alive, want)
					}
				}
				if err := h.Close(); err != nil {
					t.Errorf("Close = %v, want nil", err)
				}
			},
		},
		{
			name: "Step and Close only from Begin's goroutine",
			drive: func(t *testing.T, h *hub.Hub) {
				if alive, err := h.Step(hub.RunNoWait); alive || !errors.Is(err, hub.ErrNotStarted) {
					t.Errorf("Step before Begin = %v, %v; want false, ErrNotStarted", alive, err)
				}
				begin(t, h, func() error { return h.Raw().Park(hub.Block("x")) })
				type result struct {
					alive         bool
					stepErr, cerr error
				}
				other := make(chan result)
				go func() {
					alive, err := h.Step(hub.RunNoWait)
					other <- result{alive, err, h.Close()}
				}()
				r := <-other
				if r.alive || !errors.Is(r.stepErr, hub.ErrOutside) {
					t.Errorf("Step from another goroutine = %v, %v; want false, ErrOutside", r.alive, r.stepErr)
				}
				if !errors.Is(r.cerr, hub.ErrOutside) {
					t.Errorf("Close from another goroutine = %v, want ErrOutside", r.cerr)
				}
				if alive, err := h.Step(hub.RunNoWait); !alive || err != nil {
					t.Errorf("Step after the refused calls = %v, %v; want true, nil", alive, err)
				}
				if err := h.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
				if alive, err := h.Step(hub.RunNoWait); alive || !errors.Is(err, hub.ErrStopped) {
					t.Errorf("Step after Close = %v, %v; want false, ErrStopped", alive, err)
				}
			},
		},
		{
			name: "Close unwinds and returns main's error",
			drive: func(t *testing.T, h *hub.Hub) {
				var unwound bool
				var other *hub.G
				begin(t, h, func() error {
					g, err := h.Raw().Spawn(func() error {
						defer func() { unwound = true }()
						return h.Raw().Park(hub.Block("forever"))
					}, nil)
					if err != nil {
						return err
					}
					other = g
					if err := h.Raw().Yield(); err != nil { // other parks
						return err
					}
					return errTest
				})
				alive := true
				for i := 0; alive && i < 10; i++ {
					var err error
					if alive, err = h.Step(hub.RunNoWait); err != nil {
						t.Errorf("Step = %v", err)
					}
				}
				if alive {
					t.Error("main has not returned after 10 steps")
				}
				if unwound {
					t.Error("the parked green thread ended before Close")
				}
				if err := h.Close(); !errors.Is(err, errTest) {
					t.Errorf("Close = %v, want main's error %v", err, errTest)
				}
				if !unwound {
					t.Error("Close did not unwind the parked green thread")
				}
				if err := other.Err(); !errors.Is(err, hub.ErrKilled) {
					t.Errorf("the parked green thread's error = %v, want ErrKilled", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			done := make(chan struct{})
			go func() { // Begin locks its goroutine to an OS thread
				defer close(done)
				tt.drive(t, h)
			}()
			select {
			case <-done:
			case <-time.After(hubtest.Limit):
				t.Fatalf("the run did not end within %v", hubtest.Limit)
			}
		})
	}
}

// begin is h.Begin(main) for a run the test drives with Step. It is called
// off the test's goroutine: a failure is reported with Errorf and ends that
// goroutine (Begin failed, so there is no run to close).
func begin(t *testing.T, h *hub.Hub, main func() error) {
	t.Helper()
	if err := h.Begin(main); err != nil {
		t.Errorf("Begin = %v", err)
		runtime.Goexit()
	}
}
