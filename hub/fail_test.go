package hub_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

func panicky(v any) error { panic(v) }

// A panic stays inside its green thread: it becomes a *PanicError with the
// stack, errors.As and errors.Is see through it, and the others go on.
func TestPanicIsolation(t *testing.T) {
	tests := []struct {
		name   string
		value  any
		wantIs error
	}{
		{name: "error value", value: errTest, wantIs: errTest},
		{name: "string value", value: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			var errs []error
			finished := 0
			mustRun(t, h, func() error {
				gr := newGroup(h)
				for i := range 5 {
					gr.spawn(func() error {
						if err := h.Raw().Yield(); err != nil {
							return err
						}
						if i == 2 {
							return panicky(tt.value)
						}
						if err := h.Raw().Sleep(time.Millisecond); err != nil {
							return err
						}
						finished++
						return nil
					}, func(g *hub.G) { errs = append(errs, g.Err()) })
				}
				return gr.wait()
			})
			if finished != 4 {
				t.Errorf("%d green threads finished, want 4", finished)
			}
			var pe *hub.PanicError
			var failed int
			for _, err := range errs {
				if err == nil {
					continue
				}
				failed++
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a *hub.PanicError", err)
				}
				if pe.Value != tt.value {
					t.Errorf("PanicError.Value = %v, want %v", pe.Value, tt.value)
				}
				if !strings.Contains(string(pe.Stack), "panicky") {
					t.Errorf("stack does not name the panicking function:\n%s", pe.Stack)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
				}
			}
			if failed != 1 {
				t.Errorf("%d green threads failed, want 1", failed)
			}
		})
	}
}

// Kill unwinds a green thread wherever it is: before it starts (it never
// runs), asleep, parked, queued after a yield, in a switch, offloaded, or
// killing itself. Its deferred calls run and its error is ErrKilled.
func TestKill(t *testing.T) {
	tests := []struct {
		name string
		body func(h *hub.Hub) error // what the victim does; it must not return
		// settle is how the killer waits before the kill; nil kills at once.
		settle func(h *hub.Hub, victim *hub.G) error
		notRun bool
	}{
		{name: "before start", body: func(h *hub.Hub) error { return nil }, notRun: true},
		{name: "sleeping", body: func(h *hub.Hub) error { return h.Raw().Sleep(time.Hour) }, settle: parked},
		{name: "parked", body: func(h *hub.Hub) error { return h.Raw().Park(hub.Block("test")) }, settle: parked},
		{name: "yielding", body: func(h *hub.Hub) error {
			for {
				if err := h.Raw().Yield(); err != nil {
					return err
				}
			}
		}, settle: func(h *hub.Hub, g *hub.G) error { return h.Raw().Yield() }},
		{name: "in a switch", body: func(h *hub.Hub) error {
			gl, err := h.Raw().NewGreenlet(func(any) (any, error) {
				return nil, h.Raw().Park(hub.Block("greenlet"))
			}, nil, nil)
			if err != nil {
				return err
			}
			_, err = h.Raw().Switch(gl, nil)
			return err
		}, settle: func(h *hub.Hub, g *hub.G) error {
			return yieldUntil(h, 10, func() bool { return g.Reason().What == "switch" })
		}},
		{name: "offloaded", body: func(h *hub.Hub) error {
			release := make(chan struct{})
			defer close(release)
			return h.Offload(func() { <-release })
		}, settle: parked},
		{name: "self", body: func(h *hub.Hub) error { return h.Raw().Kill(h.Raw().Current()) },
			settle: func(h *hub.Hub, g *hub.G) error { return h.Raw().Yield() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New(hub.WithClock(timers.NewVirtual(false)))
			started, deferred, returned := false, false, false
			var victimErr error
			mustRun(t, h, func() error {
				gr := newGroup(h)
				victim, err := gr.spawn(func() error {
					started = true
					defer func() { deferred = true }()
					err := tt.body(h)
					returned = true
					return err
				}, func(g *hub.G) { victimErr = g.Err() })
				if err != nil {
					return err
				}
				if tt.settle != nil {
					if err := tt.settle(h, victim); err != nil {
						return err
					}
				}
				if err := h.Raw().Kill(victim); err != nil {
					return err
				}
				return gr.wait()
			})
			if !errors.Is(victimErr, hub.ErrKilled) {
				t.Errorf("victim's error = %v, want ErrKilled", victimErr)
			}
			if returned {
				t.Errorf("the killed body returned")
			}
			if started == tt.notRun || deferred == tt.notRun {
				t.Errorf("started %v, deferred call ran %v; want %v", started, deferred, !tt.notRun)
			}
		})
	}
}

// parked yields until g is parked.
func parked(h *hub.Hub, g *hub.G) error {
	return yieldUntil(h, 100, func() bool { return g.State() == "parked" })
}

