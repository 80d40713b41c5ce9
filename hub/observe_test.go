package hub_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// The tracer sees a green thread's life in order: spawn, switch to it,
// block on an fd, poll, wake, switch, block on a sleep, timer, wake, exit.
func TestTracerEvents(t *testing.T) {
	tr := &recordingTracer{}
	h := hub.New(hub.WithTracer(tr))
	r, w := pipe(t, false)
	var spawnEvent string
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		gr := newGroup(h)
		worker, err := gr.spawn(func() error {
			if _, err := readSome(fd, make([]byte, 1)); err != nil {
				return err
			}
			return h.Raw().Sleep(time.Millisecond)
		}, nil)
		if err != nil {
			return err
		}
		spawnEvent = "spawn " + worker.String() // named only after it was spawned
		worker.SetName("worker")
		if err := parked(h, worker); err != nil {
			return err
		}
		if _, err := unix.Write(w, []byte("x")); err != nil {
			return err
		}
		return gr.wait()
	})
	// The events that must appear in this order; "*" matches any word.
	want := []string{
		spawnEvent,
		"switch * worker",
		"block worker read",
		"poll *",
		"pollend *",
		"wake worker",
		"switch * worker",
		"block worker sleep",
		"timer",
		"wake worker",
		"switch * worker",
		"exit worker <nil>",
	}
	i := 0
	for _, e := range tr.events {
		if i < len(want) && matchEvent(want[i], e) {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("events do not contain %q (after %q) in order:\n%s", want[i], want[:i], strings.Join(tr.events, "\n"))
	}
	// Nothing after the worker's exit mentions it.
	if last := tr.events[len(tr.events)-1]; strings.Contains(last, "worker") && !strings.HasPrefix(last, "exit worker") {
		t.Errorf("last event %q", last)
	}
}

func matchEvent(pattern, event string) bool {
	p, e := strings.Fields(pattern), strings.Fields(event)
	if len(e) < len(p) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != e[i] {
			return false
		}
	}
	return true
}

// spinFor holds the hub's thread without yielding: what the watchdog is
// for.
func spinFor(d time.Duration) int {
	n := 0
	for start := time.Now(); time.Since(start) < d; {
		n++
	}
	return n
}

// The watchdog reports a green thread that holds the hub too long, with
// its name and a stack that shows where it is stuck.
func TestWatchdog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	h := hub.New(hub.WithWatchdog(50*time.Millisecond), hub.WithLogger(logger))
	mustRun(t, h, func() error {
		gr := newGroup(h)
		g, err := gr.spawn(func() error { spinFor(300 * time.Millisecond); return nil }, nil)
		if err != nil {
			return err
		}
		g.SetName("busy-looper")
		return gr.wait()
	})
	out := buf.String()
	for _, want := range []string{"level=WARN", "blocked by green thread busy-looper", "hub_test.spinFor"} {
		if !strings.Contains(out, want) {
			t.Errorf("watchdog log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "blocked by green thread busy-looper"); n != 1 {
		t.Errorf("%d watchdog reports for one stall, want 1", n)
	}
}

// A hub that switches often is never reported, even when the green thread
// that yields is alone. (The threshold leaves room for a loaded machine
// not scheduling the hub's thread for a while.)
func TestWatchdogQuiet(t *testing.T) {
	var buf bytes.Buffer
	h := hub.New(hub.WithWatchdog(150*time.Millisecond), hub.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	mustRun(t, h, func() error {
		for start := time.Now(); time.Since(start) < 500*time.Millisecond; {
			spinFor(time.Millisecond)
			if err := h.Raw().Yield(); err != nil {
				return err
			}
		}
		return nil
	})
	if buf.Len() != 0 {
		t.Errorf("watchdog reported a hub that kept switching:\n%s", buf.String())
	}
}

// Dump lists the green threads with their states and what they wait for,
// the fds with their waiters, and the next timer.
func TestDump(t *testing.T) {
	h := hub.New()
	r, _ := pipe(t, false)
	var out bytes.Buffer
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		reader, _ := h.Raw().Spawn(fd.WaitRead, nil)
		reader.SetName("reader")
		sleeper, _ := h.Raw().Spawn(func() error { return h.Raw().Sleep(time.Hour) }, nil)
		sleeper.SetName("sleeper")
		if err := parked(h, sleeper); err != nil {
			return err
		}
		return h.Dump(&out)
	})
	s := out.String()
	for _, want := range []string{
		"3 green threads",
		"reader", "parked", fmt.Sprintf("read fd %d", r),
		"sleeper", "sleep",
		fmt.Sprintf("fd %-5d reader=reader", r),
		"next timer in",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("dump lacks %q:\n%s", want, s)
		}
	}
}

// A panicking hub callback is logged and the hub goes on.
func TestCallbackPanicIsLogged(t *testing.T) {
	var buf bytes.Buffer
	h := hub.New(hub.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	mustRun(t, h, func() error {
		h.Raw().AfterFunc(0, func() { panic("timer trouble") })
		if err := h.Submit(func() { panic("submit trouble") }); err != nil {
			return err
		}
		return h.Raw().Sleep(time.Millisecond)
	})
	for _, want := range []string{"timer trouble", "submit trouble"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
