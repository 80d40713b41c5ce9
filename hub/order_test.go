package hub_test

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// The ready queue is FIFO: green threads that yield run round-robin in
// spawn order, and green threads made ready run in the order Ready was
// called.
func TestReadyQueueFIFO(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		order []int // the order main readies parked green threads; nil: they yield
		want  []string
	}{
		{name: "yield round-robin", n: 3, want: []string{"0.0", "1.0", "2.0", "0.1", "1.1", "2.1", "0.2", "1.2", "2.2"}},
		{name: "ready order", n: 5, order: []int{3, 1, 4, 0, 2}, want: []string{"3.0", "1.0", "4.0", "0.0", "2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			var got []string
			mustRun(t, h, func() error {
				gr := newGroup(h)
				gs := make([]*hub.G, tt.n)
				for i := range tt.n {
					var err error
					gs[i], err = gr.spawn(func() error {
						if tt.order != nil {
							if err := h.Raw().Park(hub.Block("test")); err != nil {
								return err
							}
							got = append(got, fmt.Sprintf("%d.0", i))
							return nil
						}
						for round := range 3 {
							got = append(got, fmt.Sprintf("%d.%d", i, round))
							if err := h.Raw().Yield(); err != nil {
								return err
							}
						}
						return nil
					}, nil)
					if err != nil {
						return err
					}
				}
				if tt.order != nil {
					if err := yieldUntil(h, 10, func() bool { return gs[tt.n-1].State() == "parked" }); err != nil {
						return err
					}
					for _, i := range tt.order {
						h.Raw().Ready(gs[i], nil)
					}
				}
				return gr.wait()
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
}

// Timers with equal deadlines fire in the order they were scheduled,
// whether they are AfterFunc callbacks or green threads sleeping.
func TestEqualDeadlinesFireInScheduleOrder(t *testing.T) {
	tests := []struct {
		name  string
		sleep bool
	}{
		{name: "AfterFunc"},
		{name: "Sleep", sleep: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New(hub.WithClock(timers.NewVirtual(true)))
			var got []string
			mustRun(t, h, func() error {
				gr := newGroup(h)
				for i := range 20 {
					d := time.Duration(2-i%3) * time.Second // 2s, 1s, 0s, 2s…
					name := fmt.Sprintf("%v#%d", d, i)
					if !tt.sleep {
						h.Raw().AfterFunc(d, func() { got = append(got, name) })
						continue
					}
					gr.spawn(func() error {
						err := h.Raw().Sleep(d)
						got = append(got, name)
						return err
					}, nil)
				}
				if err := gr.wait(); err != nil {
					return err
				}
				return h.Raw().Sleep(3 * time.Second)
			})
			var want []string
			for _, d := range []time.Duration{0, time.Second, 2 * time.Second} {
				for i := range 20 {
					if time.Duration(2-i%3)*time.Second == d {
						want = append(want, fmt.Sprintf("%v#%d", d, i))
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("fired %v\nwant %v", got, want)
			}
		})
	}
}

// A million timers, half of them cancelled: exactly the other half fire,
// in (deadline, scheduling order).
func TestMillionTimersHalfCancelled(t *testing.T) {
	const n = 1_000_000
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	ts := make([]timers.Timer, n)
	fired := make([]int32, 0, n/2)
	deadline := func(i int) time.Duration { return time.Duration(i*7919%1000) * time.Millisecond }
	mustRun(t, h, func() error {
		for i := range ts {
			ts[i].F = func() { fired = append(fired, int32(i)) }
			h.Raw().ScheduleTimer(&ts[i], deadline(i))
		}
		for i := 1; i < n; i += 2 {
			if !h.Raw().CancelTimer(&ts[i]) {
				t.Errorf("CancelTimer(%d) = false", i)
			}
		}
		return h.Raw().Sleep(time.Second)
	})
	want := make([]int32, 0, n/2)
	for i := 0; i < n; i += 2 {
		want = append(want, int32(i))
	}
	slices.SortStableFunc(want, func(a, b int32) int {
		return int(deadline(int(a)) - deadline(int(b)))
	})
	if len(fired) != len(want) {
		t.Fatalf("%d timers fired, want %d", len(fired), len(want))
	}
	for i := range want {
		if fired[i] != want[i] {
			t.Fatalf("timer #%d to fire was %d (deadline %v), want %d (deadline %v)",
				i, fired[i], deadline(int(fired[i])), want[i], deadline(int(want[i])))
		}
	}
}

// libuv test-timer.c timer_order: two timers with the same (zero) timeout
// fire in the order they were started, and again after being restarted in
// the opposite order.
func TestLibuvTimerOrder(t *testing.T) {
	h := hub.New()
	var got []string
	mustRun(t, h, func() error {
		a := &timers.Timer{F: func() { got = append(got, "a") }}
		b := &timers.Timer{F: func() { got = append(got, "b") }}
		h.Raw().ScheduleTimer(a, h.Now())
		h.Raw().ScheduleTimer(b, h.Now())
		if err := h.Raw().Sleep(time.Millisecond); err != nil {
			return err
		}
		now := h.Now()
		h.Raw().ScheduleTimer(b, now)
		h.Raw().ScheduleTimer(a, now)
		return h.Raw().Sleep(time.Millisecond)
	})
	if want := []string{"a", "b", "b", "a"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// libuv test-timer.c timer_run_once / zero timeouts: a zero timer fires
// once, on a later turn (not inside the call that set it), and a zero
// timer that re-arms itself cannot hold the loop: other green threads and
// timers go on.
func TestLibuvZeroTimeout(t *testing.T) {
	h := hub.New()
	fired, rearmed := 0, 0
	mustRun(t, h, func() error {
		h.Raw().AfterFunc(0, func() { fired++ })
		if fired != 0 {
			t.Errorf("zero timer fired inside AfterFunc")
		}
		if err := h.Raw().Yield(); err != nil {
			return err
		}
		if fired != 1 {
			t.Errorf("zero timer fired %d times after one turn, want 1", fired)
		}
		var rearm func()
		stop := false
		rearm = func() {
			rearmed++
			if !stop {
				h.Raw().AfterFunc(0, rearm)
			}
		}
		h.Raw().AfterFunc(0, rearm)
		for range 100 {
			if err := h.Raw().Yield(); err != nil {
				return err
			}
		}
		if err := h.Raw().Sleep(time.Millisecond); err != nil {
			return err
		}
		stop = true
		return nil
	})
	if fired != 1 {
		t.Errorf("zero timer fired %d times, want 1", fired)
	}
	if rearmed < 100 || rearmed > 1000000 {
		t.Errorf("self-re-arming zero timer ran %d times", rearmed)
	}
}

// libuv test-timer.c timer_huge_timeout: timers set for (nearly) forever
// neither fire nor upset the poll timeout, and a tiny timer next to them
// fires on time. Regression: now+d used to overflow into the past, so a
// Sleep(math.MaxInt64) returned at once.
func TestLibuvHugeTimeout(t *testing.T) {
	for _, clock := range []struct {
		name  string
		clock timers.Clock
	}{
		{name: "real", clock: timers.NewReal()},
		{name: "virtual", clock: timers.NewVirtual(true)},
	} {
		t.Run(clock.name, func(t *testing.T) {
			h := hub.New(hub.WithClock(clock.clock))
			var hugeFired atomic.Int32
			mustRun(t, h, func() error {
				if err := h.Raw().Sleep(time.Millisecond); err != nil { // the clock is past zero
					return err
				}
				huge1 := h.Raw().AfterFunc(time.Duration(0xffffffffffff)*time.Microsecond, func() { hugeFired.Add(1) })
				huge2 := h.Raw().AfterFunc(math.MaxInt64, func() { hugeFired.Add(1) })
				tinyFired := false
				h.Raw().AfterFunc(time.Millisecond, func() {
					tinyFired = true
					h.Raw().CancelTimer(huge1)
					h.Raw().CancelTimer(huge2)
				})
				sleeper, err := h.Raw().Spawn(func() error { return h.Raw().Sleep(math.MaxInt64) }, nil)
				if err != nil {
					return err
				}
				if err := h.Raw().Sleep(2 * time.Millisecond); err != nil {
					return err
				}
				if !tinyFired {
					t.Errorf("tiny timer did not fire")
				}
				if sleeper.Dead() {
					t.Errorf("Sleep(math.MaxInt64) returned: %v", sleeper.Err())
				}
				return h.Raw().Kill(sleeper)
			})
			if n := hugeFired.Load(); n != 0 {
				t.Errorf("%d huge timers fired", n)
			}
		})
	}
}

// An hour of sleeps on an auto-jumping virtual clock takes well under a
// second of real time, and the sleepers wake in deadline order at exactly
// their deadlines.
func TestVirtualClockHourOfSleeps(t *testing.T) {
	tests := []struct {
		name     string
		sleepers int
		steps    int // each sleeper sleeps steps times for an equal share
	}{
		{name: "3600 sleepers", sleepers: 3600, steps: 1},
		{name: "one sleeper in steps", sleepers: 1, steps: 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := timers.NewVirtual(true)
			h := hub.New(hub.WithClock(clock))
			var woke []time.Duration
			start := time.Now()
			mustRun(t, h, func() error {
				gr := newGroup(h)
				for k := range tt.sleepers {
					i := (k*7 + 3) % tt.sleepers // spawn out of deadline order
					total := time.Hour
					if tt.sleepers > 1 {
						total = time.Duration(i+1) * time.Second
					}
					gr.spawn(func() error {
						for range tt.steps {
							if err := h.Raw().Sleep(total / time.Duration(tt.steps)); err != nil {
								return err
							}
						}
						if now := h.Now(); now != total {
							t.Errorf("sleeper for %v woke at %v", total, now)
						}
						woke = append(woke, total)
						return nil
					}, nil)
				}
				return gr.wait()
			})
			// The hub never waited for real time: with no fd it made no poll
			// system call at all. Real time is only a sanity bound (the race
			// detector and a loaded machine slow goroutine creation down).
			if polls := h.Stats().Polls; polls != 0 {
				t.Errorf("%d poll system calls, want 0", polls)
			}
			limit := time.Second
			if raceEnabled {
				limit = 5 * time.Second
			}
			if elapsed := time.Since(start); elapsed > limit {
				t.Errorf("an hour of virtual sleeps took %v of real time", elapsed)
			}
			if clock.Now() != time.Hour {
				t.Errorf("clock at %v, want 1h", clock.Now())
			}
			if len(woke) != tt.sleepers || !slices.IsSorted(woke) {
				t.Errorf("%d sleepers woke, sorted %v", len(woke), slices.IsSorted(woke))
			}
		})
	}
}

// recordingTracer records events and signals, without blocking, when the
// hub is about to block in poll with no timeout.
type recordingTracer struct {
	hub.NopTracer
	events    []string
	blockPoll chan struct{}
}

func (r *recordingTracer) add(e string) { r.events = append(r.events, e) }

func (r *recordingTracer) Spawn(g *hub.G) { r.add("spawn " + g.String()) }
func (r *recordingTracer) Switch(from, to *hub.G) {
	r.add("switch " + from.String() + " " + to.String())
}
func (r *recordingTracer) Block(g *hub.G, on hub.Reason) {
	r.add("block " + g.String() + " " + on.What)
}
func (r *recordingTracer) Wake(g *hub.G)            { r.add("wake " + g.String()) }
func (r *recordingTracer) Exit(g *hub.G, err error) { r.add(fmt.Sprintf("exit %s %v", g, err)) }
func (r *recordingTracer) PollEnd(n int)            { r.add(fmt.Sprintf("pollend %d", n)) }
func (r *recordingTracer) TimerFire(*timers.Timer)  { r.add("timer") }
func (r *recordingTracer) PollBegin(timeout time.Duration) {
	r.add(fmt.Sprintf("poll %v", timeout))
	if timeout < 0 && r.blockPoll != nil {
		select {
		case r.blockPoll <- struct{}{}:
		default:
		}
	}
}

// A virtual clock without auto-jump moved by one of the hub's own green
// threads fires the timers now due.
func TestVirtualClockAdvancedFromGreenThread(t *testing.T) {
	clock := timers.NewVirtual(false)
	h := hub.New(hub.WithClock(clock))
	var woke time.Duration
	mustRun(t, h, func() error {
		sleeper, err := h.Raw().Spawn(func() error {
			err := h.Raw().Sleep(time.Hour)
			woke = h.Now()
			return err
		}, nil)
		if err != nil {
			return err
		}
		if err := parked(h, sleeper); err != nil {
			return err
		}
		clock.Advance(time.Hour)
		return yieldUntil(h, 1000, sleeper.Dead)
	})
	if woke != time.Hour {
		t.Errorf("woke at %v, want 1h", woke)
	}
}

// A virtual clock without auto-jump is moved by another goroutine; the
// hub, blocked in poll, wakes and fires the timer that is now due.
func TestVirtualClockAdvancedFromGoroutine(t *testing.T) {
	clock := timers.NewVirtual(false)
	tr := &recordingTracer{blockPoll: make(chan struct{}, 1)}
	h := hub.New(hub.WithClock(clock), hub.WithTracer(tr))
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		<-tr.blockPoll // the hub is about to block: nothing is due yet
		clock.Advance(30 * time.Minute)
		<-tr.blockPoll
		clock.Advance(30 * time.Minute)
	}()
	var woke time.Duration
	mustRun(t, h, func() error {
		err := h.Raw().Sleep(time.Hour)
		woke = h.Now()
		return err
	})
	<-advanced
	if woke != time.Hour {
		t.Errorf("woke at %v, want 1h", woke)
	}
}