// When main returns, Run kills the green threads left, wherever they are,
// runs their deferred calls, and returns main's error; spawning is refused
// meanwhile.
func TestRunShutdownUnwinds(t *testing.T) {
	r, _ := pipe(t, false)
	h := hub.New()
	errMain := errors.New("main's error")
	var unwound []string
	var exits []error
	var spawnErr error
	err := run(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		leftovers := []struct {
			name string
			body func() error
		}{
			{name: "sleeper", body: func() error { return h.Raw().Sleep(time.Hour) }},
			{name: "parked", body: func() error { return h.Raw().Park(hub.Block("forever")) }},
			{name: "reader", body: fd.WaitRead},
			{name: "yielder", body: func() error {
				for {
					if err := h.Raw().Yield(); err != nil {
						return err
					}
				}
			}},
			{name: "not started", body: func() error { t.Errorf("a green thread spawned last ran"); return nil }},
		}
		for _, l := range leftovers {
			if _, err := h.Raw().Spawn(func() error {
				defer func() {
					unwound = append(unwound, l.name)
					if !h.Raw().Stopping() {
						t.Errorf("%s unwound before shutdown", l.name)
					}
					_, spawnErr = h.Raw().Spawn(func() error { return nil }, nil)
				}()
				return l.body()
			}, func(g *hub.G) { exits = append(exits, g.Err()) }); err != nil {
				return err
			}
			if l.name != "not started" {
				if err := h.Raw().Yield(); err != nil {
					return err
				}
			}
		}
		return errMain
	})
	if !errors.Is(err, errMain) {
		t.Errorf("Run = %v, want main's error", err)
	}
	if len(unwound) != 4 {
		t.Errorf("deferred calls ran for %v, want the 4 started green threads", unwound)
	}
	if len(exits) != 5 {
		t.Errorf("%d exit hooks ran, want 5", len(exits))
	}
	for _, e := range exits {
		if !errors.Is(e, hub.ErrKilled) {
			t.Errorf("leftover ended with %v, want ErrKilled", e)
		}
	}
	if !errors.Is(spawnErr, hub.ErrStopped) {
		t.Errorf("Spawn during shutdown = %v, want ErrStopped", spawnErr)
	}
	if _, err := unix.FcntlInt(uintptr(r), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("the registered fd is still open after Run (fcntl: %v)", err)
	}
}

// Run returns a *PanicError when main panics, after unwinding the rest.
func TestRunMainPanics(t *testing.T) {
	h := hub.New()
	unwound := false
	err := run(t, h, func() error {
		h.Raw().Spawn(func() error {
			defer func() { unwound = true }()
			return h.Raw().Sleep(time.Hour)
		}, nil)
		h.Raw().Yield()
		return panicky(errTest)
	})
	var pe *hub.PanicError
	if !errors.As(err, &pe) || !errors.Is(err, errTest) {
		t.Errorf("Run = %v, want a *PanicError wrapping errTest", err)
	}
	if !unwound {
		t.Errorf("the sleeper was not unwound")
	}
}

// WaitForAll makes Run wait for every green thread instead of killing
// them when main returns.
func TestWaitForAll(t *testing.T) {
	tests := []struct {
		name     string
		opts     []hub.Option
		wantDone bool
	}{
		{name: "default kills", wantDone: false},
		{name: "WaitForAll", opts: []hub.Option{hub.WaitForAll()}, wantDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New(append(tt.opts, hub.WithClock(timers.NewVirtual(true)))...)
			done := 0
			var errs []error
			mustRun(t, h, func() error {
				for i := range 3 {
					h.Raw().Spawn(func() error {
						if err := h.Raw().Sleep(time.Duration(i+1) * time.Minute); err != nil {
							return err
						}
						done++
						return nil
					}, func(g *hub.G) { errs = append(errs, g.Err()) })
				}
				return nil
			})
			if got := done == 3; got != tt.wantDone {
				t.Errorf("%d of 3 green threads finished (errors %v)", done, errs)
			}
		})
	}
}

