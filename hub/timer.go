package hub

import (
	"math"
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Now returns the time on the hub's clock. Any goroutine may call it.
func (h *Hub) Now() time.Duration { return h.clock.Now() }

// Clock returns the hub's clock.
func (h *Hub) Clock() timers.Clock { return h.clock }

// ScheduleTimer makes t fire at when on the hub's clock (see Now); t.F runs
// as a hub callback. A scheduled t is moved. Equal deadlines fire in the
// order they were scheduled. Hub thread only; it panics with ErrOutside
// otherwise.
func (h *Hub) ScheduleTimer(t *timers.Timer, when time.Duration) {
	h.mustCaller()
	h.timers.Schedule(t, when)
}

// CancelTimer stops t and reports whether it was scheduled. A cancelled
// timer never fires. Hub thread only; it panics with ErrOutside otherwise.
func (h *Hub) CancelTimer(t *timers.Timer) bool {
	h.mustCaller()
	return h.timers.Cancel(t)
}

// AfterFunc runs f as a hub callback once d has passed on the hub's clock,
// unless the returned timer is cancelled first with CancelTimer. Hub thread
// only; it panics with ErrOutside otherwise.
func (h *Hub) AfterFunc(d time.Duration, f func()) *timers.Timer {
	h.mustCaller()
	t := &timers.Timer{F: f}
	h.timers.Schedule(t, h.deadline(d))
	return t
}

// deadline returns the time d from now on the hub's clock, saturating
// instead of overflowing: a huge d (math.MaxInt64 as "never") must not wrap
// into the past and fire at once. libuv's uv_timer_start clamps the same
// way.
func (h *Hub) deadline(d time.Duration) time.Duration {
	now := h.clock.Now()
	if d > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + d
}
