package timers

import "time"

// arity is the heap's branching factor. A 4-ary heap is shallower than a
// binary one and keeps siblings on one cache line; the Go runtime's timer
// heap uses the same arity.
const arity = 4

// Timer is one deadline in a Heap and the function to run when it passes.
// The zero value is an unscheduled timer; set F before scheduling it.
// A Timer belongs to at most one Heap at a time.
type Timer struct {
	// F runs when the timer fires. The owner of the heap calls it; the
	// heap itself never does.
	F func()

	when  time.Duration
	seq   uint64
	index int // position in the heap plus one; 0 when not scheduled
}

// Scheduled reports whether t is in a heap, waiting to fire.
func (t *Timer) Scheduled() bool { return t.index > 0 }

// When returns the deadline t was last scheduled for.
func (t *Timer) When() time.Duration { return t.when }

// before is the heap order: earlier deadline first, then earlier scheduling.
func (t *Timer) before(u *Timer) bool {
	return t.when < u.when || (t.when == u.when && t.seq < u.seq)
}

// Heap is a min-heap of timers ordered by (deadline, scheduling order).
// The zero value is an empty heap ready to use. It is not safe for
// concurrent use.
type Heap struct {
	items []*Timer
	seq   uint64
}

// Len returns the number of scheduled timers.
func (h *Heap) Len() int { return len(h.items) }

// Schedule makes t fire at when. If t is already scheduled it is moved, and
// counts as scheduled now for the tie-break among equal deadlines.
// O(log n) where n = h.Len().
func (h *Heap) Schedule(t *Timer, when time.Duration) {
	h.seq++
	t.when, t.seq = when, h.seq
	if t.index > 0 {
		i := t.index - 1
		if !h.up(i) {
			h.down(i)
		}
		return
	}
	h.items = append(h.items, t)
	t.index = len(h.items)
	h.up(len(h.items) - 1)
}

// Cancel removes t from the heap and reports whether it was scheduled.
// A cancelled timer never fires. O(log n) where n = h.Len().
func (h *Heap) Cancel(t *Timer) bool {
	if t.index == 0 {
		return false
	}
	h.removeAt(t.index - 1)
	return true
}

// Peek returns the timer that fires first, or nil if the heap is empty.
// O(1).
func (h *Heap) Peek() *Timer {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// PopDue removes and returns the first timer if its deadline is at or
// before now, and returns nil otherwise. O(log n) where n = h.Len().
func (h *Heap) PopDue(now time.Duration) *Timer {
	if len(h.items) == 0 || h.items[0].when > now {
		return nil
	}
	t := h.items[0]
	h.removeAt(0)
	return t
}

// Pop removes and returns the first timer, or nil if the heap is empty.
// O(log n) where n = h.Len().
func (h *Heap) Pop() *Timer {
	if len(h.items) == 0 {
		return nil
	}
	t := h.items[0]
	h.removeAt(0)
	return t
}

func (h *Heap) removeAt(i int) {
	last := len(h.items) - 1
	t := h.items[i]
	if i != last {
		h.items[i] = h.items[last]
		h.items[i].index = i + 1
	}
	h.items[last] = nil
	h.items = h.items[:last]
	t.index = 0
	if i != last {
		if !h.up(i) {
			h.down(i)
		}
	}
}

// up sifts items[i] towards the root and reports whether it moved.
func (h *Heap) up(i int) bool {
	t := h.items[i]
	start := i
	for i > 0 {
		p := (i - 1) / arity
		if !t.before(h.items[p]) {
			break
		}
		h.items[i] = h.items[p]
		h.items[i].index = i + 1
		i = p
	}
	h.items[i] = t
	t.index = i + 1
	return i != start
}

// down sifts items[i] towards the leaves.
func (h *Heap) down(i int) {
	n := len(h.items)
	t := h.items[i]
	for {
		first := i*arity + 1
		if first >= n {
			break
		}
		least := first
		end := min(first+arity, n)
		for c := first + 1; c < end; c++ {
			if h.items[c].before(h.items[least]) {
				least = c
			}
		}
		if !h.items[least].before(t) {
			break
		}
		h.items[i] = h.items[least]
		h.items[i].index = i + 1
		i = least
	}
	h.items[i] = t
	t.index = i + 1
}