// Interrupt makes a green thread's blocking call return an error: a parked
// one is woken now, a ready one gets it at its next park; ClearInterrupt
// withdraws an undelivered one.
func TestInterrupt(t *testing.T) {
	errOther := errors.New("other")
	tests := []struct {
		name string
		// victim blocks after yielding once if yieldFirst; the killer
		// interrupts it when it is parked (or right away if yieldFirst).
		yieldFirst bool
		block      func(h *hub.Hub, fd *hub.FD) error
		interrupt  func(h *hub.Hub, g *hub.G)
		wantErr    error
		wantSlept  bool // the block ran its course (a 1s sleep)
	}{
		{name: "sleeping", block: sleepSecond, wantErr: errTest,
			interrupt: func(h *hub.Hub, g *hub.G) { h.Raw().Interrupt(g, errTest) }},
		{name: "parked", block: func(h *hub.Hub, _ *hub.FD) error { return h.Raw().Park(hub.Block("x")) }, wantErr: errTest,
			interrupt: func(h *hub.Hub, g *hub.G) { h.Raw().Interrupt(g, errTest) }},
		{name: "on an fd", block: func(_ *hub.Hub, fd *hub.FD) error { return fd.WaitRead() }, wantErr: errTest,
			interrupt: func(h *hub.Hub, g *hub.G) { h.Raw().Interrupt(g, errTest) }},
		{name: "ready, next park", yieldFirst: true, block: sleepSecond, wantErr: errTest,
			interrupt: func(h *hub.Hub, g *hub.G) { h.Raw().Interrupt(g, errTest) }},
		{name: "later replaces earlier", yieldFirst: true, block: sleepSecond, wantErr: errOther,
			interrupt: func(h *hub.Hub, g *hub.G) { h.Raw().Interrupt(g, errTest); h.Raw().Interrupt(g, errOther) }},
		{name: "cleared", yieldFirst: true, block: sleepSecond, wantSlept: true,
			interrupt: func(h *hub.Hub, g *hub.G) {
				h.Raw().Interrupt(g, errTest)
				if !h.Raw().ClearInterrupt(g, errTest) {
					panic("ClearInterrupt = false")
				}
			}},
		{name: "clear other error", yieldFirst: true, block: sleepSecond, wantErr: errTest,
			interrupt: func(h *hub.Hub, g *hub.G) {
				h.Raw().Interrupt(g, errTest)
				if h.Raw().ClearInterrupt(g, errOther) {
					panic("ClearInterrupt of another error = true")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := timers.NewVirtual(true)
			h := hub.New(hub.WithClock(clock))
			r, _ := pipe(t, false)
			var blockErr error
			var slept time.Duration
			mustRun(t, h, func() error {
				fd, err := h.Raw().Register(r)
				if err != nil {
					return err
				}
				gr := newGroup(h)
				victim, err := gr.spawn(func() error {
					if tt.yieldFirst {
						// An interrupt that finds the victim ready is
						// delivered at its switch point: this Yield.
						if err := h.Raw().Yield(); err != nil {
							blockErr = err
							return nil
						}
					}
					start := h.Now()
					blockErr = tt.block(h, fd)
					slept = h.Now() - start
					return nil
				}, nil)
				if err != nil {
					return err
				}
				if tt.yieldFirst {
					if err := h.Raw().Yield(); err != nil { // the victim is now queued after its yield
						return err
					}
					if victim.State() != "ready" {
						t.Errorf("victim is %s, want ready", victim.State())
					}
				} else if err := parked(h, victim); err != nil {
					return err
				}
				tt.interrupt(h, victim)
				if err := gr.wait(); err != nil {
					return err
				}
				if h.Raw().Interrupt(victim, errTest) {
					t.Errorf("Interrupt of a dead green thread = true")
				}
				return nil
			})
			if !errors.Is(blockErr, tt.wantErr) || (tt.wantErr == nil) != (blockErr == nil) {
				t.Errorf("blocking call returned %v, want %v", blockErr, tt.wantErr)
			}
			if (slept == time.Second) != tt.wantSlept {
				t.Errorf("blocked for %v of virtual time", slept)
			}
		})
	}
}

func sleepSecond(h *hub.Hub, _ *hub.FD) error { return h.Raw().Sleep(time.Second) }

// A greenlet kills the green thread that switched into it (and is still
// below it on the coroutine chain): when the greenlet ends, control goes
// to the hub, and the killed thread unwinds from its Switch.
func TestKillParentFromGreenlet(t *testing.T) {
	h := hub.New()
	var parentErr error
	deferred, greenletDone, afterSwitch := false, false, false
	mustRun(t, h, func() error {
		gr := newGroup(h)
		parent, err := gr.spawn(func() error {
			defer func() { deferred = true }()
			me := h.Raw().Current()
			gl, err := h.Raw().NewGreenlet(func(any) (any, error) {
				if err := h.Raw().Kill(me); err != nil {
					return nil, err
				}
				if err := h.Raw().Yield(); err != nil {
					return nil, err
				}
				greenletDone = true
				return "lost", nil
			}, nil, nil)
			if err != nil {
				return err
			}
			_, err = h.Raw().Switch(gl, nil)
			afterSwitch = true
			return err
		}, func(g *hub.G) { parentErr = g.Err() })
		if err != nil {
			return err
		}
		_ = parent
		return gr.wait()
	})
	if !errors.Is(parentErr, hub.ErrKilled) || !deferred || afterSwitch {
		t.Errorf("parent: err %v, deferred %v, went on after Switch %v; want ErrKilled, true, false", parentErr, deferred, afterSwitch)
	}
	if !greenletDone {
		t.Errorf("the greenlet did not run to its end")
	}
}
