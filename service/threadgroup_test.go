package service_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/service"
)

const s = time.Second

// virtual runs main on a hub with an auto-jumping virtual clock: an hour
// of timers passes in no time, reproducibly.
func virtual(t *testing.T, main func(h *hub.Hub) error, opts ...hub.Option) {
	t.Helper()
	hubtest.Main(t, main, append([]hub.Option{hubtest.Virtual()}, opts...)...)
}

func TestFixedTimerSchedule(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		interval, delay, takes time.Duration
		want                   []time.Duration // the first starts
		count                  int             // starts within the hour
	}{
		{"every 10s", 10 * s, 0, 0, []time.Duration{0, 10 * s, 20 * s}, 360},
		{"initial delay", 10 * s, 5 * s, 0, []time.Duration{5 * s, 15 * s, 25 * s}, 360},
		// The interval runs from start to start: a call of 3s does not
		// push the schedule.
		{"call shorter than the interval", 10 * s, 0, 3 * s, []time.Duration{0, 10 * s, 20 * s}, 360},
		// A call that outlasts the interval is followed at once.
		{"call longer than the interval", 10 * s, 0, 15 * s, []time.Duration{0, 15 * s, 30 * s}, 240},
		{"every minute", time.Minute, time.Minute, 0, []time.Duration{time.Minute, 2 * time.Minute}, 59},
	} {
		t.Run(tc.name, func(t *testing.T) {
			virtual(t, func(h *hub.Hub) error {
				tg := service.NewThreadGroup(h, 10)
				var starts []time.Duration
				t0 := h.Now()
				_, err := tg.AddTimer(tc.interval, func() error {
					starts = append(starts, h.Now()-t0)
					return greenthread.Sleep(h, tc.takes)
				}, tc.delay)
				if err != nil {
					return err
				}
				greenthread.Sleep(h, time.Hour-time.Nanosecond)
				if err := tg.Stop(false); err != nil {
					return err
				}
				if len(starts) != tc.count {
					t.Errorf("%d calls in a virtual hour, want %d", len(starts), tc.count)
				}
				if !slices.Equal(starts[:len(tc.want)], tc.want) {
					t.Errorf("first calls at %v, want %v", starts[:len(tc.want)], tc.want)
				}
				return nil
			})
		})
	}
}

func TestDynamicTimerFollowsIntervals(t *testing.T) {
	virtual(t, func(h *hub.Hub) error {
		tg := service.NewThreadGroup(h, 10)
		// -1: no suggestion, so the maximum (5s); 100s is capped to 5s.
		next := []time.Duration{1 * s, 2 * s, 4 * s, -1, 100 * s, 0, 3 * s}
		var starts []time.Duration
		t0 := h.Now()
		tm, err := tg.AddDynamicTimer(func() (time.Duration, error) {
			starts = append(starts, h.Now()-t0)
			if len(starts) > len(next) {
				return 0, service.ErrTimerDone
			}
			return next[len(starts)-1], nil
		}, 2*s, 5*s)
		if err != nil {
			return err
		}
		if err := tm.Wait(); err != nil {
			t.Errorf("Wait = %v after ErrTimerDone", err)
		}
		want := []time.Duration{2 * s, 3 * s, 5 * s, 9 * s, 14 * s, 19 * s, 19 * s, 22 * s}
		if !slices.Equal(starts, want) {
			t.Errorf("calls at %v, want %v", starts, want)
		}
		if tg.Timers() != 0 {
			t.Errorf("%d timers left after ErrTimerDone", tg.Timers())
		}
		return nil
	})
}

func TestTimerErrors(t *testing.T) {
	var reported []error
	virtual(t, func(h *hub.Hub) error {
		tg := service.NewThreadGroup(h, 10)
		n := 0
		tm, _ := tg.AddTimer(s, func() error {
			n++
			if n == 3 {
				return hubtest.ErrTest
			}
			return nil
		}, 0)
		if err := tm.Wait(); !errors.Is(err, hubtest.ErrTest) || n != 3 {
			t.Errorf("Wait = %v after %d calls; want ErrTest after 3", err, n)
		}
		// No suggestion and no maximum: an error.
		dyn, _ := tg.AddDynamicTimer(func() (time.Duration, error) { return -1, nil }, 0, 0)
		if err := dyn.Wait(); err == nil {
			t.Error("dynamic timer without an interval: no error")
		}
		if _, err := tg.AddTimer(-s, func() error { return nil }, 0); err == nil {
			t.Error("negative interval accepted")
		}
		return nil
	}, hub.WithPanicHandler(func(g *hub.G, err error) { reported = append(reported, err) }))
	if len(reported) != 2 || !errors.Is(reported[0], hubtest.ErrTest) {
		t.Errorf("reported %v; want the two timers' failures", reported)
	}
}

// A stopped timer ends at once if it sleeps; a call in progress finishes.
func TestTimerStop(t *testing.T) {
	virtual(t, func(h *hub.Hub) error {
		tg := service.NewThreadGroup(h, 10)
		calls := 0
		tm, _ := tg.AddTimer(time.Hour, func() error { calls++; return nil }, 0)
		greenthread.Sleep(h, s)
		t0 := h.Now()
		tm.Stop()
		if err := tm.Wait(); err != nil || h.Now() != t0 {
			t.Errorf("Wait = %v after %v; want nil at once", err, h.Now()-t0)
		}
		// A call in progress: StopTimers(true) waits for it.
		busy, _ := tg.AddTimer(time.Hour, func() error { return greenthread.Sleep(h, 3*s) }, 0)
		greenthread.Yield(h)
		t0 = h.Now()
		if err := tg.StopTimers(true); err != nil {
			return err
		}
		if h.Now()-t0 != 3*s {
			t.Errorf("StopTimers(true) returned after %v; want the call's 3s", h.Now()-t0)
		}
		busy.Stop() // twice: nothing
		if calls != 1 || tg.Timers() != 0 {
			t.Errorf("calls %d, timers left %d", calls, tg.Timers())
		}
		return nil
	})
}

