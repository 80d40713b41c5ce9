package timers

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells a hub what time it is, as a duration since the clock's epoch.
// Now must be monotonic (never go backwards) and safe to call from the hub's
// thread; the clocks in this package are safe from any goroutine.
type Clock interface {
	Now() time.Duration
}

// Real is the monotonic wall clock. Its epoch is the moment NewReal ran.
type Real struct {
	epoch time.Time
}

// NewReal returns a real clock whose epoch is now.
func NewReal() *Real { return &Real{epoch: time.Now()} }

// Now returns the time elapsed since the epoch, read from the monotonic
// clock (no system call on Linux: the vDSO answers).
func (r *Real) Now() time.Duration { return time.Since(r.epoch) }

// Virtual is a clock that moves only when told to. Its epoch is zero.
//
// With auto-jump on, a hub that has nothing to run, no I/O ready and only
// timers pending moves the clock straight to the earliest deadline instead
// of waiting for it, so Sleep(time.Hour) finishes at once in real time while
// every timer still fires in deadline order (Trio's MockClock autojump,
// Tokio's paused time). Without auto-jump the hub waits for Advance.
//
// Advance and AdvanceTo may be called from any goroutine; the hub that uses
// the clock is woken so that timers now due fire.
type Virtual struct {
	now      atomic.Int64
	autoJump bool

	mu        sync.Mutex
	listeners map[int]func()
	nextID    int
}

// NewVirtual returns a virtual clock at time zero. autoJump selects the
// auto-jump mode described on Virtual.
func NewVirtual(autoJump bool) *Virtual { return &Virtual{autoJump: autoJump} }

// Now returns the clock's current time.
func (v *Virtual) Now() time.Duration { return time.Duration(v.now.Load()) }

// AutoJump reports whether the clock is in auto-jump mode.
func (v *Virtual) AutoJump() bool { return v.autoJump }

// Advance moves the clock forward by d (a negative d is ignored) and wakes
// the hubs that use it.
func (v *Virtual) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	v.now.Add(int64(d))
	v.notify()
}

// AdvanceTo moves the clock forward to t; it never moves backwards.
func (v *Virtual) AdvanceTo(t time.Duration) {
	for {
		cur := v.now.Load()
		if int64(t) <= cur {
			return
		}
		if v.now.CompareAndSwap(cur, int64(t)) {
			v.notify()
			return
		}
	}
}

// OnAdvance registers f to be called, from the goroutine that advanced the
// clock, after every Advance or AdvanceTo that moved it, until the returned
// function is called. A hub registers its thread-safe wake-up here for as
// long as it runs. f must not block.
func (v *Virtual) OnAdvance(f func()) (unregister func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.listeners == nil {
		v.listeners = make(map[int]func())
	}
	id := v.nextID
	v.nextID++
	v.listeners[id] = f
	return func() {
		v.mu.Lock()
		delete(v.listeners, id)
		v.mu.Unlock()
	}
}

func (v *Virtual) notify() {
	v.mu.Lock()
	ls := make([]func(), 0, len(v.listeners))
	for _, f := range v.listeners {
		ls = append(ls, f)
	}
	v.mu.Unlock()
	for _, f := range ls {
		f()
	}
}
