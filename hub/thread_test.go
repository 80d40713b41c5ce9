package hub_test

import (
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// Invariant 1: every green thread, greenlet and hub callback runs on the
// one OS thread Run locked.
func TestOneOSThread(t *testing.T) {
	if !haveGettid {
		t.Skip("no gettid on this OS")
	}
	h := hub.New()
	tids := map[int]int{}
	record := func() { tids[gettid()]++ }
	var offloadTid int
	mustRun(t, h, func() error {
		record()
		gr := newGroup(h)
		for range 1000 {
			if _, err := gr.spawn(func() error {
				record()
				if err := h.Raw().Yield(); err != nil {
					return err
				}
				record()
				return h.Raw().Sleep(time.Microsecond)
			}, func(*hub.G) { record() }); err != nil {
				return err
			}
		}
		for i := range 100 {
			g, err := h.Raw().NewGreenlet(func(arg any) (any, error) {
				record()
				return arg, nil
			}, nil, nil)
			if err != nil {
				return err
			}
			if v, err := h.Raw().Switch(g, i); err != nil || v != i {
				t.Errorf("Switch = %v, %v; want %d, nil", v, err, i)
			}
		}
		h.Raw().AfterFunc(0, record)
		if err := h.Submit(record); err != nil {
			return err
		}
		if err := h.Offload(func() { offloadTid = gettid() }); err != nil {
			return err
		}
		if err := gr.wait(); err != nil {
			return err
		}
		record()
		return nil
	})
	if len(tids) != 1 {
		t.Fatalf("green threads ran on %d OS threads: %v", len(tids), tids)
	}
	for tid, n := range tids {
		if want := 1 + 1000*3 + 100 + 2 + 1; n != want {
			t.Errorf("%d records on thread %d, want %d", n, tid, want)
		}
		if offloadTid == tid {
			t.Errorf("offloaded function ran on the hub's thread %d", tid)
		}
	}
}

// outsideCalls is every hub entry point that is for the hub's thread,
// each returning the error it returned or panicked with.
func outsideCalls(h *hub.Hub, parked, greenlet *hub.G, fd *hub.FD, ran *atomic.Bool) []struct {
	name string
	call func() error
} {
	mark := func() error { ran.Store(true); return nil }
	return []struct {
		name string
		call func() error
	}{
		{name: "Sleep", call: func() error { return h.Raw().Sleep(time.Hour) }},
		{name: "Yield", call: h.Raw().Yield},
		{name: "Park", call: func() error { return h.Raw().Park(hub.Block("outside")) }},
		{name: "Switch", call: func() error { _, err := h.Raw().Switch(greenlet, 1); return err }},
		{name: "Throw", call: func() error { _, err := h.Raw().Throw(greenlet, errTest); return err }},
		{name: "Ready", call: func() error { h.Raw().Ready(parked, errTest); return nil }},
		{name: "Interrupt", call: func() error { h.Raw().Interrupt(parked, errTest); return nil }},
		{name: "Kill", call: func() error { return h.Raw().Kill(parked) }},
		{name: "Spawn", call: func() error { _, err := h.Raw().Spawn(mark, nil); return err }},
		{name: "NewGreenlet", call: func() error {
			_, err := h.Raw().NewGreenlet(func(any) (any, error) { return nil, mark() }, nil, nil)
			return err
		}},
		{name: "Start", call: func() error { return h.Raw().Start(greenlet) }},
		{name: "Token", call: func() error { _, err := h.Raw().Token(); return err }},
		{name: "AfterFunc", call: func() error { h.Raw().AfterFunc(0, func() { mark() }); return nil }},
		{name: "ScheduleTimer", call: func() error {
			h.Raw().ScheduleTimer(&timers.Timer{F: func() { mark() }}, 0)
			return nil
		}},
		{name: "Offload", call: func() error { return h.Offload(func() { mark() }) }},
		{name: "Register", call: func() error { _, err := h.Raw().Register(fd.Sysfd()); return err }},
		{name: "WaitRead", call: fd.WaitRead},
		{name: "WakeRead", call: func() error { fd.WakeRead(errTest); return nil }},
		{name: "FD.Close", call: fd.Close},
		{name: "Dump", call: func() error { return h.Dump(io.Discard) }},
		{name: "Current", call: func() error {
			if h.Raw().Current() != nil {
				return errors.New("Current() is not nil")
			}
			return hub.ErrOutside
		}},
	}
}

// A plain goroutine calling into the hub while a green thread runs — the
// case the Go runtime would crash on if the hub resumed a coroutine from
// the wrong thread — gets ErrOutside, and the hub is untouched and keeps
// working.
func TestOutsideCallsWhileGreenThreadRuns(t *testing.T) {
	h := hub.New()
	r, w := pipe(t, false)
	var ran atomic.Bool
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		gr := newGroup(h)
		parked, err := gr.spawn(func() error { return h.Raw().Park(hub.Block("test")) }, nil)
		if err != nil {
			return err
		}
		greenlet, err := h.Raw().NewGreenlet(func(arg any) (any, error) { return arg, nil }, nil, nil)
		if err != nil {
			return err
		}
		if err := yieldUntil(h, 10, func() bool { return parked.State() == "parked" }); err != nil {
			return err
		}

		calls := outsideCalls(h, parked, greenlet, fd, &ran)
		errs := make([]error, len(calls))
		var done atomic.Bool
		go func() {
			for i, c := range calls {
				errs[i] = catch(c.call)
			}
			done.Store(true)
		}()
		for !done.Load() { // hold the hub: the calls arrive while a green thread runs
			runtime.Gosched()
		}
		for i, c := range calls {
			if !errors.Is(errs[i], hub.ErrOutside) {
				t.Errorf("%s from a goroutine: err = %v, want ErrOutside", c.name, errs[i])
			}
		}

		// Untouched...
		if ran.Load() {
			t.Errorf("a function handed over from outside ran")
		}
		if parked.State() != "parked" || parked.Err() != nil {
			t.Errorf("parked green thread: state %s, err %v; want parked, nil", parked.State(), parked.Err())
		}
		if greenlet.Started() || greenlet.Dead() {
			t.Errorf("greenlet started %v, dead %v; want neither", greenlet.Started(), greenlet.Dead())
		}
		if fd.Closed() {
			t.Errorf("fd closed from outside")
		}
		// ...and working.
		if v, err := h.Raw().Switch(greenlet, "back"); v != "back" || err != nil {
			t.Errorf("Switch after the outside calls = %v, %v", v, err)
		}
		if !h.Raw().Ready(parked, nil) {
			t.Errorf("Ready after the outside calls = false")
		}
		if err := h.Raw().Sleep(time.Millisecond); err != nil {
			return err
		}
		if _, err := unix.Write(w, []byte("x")); err != nil {
			return err
		}
		if n, err := readSome(fd, make([]byte, 8)); n != 1 || err != nil {
			t.Errorf("read after the outside calls = %d, %v", n, err)
		}
		return gr.wait()
	})
}

