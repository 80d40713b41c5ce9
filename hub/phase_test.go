package hub_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// phaseTracer records the loop's phases as "timers 1", "batch 2",
// "poll 0s 1" (timeout, events), "door 1", and checks that they never
// nest.
type phaseTracer struct {
	hub.NopTracer
	events []string
	open   string        // the phase begun and not ended, "" if none
	poll   time.Duration // the timeout of the poll under way
	errs   []string
}

func (r *phaseTracer) begin(name string) {
	if r.open != "" {
		r.errs = append(r.errs, fmt.Sprintf("%s begins inside %s", name, r.open))
	}
	r.open = name
}

func (r *phaseTracer) end(name string, n int) {
	if r.open != name {
		r.errs = append(r.errs, fmt.Sprintf("%s ends, but %q is open", name, r.open))
	}
	r.open = ""
	if n <= 0 {
		r.errs = append(r.errs, fmt.Sprintf("%s reported with count %d: an empty phase", name, n))
	}
}

func (r *phaseTracer) PhaseBegin(p hub.Phase) { r.begin(p.String()) }

func (r *phaseTracer) PhaseEnd(p hub.Phase, n int) {
	r.end(p.String(), n)
	r.events = append(r.events, fmt.Sprintf("%s %d", p, n))
}

func (r *phaseTracer) PollBegin(timeout time.Duration) {
	r.begin("poll")
	r.poll = timeout
}

func (r *phaseTracer) PollEnd(n int) {
	if r.open != "poll" {
		r.errs = append(r.errs, fmt.Sprintf("poll ends, but %q is open", r.open))
	}
	r.open = ""
	r.events = append(r.events, fmt.Sprintf("poll %v %d", r.poll, n))
}

// The tracer sees the loop's phases that do work, in the order of turn,
// one Step(RunOnce) at a time, on the virtual clock.
func TestTracerPhases(t *testing.T) {
	tests := []struct {
		name string
		main func(t *testing.T, h *hub.Hub) func() error
		// steps[i] are the phases of step i+1, joined by "; ".
		steps []string
	}{
		{
			name: "timers batch door",
			main: func(t *testing.T, h *hub.Hub) func() error {
				return func() error {
					r := h.Raw()
					if _, err := r.Spawn(func() error { return r.Sleep(10 * time.Millisecond) }, nil); err != nil {
						return err
					}
					if _, err := r.Spawn(r.Yield, nil); err != nil {
						return err
					}
					if err := h.Submit(func() {}); err != nil {
						return err
					}
					return r.Sleep(20 * time.Millisecond)
				}
			},
			steps: []string{
				"batch 1; door 1", // main; Submit's item
				"batch 2",         // the sleeper and the yielder; a timer pending but none due
				"batch 1",         // the yielder again; the clock jumps to 10ms
				"timers 1; batch 1",
				"timers 1; batch 1", // main wakes at 20ms and returns
			},
		},
		{
			name: "poll with events",
			main: func(t *testing.T, h *hub.Hub) func() error {
				rfd, wfd := hubtest.Pipe(t, false)
				return func() error {
					r := h.Raw()
					fd, err := r.Register(rfd)
					if err != nil {
						return err
					}
					if _, err := r.Spawn(func() error {
						_, err := readSome(fd, make([]byte, 1))
						return err
					}, nil); err != nil {
						return err
					}
					if err := r.Yield(); err != nil { // the reader blocks on the pipe
						return err
					}
					if _, err := unix.Write(wfd, []byte("x")); err != nil {
						return err
					}
					return r.Sleep(time.Millisecond)
				}
			},
			steps: []string{
				"batch 1; poll 0s 0", // main spawns the reader and yields; an fd is registered: the poll is made
				"batch 2; poll 0s 1", // the reader blocks, main writes and sleeps: the auto-jumping clock's poll does not wait
				"batch 1; poll 0s 0", // the reader reads and ends; the clock jumps to 1ms
				"timers 1; batch 1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &phaseTracer{}
			h := hub.New(hub.WithTracer(tr), hub.WithClock(timers.NewVirtual(true)))
			main := tt.main(t, h)
			done := make(chan struct{})
			go func() { // Begin locks its goroutine to the OS thread
				defer close(done)
				if err := h.Begin(main); err != nil {
					t.Errorf("Begin = %v", err)
					return
				}
				defer h.Close()
				for i, want := range tt.steps {
					tr.events = tr.events[:0]
					alive, err := h.Step(hub.RunOnce)
					if err != nil {
						t.Errorf("step %d: %v", i+1, err)
						return
					}
					if got := strings.Join(tr.events, "; "); got != want {
						t.Errorf("step %d: phases %q, want %q", i+1, got, want)
					}
					if last := i == len(tt.steps)-1; alive == last {
						t.Errorf("step %d: alive = %v", i+1, alive)
					}
				}
			}()
			<-done
			for _, e := range tr.errs {
				t.Error(e)
			}
		})
	}
}

// resumeTracer checks that Resume comes on the resumed G's own goroutine,
// once after each Switch to a G, or with no Switch when the G that parked
// or yielded runs on.
type resumeTracer struct {
	hub.NopTracer
	h        *hub.Hub
	pending  *hub.G // the to of the last Switch, not resumed yet
	last     *hub.G // the G resumed last, until a Switch
	switches int
	resumes  int
	runOn    int // resumes with no switch
	errs     []string
}

func (r *resumeTracer) Switch(from, to *hub.G) {
	r.last = nil
	if to != r.h.Raw().Loop() {
		r.switches++
		r.pending = to
	}
}

func (r *resumeTracer) Resume(g *hub.G) {
	r.resumes++
	if cur := r.h.Raw().Current(); cur != g {
		r.errs = append(r.errs, fmt.Sprintf("Resume(%v) called on %v's goroutine", g, cur))
	}
	switch {
	case g == r.pending:
	case r.pending == nil && g == r.last:
		r.runOn++
	default:
		r.errs = append(r.errs, fmt.Sprintf("Resume(%v) after a switch to %v, %v having run last", g, r.pending, r.last))
	}
	r.pending, r.last = nil, g
}

func TestTracerResume(t *testing.T) {
	tr := &resumeTracer{}
	h := hub.New(hub.WithTracer(tr), hubtest.Virtual())
	tr.h = h
	hubtest.MustRun(t, h, func() error {
		r := h.Raw()
		gr, err := r.NewGreenlet(func(any) (any, error) {
			return nil, r.Sleep(time.Millisecond)
		}, nil, nil)
		if err != nil {
			return err
		}
		for range 3 {
			if _, err := r.Spawn(r.Yield, nil); err != nil {
				return err
			}
		}
		if _, err := r.Switch(gr, nil); err != nil {
			return err
		}
		return r.Yield()
	})
	for _, e := range tr.errs {
		t.Error(e)
	}
	if tr.resumes != tr.switches+tr.runOn || tr.switches < 8 || tr.runOn < 1 {
		t.Errorf("%d switches to green threads, %d resumes, %d of them running on; want a resume per switch and per run-on, at least 8 switches and 1 run-on",
			tr.switches, tr.resumes, tr.runOn)
	}
}
