package timers

import (
	"math"
	"testing"
	"time"
)

// refEntry is one scheduled timer in the reference model.
type refEntry struct {
	t     *Timer
	when  time.Duration
	order uint64 // the model's own scheduling counter
}

// refHeap is the reference model: an unsorted slice searched linearly for
// the minimum (when, order). Slow and obviously right.
type refHeap struct {
	entries []refEntry
	order   uint64
	in      map[*Timer]bool // the timers in entries
}

func (r *refHeap) scheduled(t *Timer) bool { return r.in[t] }

func (r *refHeap) find(t *Timer) int {
	for i, e := range r.entries {
		if e.t == t {
			return i
		}
	}
	return -1
}

func (r *refHeap) schedule(t *Timer, when time.Duration) {
	r.order++
	if r.in == nil {
		r.in = make(map[*Timer]bool)
	}
	r.in[t] = true
	if i := r.find(t); i >= 0 {
		r.entries[i].when, r.entries[i].order = when, r.order
		return
	}
	r.entries = append(r.entries, refEntry{t: t, when: when, order: r.order})
}

func (r *refHeap) cancel(t *Timer) bool {
	i := r.find(t)
	if i < 0 {
		return false
	}
	delete(r.in, t)
	r.entries = append(r.entries[:i], r.entries[i+1:]...)
	return true
}

func (r *refHeap) minIndex() int {
	m := -1
	for i, e := range r.entries {
		if m < 0 || e.when < r.entries[m].when ||
			(e.when == r.entries[m].when && e.order < r.entries[m].order) {
			m = i
		}
	}
	return m
}

func (r *refHeap) peek() *Timer {
	if m := r.minIndex(); m >= 0 {
		return r.entries[m].t
	}
	return nil
}

func (r *refHeap) popDue(now time.Duration) *Timer {
	m := r.minIndex()
	if m < 0 || r.entries[m].when > now {
		return nil
	}
	t := r.entries[m].t
	delete(r.in, t)
	r.entries = append(r.entries[:m], r.entries[m+1:]...)
	return t
}

func (r *refHeap) pop() *Timer { return r.popDue(math.MaxInt64) }

// maxFuzzSteps bounds the operations one input runs, so that each input
// stays fast however long the fuzzer makes it.
const maxFuzzSteps = 512

// maxFuzzTimers bounds how many distinct timers one input creates, so a
// one-byte operand can name any of them and each step stays cheap.
const maxFuzzTimers = 64

// fuzzDuration turns an operand byte into a deadline or a time: mostly
// small values so that ties are common, with the extremes reachable.
func fuzzDuration(b byte) time.Duration {
	switch b {
	case 0xff:
		return math.MaxInt64
	case 0xfe:
		return math.MaxInt64 - 1
	default:
		return time.Duration(b % 32)
	}
}

// FuzzHeap reads its input as operations, two bytes each (opcode, operand),
// applies them to a Heap and to refHeap, and checks that the two agree
// after every step.
func FuzzHeap(f *testing.F) {
	const (
		opNew = iota
		opReschedule
		opCancel
		opPopDue
		opPop
		numOps
	)
	f.Add([]byte{})
	// Three ties, then pop them all.
	f.Add([]byte{opNew, 5, opNew, 5, opNew, 5, opPop, 0, opPop, 0, opPop, 0, opPop, 0})
	// Reschedule onto a tie, cancel twice, pop-due before and at the deadline.
	f.Add([]byte{opNew, 3, opNew, 3, opReschedule, 0, opCancel, 1, opCancel, 1, opPopDue, 2, opPopDue, 3})
	// Extremes: huge deadlines, pop-due at MaxInt64.
	f.Add([]byte{opNew, 0xff, opNew, 0, opNew, 0xfe, opPopDue, 0xfe, opPopDue, 0xff, opPopDue, 0xff})
	// Reuse of popped and cancelled timers.
	f.Add([]byte{opNew, 1, opNew, 2, opPop, 0, opReschedule, 0, opCancel, 1, opReschedule, 1, opPop, 0, opPop, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			h   Heap
			ref refHeap
			ts  []*Timer
		)
		pick := func(b byte) *Timer { return ts[int(b)%len(ts)] }
		for step := 0; 2*step+1 < len(data) && step < maxFuzzSteps; step++ {
			code, arg := data[2*step]%numOps, data[2*step+1]
			if len(ts) == 0 && (code == opReschedule || code == opCancel) {
				code = opNew
			}
			switch code {
			case opNew:
				if len(ts) == maxFuzzTimers {
					continue
				}
				x := new(Timer)
				ts = append(ts, x)
				h.Schedule(x, fuzzDuration(arg))
				ref.schedule(x, fuzzDuration(arg))
			case opReschedule:
				// arg names the timer; its deadline comes from the
				// timer's index mixed with arg, to vary both.
				x := pick(arg)
				when := fuzzDuration(arg ^ byte(len(ts)))
				h.Schedule(x, when)
				ref.schedule(x, when)
				if x.When() != when {
					t.Fatalf("step %d: When after Schedule = %v, want %v", step, x.When(), when)
				}
			case opCancel:
				x := pick(arg)
				got, want := h.Cancel(x), ref.cancel(x)
				if got != want {
					t.Fatalf("step %d: Cancel = %v, want %v", step, got, want)
				}
			case opPopDue:
				now := fuzzDuration(arg)
				got, want := h.PopDue(now), ref.popDue(now)
				if got != want {
					t.Fatalf("step %d: PopDue(%v) = %p, want %p", step, now, got, want)
				}
			case opPop:
				got, want := h.Pop(), ref.pop()
				if got != want {
					t.Fatalf("step %d: Pop = %p, want %p", step, got, want)
				}
			}
			if h.Len() != len(ref.entries) {
				t.Fatalf("step %d: Len = %d, want %d", step, h.Len(), len(ref.entries))
			}
			if got, want := h.Peek(), ref.peek(); got != want {
				t.Fatalf("step %d: Peek = %p, want %p", step, got, want)
			}
			for i, x := range ts {
				if got, want := x.Scheduled(), ref.scheduled(x); got != want {
					t.Fatalf("step %d: timer %d Scheduled = %v, want %v", step, i, got, want)
				}
			}
			checkHeap(t, &h)
		}
		// Drain: everything left pops in the reference order.
		for {
			got, want := h.Pop(), ref.pop()
			if got != want {
				t.Fatalf("drain: Pop = %p, want %p", got, want)
			}
			if got == nil {
				break
			}
		}
	})
}