// Before Run the hub's methods say it is not running; after Run they say
// it has stopped, Submit included.
func TestCallsOutsideRun(t *testing.T) {
	tests := []struct {
		name string
		call func(h *hub.Hub) error
	}{
		{name: "Sleep", call: func(h *hub.Hub) error { return h.Raw().Sleep(time.Second) }},
		{name: "Yield", call: func(h *hub.Hub) error { return h.Raw().Yield() }},
		{name: "Spawn", call: func(h *hub.Hub) error { _, err := h.Raw().Spawn(func() error { return nil }, nil); return err }},
		{name: "Kill", call: func(h *hub.Hub) error { return h.Raw().Kill(h.Raw().Loop()) }},
		{name: "Park", call: func(h *hub.Hub) error { return h.Raw().Park(hub.Block("x")) }},
		{name: "AfterFunc", call: func(h *hub.Hub) error { h.Raw().AfterFunc(0, func() {}); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			if err := catch(func() error { return tt.call(h) }); !errors.Is(err, hub.ErrNotStarted) {
				t.Errorf("before Run: err = %v, want ErrNotStarted", err)
			}
			mustRun(t, h, func() error { return nil })
			if err := catch(func() error { return tt.call(h) }); !errors.Is(err, hub.ErrStopped) {
				t.Errorf("after Run: err = %v, want ErrStopped", err)
			}
			if err := h.Submit(func() {}); !errors.Is(err, hub.ErrStopped) {
				t.Errorf("Submit after Run: err = %v, want ErrStopped", err)
			}
			if err := h.Run(func() error { return nil }); !errors.Is(err, hub.ErrRunning) {
				t.Errorf("second Run: err = %v, want ErrRunning", err)
			}
		})
	}
}

