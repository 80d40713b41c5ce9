package timers

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// checkHeap fails the test unless h is a valid heap: every timer is after
// its parent in (when, seq) order and knows its own position.
func checkHeap(t *testing.T, h *Heap) {
	t.Helper()
	for i, x := range h.items {
		if x.index != i+1 {
			t.Fatalf("items[%d].index = %d, want %d", i, x.index, i+1)
		}
		if i > 0 {
			if p := h.items[(i-1)/arity]; x.before(p) {
				t.Fatalf("items[%d] (when %v, seq %d) is before its parent (when %v, seq %d)",
					i, x.when, x.seq, p.when, p.seq)
			}
		}
	}
}

// popAll pops every timer from h and returns them in pop order.
func popAll(t *testing.T, h *Heap) []*Timer {
	t.Helper()
	var out []*Timer
	for h.Len() > 0 {
		n := h.Len()
		x := h.Pop()
		if x == nil {
			t.Fatalf("Pop returned nil with Len %d", n)
		}
		if x.Scheduled() {
			t.Fatalf("popped timer (when %v) still reports Scheduled", x.when)
		}
		if h.Len() != n-1 {
			t.Fatalf("Len after Pop = %d, want %d", h.Len(), n-1)
		}
		checkHeap(t, h)
		out = append(out, x)
	}
	if x := h.Pop(); x != nil {
		t.Fatalf("Pop on empty heap = %p, want nil", x)
	}
	return out
}

// newTimers returns n fresh, unscheduled timers.
func newTimers(n int) []*Timer {
	ts := make([]*Timer, n)
	for i := range ts {
		ts[i] = new(Timer)
	}
	return ts
}

// indexOf returns the position of x in ts, or -1.
func indexOf(ts []*Timer, x *Timer) int {
	for i, t := range ts {
		if t == x {
			return i
		}
	}
	return -1
}

