// Package timers is the hub's clock and timer heap.
//
// A Heap orders Timers by (deadline, sequence number): two timers with the
// same deadline fire in the order they were scheduled, as libuv's timers do
// with their start_id (eventlet breaks such ties by memory address, which is
// not reproducible). Every Timer remembers its position in the heap, so
// Schedule (which also moves a scheduled timer) and
// Cancel are O(log n) and a cancelled timer leaves the
// heap at once: it can never fire.
//
// Deadlines are durations on a Clock: Real reads the monotonic clock,
// Virtual only moves when told to (Advance) or, in auto-jump mode, when the
// hub that owns it has nothing to do but wait for its next timer (Trio's
// MockClock autojump, Tokio's paused time).
//
// A Heap is not safe for concurrent use: the hub owns it and only the hub's
// thread touches it. Virtual clocks may be advanced from any goroutine.
package timers