// A hub callback (a timer function, a submitted function) may not block:
// blocking calls return ErrNotGreen, whether the callback runs on an idle
// hub or between busy green threads; non-blocking calls work.
func TestCallbackCannotBlock(t *testing.T) {
	blocking := []struct {
		name string
		call func(h *hub.Hub, target *hub.G, fd *hub.FD) error
	}{
		{name: "Sleep", call: func(h *hub.Hub, _ *hub.G, _ *hub.FD) error { return h.Raw().Sleep(time.Second) }},
		{name: "Yield", call: func(h *hub.Hub, _ *hub.G, _ *hub.FD) error { return h.Raw().Yield() }},
		{name: "Park", call: func(h *hub.Hub, _ *hub.G, _ *hub.FD) error { return h.Raw().Park(hub.Block("x")) }},
		{name: "Switch", call: func(h *hub.Hub, g *hub.G, _ *hub.FD) error { _, err := h.Raw().Switch(g, nil); return err }},
		{name: "Throw", call: func(h *hub.Hub, g *hub.G, _ *hub.FD) error { _, err := h.Raw().Throw(g, errTest); return err }},
		{name: "Offload", call: func(h *hub.Hub, _ *hub.G, _ *hub.FD) error { return h.Offload(func() {}) }},
		{name: "WaitRead", call: func(_ *hub.Hub, _ *hub.G, fd *hub.FD) error { return fd.WaitRead() }},
		{name: "Token", call: func(h *hub.Hub, _ *hub.G, _ *hub.FD) error { _, err := h.Raw().Token(); return err }},
	}
	schedulers := []struct {
		name     string
		schedule func(h *hub.Hub, f func()) error
	}{
		{name: "timer", schedule: func(h *hub.Hub, f func()) error { h.Raw().AfterFunc(0, f); return nil }},
		{name: "timer 1ms", schedule: func(h *hub.Hub, f func()) error { h.Raw().AfterFunc(time.Millisecond, f); return nil }},
		{name: "submit", schedule: func(h *hub.Hub, f func()) error { return h.Submit(f) }},
		{name: "submit from goroutine", schedule: func(h *hub.Hub, f func()) error {
			errc := make(chan error, 1)
			go func() { errc <- h.Submit(f) }()
			return h.Offload(func() { <-errc })
		}},
	}
	for _, s := range schedulers {
		for _, busy := range []bool{false, true} {
			name := s.name
			if busy {
				name += " busy"
			}
			t.Run(name, func(t *testing.T) {
				h := hub.New()
				r, _ := pipe(t, false)
				mustRun(t, h, func() error {
					fd, err := h.Raw().Register(r)
					if err != nil {
						return err
					}
					greenlet, err := h.Raw().NewGreenlet(func(arg any) (any, error) { return arg, nil }, nil, nil)
					if err != nil {
						return err
					}
					me := h.Raw().Current()
					var done atomic.Bool
					gr := newGroup(h)
					if busy { // callbacks then run between yielding green threads
						for range 3 {
							gr.spawn(func() error {
								return yieldUntil(h, 1e6, done.Load)
							}, nil)
						}
					}
					err = s.schedule(h, func() {
						defer done.Store(true)
						defer func() {
							if me.State() == "parked" && me.Reason().What == "callback" {
								h.Raw().Ready(me, nil)
							}
						}()
						for _, b := range blocking {
							if err := catch(func() error { return b.call(h, greenlet, fd) }); !errors.Is(err, hub.ErrNotGreen) {
								t.Errorf("%s from a callback: err = %v, want ErrNotGreen", b.name, err)
							}
						}
						if h.Raw().Current() != nil {
							t.Errorf("Current() in a callback = %v, want nil", h.Raw().Current())
						}
						if _, err := h.Raw().Spawn(func() error { return nil }, nil); err != nil {
							t.Errorf("Spawn from a callback: %v", err)
						}
						h.Raw().AfterFunc(0, func() {})
					})
					if err != nil {
						return err
					}
					for !done.Load() {
						if err := h.Raw().Park(hub.Block("callback")); err != nil {
							return err
						}
					}
					if greenlet.Started() {
						t.Errorf("the callback's Switch started the greenlet")
					}
					return gr.wait()
				})
			})
		}
	}
}

// Regression: a function submitted by a hub callback running on the loop,
// with nothing else to do, used to leave the loop blocked in poll forever
// (the loop does not wake itself).
func TestSubmitFromCallback(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration
	}{
		{name: "timer now", delay: 0},
		{name: "timer later", delay: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			mustRun(t, h, func() error {
				me := h.Raw().Current()
				h.Raw().AfterFunc(tt.delay, func() {
					if err := h.Submit(func() { h.Raw().Ready(me, nil) }); err != nil {
						t.Errorf("Submit: %v", err)
					}
				})
				return h.Raw().Park(hub.Block("submitted"))
			})
		})
	}
}

// Submit before Run queues the function; it runs once Run starts.
func TestSubmitBeforeRun(t *testing.T) {
	h := hub.New()
	var main *hub.G
	ran := false
	if err := h.Submit(func() {
		ran = true
		if main != nil {
			h.Raw().Ready(main, nil)
		}
	}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, h, func() error {
		main = h.Raw().Current()
		if !ran {
			return h.Raw().Park(hub.Block("submitted"))
		}
		return nil
	})
	if !ran {
		t.Errorf("function submitted before Run never ran")
	}
}