func TestThreadGroupStop(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		t.Run(map[bool]string{true: "graceful", false: "forced"}[graceful], func(t *testing.T) {
			virtual(t, func(h *hub.Hub) error {
				tg := service.NewThreadGroup(h, 10)
				var ths []*greenthread.Thread[struct{}]
				for i := 1; i <= 3; i++ {
					th, err := tg.Spawn(func() error { return greenthread.Sleep(h, time.Duration(i)*s) })
					if err != nil {
						return err
					}
					ths = append(ths, th)
				}
				ticks := 0
				tg.AddTimer(s/2, func() error { ticks++; return nil }, 0)
				greenthread.Yield(h)
				t0 := h.Now()
				if err := tg.Stop(graceful); err != nil {
					return err
				}
				took := h.Now() - t0
				for i, th := range ths {
					_, err := th.Wait()
					switch {
					case graceful && err != nil:
						t.Errorf("thread %d: %v; want it to finish", i, err)
					case !graceful && !errors.Is(err, hub.ErrKilled):
						t.Errorf("thread %d: %v; want it killed", i, err)
					}
				}
				if graceful && took != 3*s || !graceful && took != 0 {
					t.Errorf("Stop(%v) took %v", graceful, took)
				}
				if ticks != 1 {
					t.Errorf("timer called %d times; want once, before the stop", ticks)
				}
				if tg.Threads() != 0 || tg.Timers() != 0 {
					t.Errorf("left: %d threads, %d timers", tg.Threads(), tg.Timers())
				}
				// The group works again after a stop.
				th, _ := tg.Spawn(func() error { return nil })
				if _, err := th.Wait(); err != nil {
					t.Errorf("spawn after stop: %v", err)
				}
				return nil
			})
		})
	}
}

// Stop and Wait from one of the group's own threads skip the caller.
func TestThreadGroupStopFromInside(t *testing.T) {
	virtual(t, func(h *hub.Hub) error {
		tg := service.NewThreadGroup(h, 10)
		other, _ := tg.Spawn(func() error { return greenthread.Sleep(h, 2*s) })
		self, _ := tg.Spawn(func() error {
			if err := tg.Stop(true); err != nil {
				return err
			}
			return tg.Wait()
		})
		if _, err := self.Wait(); err != nil {
			t.Errorf("Stop from inside: %v", err)
		}
		if !other.Dead() {
			t.Error("Stop(true) from inside returned before the other thread ended")
		}
		killer, _ := tg.Spawn(func() error { return tg.Stop(false) })
		victim, _ := tg.Spawn(func() error { return greenthread.Sleep(h, time.Hour) })
		if _, err := killer.Wait(); err != nil {
			t.Errorf("Stop(false) from inside: %v", err)
		}
		if _, err := victim.Wait(); !errors.Is(err, hub.ErrKilled) {
			t.Errorf("victim: %v; want killed", err)
		}
		return nil
	})
}

// Wait lasts while timers run: a service is running until stopped.
func TestThreadGroupWait(t *testing.T) {
	virtual(t, func(h *hub.Hub) error {
		tg := service.NewThreadGroup(h, 10)
		tm, _ := tg.AddTimer(s, func() error { return nil }, 0)
		tg.Spawn(func() error { return greenthread.Sleep(h, 5*s) })
		greenthread.SpawnAfter(h, time.Minute, func() (struct{}, error) { tm.Stop(); return struct{}{}, nil })
		t0 := h.Now()
		if err := tg.Wait(); err != nil {
			return err
		}
		if h.Now()-t0 != time.Minute {
			t.Errorf("Wait returned after %v; want the minute until the timer stopped", h.Now()-t0)
		}
		return nil
	})
}

// Base is a Service over a ThreadGroup.
func TestBase(t *testing.T) {
	virtual(t, func(h *hub.Hub) error {
		var b service.Base
		if b.TG() != nil || b.Stop(true) != nil || b.Wait() != nil || b.Reset() != nil {
			t.Error("Base before Start: want a nil group and no errors")
		}
		if err := b.Start(h); err != nil {
			return err
		}
		if b.TG().Pool().Size() != 1000 {
			t.Errorf("default pool size %d; want oslo's 1000", b.TG().Pool().Size())
		}
		b.TG().Spawn(func() error { return greenthread.Sleep(h, time.Hour) })
		if err := b.Stop(false); err != nil {
			return err
		}
		return b.Wait()
	})
}

func TestThreadGroupOutside(t *testing.T) {
	h := hub.New()
	tg := service.NewThreadGroup(h, 1)
	if _, err := tg.AddTimer(s, func() error { return nil }, 0); !errors.Is(err, hub.ErrNotStarted) {
		t.Errorf("AddTimer before the run: %v", err)
	}
	if err := tg.Stop(true); !errors.Is(err, hub.ErrNotStarted) {
		t.Errorf("Stop before the run: %v", err)
	}
	if _, err := tg.Spawn(func() error { return nil }); !errors.Is(err, hub.ErrNotStarted) {
		t.Errorf("Spawn before the run: %v", err)
	}
}