// popOrder pops every timer from h and returns their indices in ts.
func popOrder(t *testing.T, h *Heap, ts []*Timer) []int {
	t.Helper()
	var got []int
	for _, x := range popAll(t, h) {
		i := indexOf(ts, x)
		if i < 0 {
			t.Fatalf("popped timer %p was never created by the test", x)
		}
		got = append(got, i)
	}
	return got
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHeapOrder schedules timers[i] at whens[i], in order of i, and checks
// the order they pop in.
func TestHeapOrder(t *testing.T) {
	const huge = time.Duration(math.MaxInt64)
	tests := []struct {
		name  string
		whens []time.Duration
		want  []int // timer indices in pop order
	}{
		{
			// libuv test-timer.c timer_order: equal timeouts fire in start order.
			name:  "equal deadlines pop in scheduling order",
			whens: []time.Duration{0, 0, 0, 0, 0, 0, 0, 0},
			want:  []int{0, 1, 2, 3, 4, 5, 6, 7},
		},
		{
			name:  "equal non-zero deadlines pop in scheduling order",
			whens: []time.Duration{time.Second, time.Second, time.Second},
			want:  []int{0, 1, 2},
		},
		{
			// libuv zero_timeout.
			name:  "zero deadline first",
			whens: []time.Duration{5, 0, 3},
			want:  []int{1, 2, 0},
		},
		{
			// libuv huge_timeout.
			name:  "huge deadline last",
			whens: []time.Duration{huge, time.Hour, huge - 1, 0, huge},
			want:  []int{3, 1, 2, 0, 4},
		},
		{
			name:  "descending",
			whens: []time.Duration{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
			want:  []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
		},
		{
			name:  "ties mixed with distinct deadlines",
			whens: []time.Duration{2, 1, 2, 1, 3, 1, 2},
			want:  []int{1, 3, 5, 0, 2, 6, 4},
		},
		{
			name:  "negative deadline is just early",
			whens: []time.Duration{0, -1, 1},
			want:  []int{1, 0, 2},
		},
		{
			name:  "empty",
			whens: nil,
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap
			ts := newTimers(len(tt.whens))
			for i, w := range tt.whens {
				h.Schedule(ts[i], w)
				checkHeap(t, &h)
				if !ts[i].Scheduled() {
					t.Fatalf("timer %d not Scheduled after Schedule", i)
				}
				if ts[i].When() != w {
					t.Fatalf("timer %d When = %v, want %v", i, ts[i].When(), w)
				}
			}
			if h.Len() != len(tt.whens) {
				t.Fatalf("Len = %d, want %d", h.Len(), len(tt.whens))
			}
			if got := popOrder(t, &h, ts); !equalInts(got, tt.want) {
				t.Fatalf("pop order = %v, want %v", got, tt.want)
			}
		})
	}
}

// op is one step applied to a heap of test timers.
type op struct {
	kind  string // "schedule", "cancel"
	timer int
	when  time.Duration
	want  bool // for "cancel": the expected result
}

func TestHeapOps(t *testing.T) {
	tests := []struct {
		name   string
		timers int
		ops    []op
		want   []int // timer indices in pop order after the ops
	}{
		{
			name:   "reschedule later moves it back",
			timers: 3,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 2},
				{kind: "schedule", timer: 2, when: 3},
				{kind: "schedule", timer: 0, when: 4},
			},
			want: []int{1, 2, 0},
		},
		{
			name:   "reschedule earlier moves it forward",
			timers: 3,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 2},
				{kind: "schedule", timer: 2, when: 3},
				{kind: "schedule", timer: 2, when: 0},
			},
			want: []int{2, 0, 1},
		},
		{
			name:   "reschedule to same deadline counts as newly scheduled",
			timers: 3,
			ops: []op{
				{kind: "schedule", timer: 0, when: 5},
				{kind: "schedule", timer: 1, when: 5},
				{kind: "schedule", timer: 2, when: 5},
				{kind: "schedule", timer: 0, when: 5},
			},
			want: []int{1, 2, 0},
		},
		{
			name:   "reschedule onto a tie goes after the tie",
			timers: 3,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 9},
				{kind: "schedule", timer: 2, when: 5},
				{kind: "schedule", timer: 0, when: 5},
			},
			want: []int{2, 0, 1},
		},
		{
			name:   "cancel scheduled then unscheduled",
			timers: 2,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 2},
				{kind: "cancel", timer: 0, want: true},
				{kind: "cancel", timer: 0, want: false},
			},
			want: []int{1},
		},
		{
			name:   "cancel never scheduled",
			timers: 1,
			ops:    []op{{kind: "cancel", timer: 0, want: false}},
			want:   nil,
		},
		{
			name:   "cancel the root",
			timers: 4,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 2},
				{kind: "schedule", timer: 2, when: 3},
				{kind: "schedule", timer: 3, when: 4},
				{kind: "cancel", timer: 0, want: true},
			},
			want: []int{1, 2, 3},
		},
		{
			name:   "cancel the last",
			timers: 3,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 2},
				{kind: "schedule", timer: 2, when: 3},
				{kind: "cancel", timer: 2, want: true},
			},
			want: []int{0, 1},
		},
		{
			name:   "cancel only timer",
			timers: 1,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "cancel", timer: 0, want: true},
			},
			want: nil,
		},
		{
			name:   "cancel then schedule again",
			timers: 2,
			ops: []op{
				{kind: "schedule", timer: 0, when: 1},
				{kind: "schedule", timer: 1, when: 1},
				{kind: "cancel", timer: 0, want: true},
				{kind: "schedule", timer: 0, when: 1},
			},
			want: []int{1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap
			ts := newTimers(tt.timers)
			for i, o := range tt.ops {
				switch o.kind {
				case "schedule":
					h.Schedule(ts[o.timer], o.when)
					if !ts[o.timer].Scheduled() {
						t.Fatalf("op %d: timer %d not Scheduled after Schedule", i, o.timer)
					}
				case "cancel":
					if got := h.Cancel(ts[o.timer]); got != o.want {
						t.Fatalf("op %d: Cancel(timer %d) = %v, want %v", i, o.timer, got, o.want)
					}
					if ts[o.timer].Scheduled() {
						t.Fatalf("op %d: timer %d Scheduled after Cancel", i, o.timer)
					}
				default:
					t.Fatalf("op %d: unknown kind %q", i, o.kind)
				}
				checkHeap(t, &h)
			}
			if got := popOrder(t, &h, ts); !equalInts(got, tt.want) {
				t.Fatalf("pop order = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHeapCancelMiddle cancels timers from the inside of a heap large
// enough to have several levels and checks the rest still pop in order.
func TestHeapCancelMiddle(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		cancel func(i int) bool
	}{
		{name: "one in the middle", n: 100, cancel: func(i int) bool { return i == 50 }},
		{name: "every third", n: 200, cancel: func(i int) bool { return i%3 == 1 }},
		{name: "a run in the middle", n: 200, cancel: func(i int) bool { return i >= 60 && i < 140 }},
		{name: "all but first and last", n: 50, cancel: func(i int) bool { return i > 0 && i < 49 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap
			ts := newTimers(tt.n)
			// Deadlines in a scrambled order with ties: when = (i*7) % 13.
			for i, x := range ts {
				h.Schedule(x, time.Duration(i*7%13))
			}
			var live []int
			for i, x := range ts {
				if tt.cancel(i) {
					if !h.Cancel(x) {
						t.Fatalf("Cancel(timer %d) = false, want true", i)
					}
					checkHeap(t, &h)
				} else {
					live = append(live, i)
				}
			}
			if h.Len() != len(live) {
				t.Fatalf("Len = %d, want %d", h.Len(), len(live))
			}
			// Expected order: by when, then by scheduling order (index).
			var want []int
			for w := range 13 {
				for _, i := range live {
					if i*7%13 == w {
						want = append(want, i)
					}
				}
			}
			if got := popOrder(t, &h, ts); !equalInts(got, want) {
				t.Fatalf("pop order = %v, want %v", got, want)
			}
		})
	}
}

func TestHeapPopDue(t *testing.T) {
	tests := []struct {
		name  string
		whens []time.Duration
		now   time.Duration
		want  []int // timer indices PopDue(now) returns until nil
	}{
		{name: "empty heap", whens: nil, now: time.Hour, want: nil},
		{name: "nothing due", whens: []time.Duration{10, 20}, now: 9, want: nil},
		{name: "due exactly at now", whens: []time.Duration{10, 20}, now: 10, want: []int{0}},
		{name: "some due", whens: []time.Duration{30, 10, 20, 40}, now: 25, want: []int{1, 2}},
		{name: "all due", whens: []time.Duration{3, 1, 2}, now: 3, want: []int{1, 2, 0}},
		{name: "ties due in order", whens: []time.Duration{5, 5, 6, 5}, now: 5, want: []int{0, 1, 3}},
		{name: "zero deadline due at zero", whens: []time.Duration{0, 1}, now: 0, want: []int{0}},
		{
			name:  "huge deadline due only at MaxInt64",
			whens: []time.Duration{math.MaxInt64, 1},
			now:   math.MaxInt64 - 1,
			want:  []int{1},
		},
		{
			name:  "everything due at MaxInt64",
			whens: []time.Duration{math.MaxInt64, 1},
			now:   math.MaxInt64,
			want:  []int{1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap
			ts := newTimers(len(tt.whens))
			for i, w := range tt.whens {
				h.Schedule(ts[i], w)
			}
			var got []int
			for {
				x := h.PopDue(tt.now)
				if x == nil {
					break
				}
				if x.Scheduled() {
					t.Fatalf("PopDue returned a timer that is still Scheduled")
				}
				if x.When() > tt.now {
					t.Fatalf("PopDue(%v) returned a timer due at %v", tt.now, x.When())
				}
				checkHeap(t, &h)
				got = append(got, indexOf(ts, x))
			}
			if !equalInts(got, tt.want) {
				t.Fatalf("PopDue order = %v, want %v", got, tt.want)
			}
			if h.Len() != len(tt.whens)-len(tt.want) {
				t.Fatalf("Len = %d, want %d", h.Len(), len(tt.whens)-len(tt.want))
			}
			if p := h.Peek(); p != nil && p.When() <= tt.now {
				t.Fatalf("Peek after PopDue is due (%v <= %v)", p.When(), tt.now)
			}
		})
	}
}

func TestHeapPeek(t *testing.T) {
	var h Heap
	if p := h.Peek(); p != nil {
		t.Fatalf("Peek on empty heap = %p, want nil", p)
	}
	a, b, c := new(Timer), new(Timer), new(Timer)
	steps := []struct {
		name string
		do   func()
		want *Timer
		len  int
	}{
		{name: "schedule a at 10", do: func() { h.Schedule(a, 10) }, want: a, len: 1},
		{name: "schedule b at 10 (tie, later)", do: func() { h.Schedule(b, 10) }, want: a, len: 2},
		{name: "schedule c at 5", do: func() { h.Schedule(c, 5) }, want: c, len: 3},
		{name: "reschedule a at 10 (now after b)", do: func() { h.Schedule(a, 10) }, want: c, len: 3},
		{name: "cancel c", do: func() { h.Cancel(c) }, want: b, len: 2},
		{name: "pop b", do: func() { h.Pop() }, want: a, len: 1},
		{name: "pop a", do: func() { h.Pop() }, want: nil, len: 0},
	}
	for _, s := range steps {
		s.do()
		if got := h.Peek(); got != s.want {
			t.Fatalf("%s: Peek = %p, want %p", s.name, got, s.want)
		}
		if h.Len() != s.len {
			t.Fatalf("%s: Len = %d, want %d", s.name, h.Len(), s.len)
		}
		// Peek does not remove.
		if got := h.Peek(); got != s.want {
			t.Fatalf("%s: second Peek = %p, want %p", s.name, got, s.want)
		}
	}
}

func TestTimerZeroValue(t *testing.T) {
	var x Timer
	if x.Scheduled() {
		t.Fatal("zero Timer reports Scheduled")
	}
	if x.When() != 0 {
		t.Fatalf("zero Timer When = %v, want 0", x.When())
	}
	var h Heap
	if h.Len() != 0 || h.Peek() != nil || h.Pop() != nil || h.PopDue(math.MaxInt64) != nil {
		t.Fatal("zero Heap is not empty")
	}
	if h.Cancel(&x) {
		t.Fatal("Cancel of an unscheduled timer on a zero Heap = true")
	}
}

// TestHeapMillionHalfCancelled schedules 1,000,000 timers with many tied
// deadlines, cancels every other one, and checks that popping yields exactly
// the live half in (when, scheduling order).
func TestHeapMillionHalfCancelled(t *testing.T) {
	const n = 1_000_000
	ts := make([]Timer, n) // one allocation, not a million
	r := rand.New(rand.NewPCG(1, 2))
	var h Heap
	for i := range ts {
		// 1000 distinct deadlines: ~1000 ties each.
		h.Schedule(&ts[i], time.Duration(r.IntN(1000))*time.Millisecond)
	}
	if h.Len() != n {
		t.Fatalf("Len = %d, want %d", h.Len(), n)
	}
	for i := 1; i < n; i += 2 {
		if !h.Cancel(&ts[i]) {
			t.Fatalf("Cancel(timer %d) = false, want true", i)
		}
	}
	if h.Len() != n/2 {
		t.Fatalf("Len after cancelling half = %d, want %d", h.Len(), n/2)
	}
	for i := 1; i < n; i += 2 {
		if ts[i].Scheduled() {
			t.Fatalf("cancelled timer %d still Scheduled", i)
		}
	}
	// Each timer was scheduled once, in index order, so its sequence number
	// identifies it. Popping strictly increasing (when, seq) pairs, n/2 of
	// them, all from live timers, is exactly the live half in order.
	var prev *Timer
	popped := 0
	for x := h.Pop(); x != nil; x = h.Pop() {
		i := int(x.seq) - 1
		if i < 0 || i >= n || &ts[i] != x {
			t.Fatalf("popped timer with seq %d is not timer %d", x.seq, i)
		}
		if i%2 == 1 {
			t.Fatalf("popped cancelled timer %d", i)
		}
		if x.Scheduled() {
			t.Fatalf("popped timer %d still Scheduled", i)
		}
		if prev != nil && !prev.before(x) {
			t.Fatalf("pop %d: (when %v, seq %d) after (when %v, seq %d)",
				popped, x.when, x.seq, prev.when, prev.seq)
		}
		prev = x
		popped++
	}
	if popped != n/2 {
		t.Fatalf("popped %d timers, want %d", popped, n/2)
	}
	if h.Len() != 0 {
		t.Fatalf("Len after popping all = %d, want 0", h.Len())
	}
}
