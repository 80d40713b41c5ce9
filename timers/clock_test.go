package timers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Both clocks satisfy Clock.
var (
	_ Clock = (*Real)(nil)
	_ Clock = (*Virtual)(nil)
)

func TestRealMonotonic(t *testing.T) {
	c := NewReal()
	prev := c.Now()
	if prev < 0 {
		t.Fatalf("first Now = %v, want >= 0", prev)
	}
	for i := range 100_000 {
		now := c.Now()
		if now < prev {
			t.Fatalf("read %d: Now went backwards: %v after %v", i, now, prev)
		}
		prev = now
	}
}

func TestRealAdvances(t *testing.T) {
	c := NewReal()
	start := c.Now()
	time.Sleep(time.Millisecond)
	if d := c.Now() - start; d < time.Millisecond {
		t.Fatalf("Now advanced %v across a 1ms sleep, want >= 1ms", d)
	}
}

func TestVirtualAutoJump(t *testing.T) {
	tests := []struct {
		name     string
		autoJump bool
	}{
		{name: "off", autoJump: false},
		{name: "on", autoJump: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVirtual(tt.autoJump)
			if got := v.AutoJump(); got != tt.autoJump {
				t.Fatalf("AutoJump = %v, want %v", got, tt.autoJump)
			}
			if got := v.Now(); got != 0 {
				t.Fatalf("new clock Now = %v, want 0", got)
			}
		})
	}
}

// clockStep is one call on a Virtual clock.
type clockStep struct {
	advance   time.Duration // used when to is false
	to        bool          // call AdvanceTo(at) instead of Advance(advance)
	at        time.Duration
	wantNow   time.Duration
	wantMoved bool // whether listeners should have been called
}

func TestVirtualAdvance(t *testing.T) {
	tests := []struct {
		name  string
		steps []clockStep
	}{
		{
			name: "advance moves forward",
			steps: []clockStep{
				{advance: time.Second, wantNow: time.Second, wantMoved: true},
				{advance: time.Millisecond, wantNow: time.Second + time.Millisecond, wantMoved: true},
			},
		},
		{
			name: "zero and negative advance ignored",
			steps: []clockStep{
				{advance: 5, wantNow: 5, wantMoved: true},
				{advance: 0, wantNow: 5, wantMoved: false},
				{advance: -3, wantNow: 5, wantMoved: false},
				{advance: -time.Hour, wantNow: 5, wantMoved: false},
			},
		},
		{
			name: "advance to moves forward only",
			steps: []clockStep{
				{to: true, at: 10, wantNow: 10, wantMoved: true},
				{to: true, at: 10, wantNow: 10, wantMoved: false},
				{to: true, at: 4, wantNow: 10, wantMoved: false},
				{to: true, at: -1, wantNow: 10, wantMoved: false},
				{to: true, at: 11, wantNow: 11, wantMoved: true},
			},
		},
		{
			name: "advance and advance to mixed",
			steps: []clockStep{
				{advance: 3, wantNow: 3, wantMoved: true},
				{to: true, at: 2, wantNow: 3, wantMoved: false},
				{to: true, at: 7, wantNow: 7, wantMoved: true},
				{advance: 1, wantNow: 8, wantMoved: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVirtual(false)
			calls := 0
			unregister := v.OnAdvance(func() { calls++ })
			defer unregister()
			for i, s := range tt.steps {
				before := calls
				if s.to {
					v.AdvanceTo(s.at)
				} else {
					v.Advance(s.advance)
				}
				if got := v.Now(); got != s.wantNow {
					t.Fatalf("step %d: Now = %v, want %v", i, got, s.wantNow)
				}
				wantCalls := 0
				if s.wantMoved {
					wantCalls = 1
				}
				if got := calls - before; got != wantCalls {
					t.Fatalf("step %d: listener called %d times, want %d", i, got, wantCalls)
				}
			}
		})
	}
}

func TestVirtualOnAdvanceUnregister(t *testing.T) {
	v := NewVirtual(false)
	var a, b int
	unA := v.OnAdvance(func() { a++ })
	unB := v.OnAdvance(func() { b++ })

	v.Advance(1)
	if a != 1 || b != 1 {
		t.Fatalf("after first advance: a=%d b=%d, want 1 1", a, b)
	}
	unA()
	v.Advance(1)
	v.AdvanceTo(10)
	if a != 1 || b != 3 {
		t.Fatalf("after unregistering a: a=%d b=%d, want 1 3", a, b)
	}
	unA() // a second call is harmless
	unB()
	v.Advance(1)
	if a != 1 || b != 3 {
		t.Fatalf("after unregistering both: a=%d b=%d, want 1 3", a, b)
	}
	// A listener may unregister itself while being notified.
	var c int
	var unC func()
	unC = v.OnAdvance(func() { c++; unC() })
	v.Advance(1)
	v.Advance(1)
	if c != 1 {
		t.Fatalf("self-unregistering listener called %d times, want 1", c)
	}
}

func TestVirtualConcurrentAdvance(t *testing.T) {
	const (
		goroutines = 8
		perG       = 1000
	)
	v := NewVirtual(false)
	var calls atomic.Int64
	defer v.OnAdvance(func() { calls.Add(1) })()

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perG {
				v.Advance(time.Duration(g + 1))
				_ = v.Now()
			}
		}()
	}
	wg.Wait()
	// Sum over g of (g+1)*perG.
	want := time.Duration(goroutines * (goroutines + 1) / 2 * perG)
	if got := v.Now(); got != want {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	if got := calls.Load(); got != goroutines*perG {
		t.Fatalf("listener called %d times, want %d", got, goroutines*perG)
	}
}

func TestVirtualConcurrentAdvanceTo(t *testing.T) {
	const goroutines = 8
	v := NewVirtual(true)
	var calls atomic.Int64
	defer v.OnAdvance(func() { calls.Add(1) })()

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				prev := v.Now()
				v.AdvanceTo(time.Duration(i*goroutines + g))
				if now := v.Now(); now < prev {
					t.Errorf("Now went backwards: %v after %v", now, prev)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := v.Now(), time.Duration(999*goroutines+goroutines-1); got != want {
		t.Fatalf("Now = %v, want %v (the largest target)", got, want)
	}
	// Every successful AdvanceTo moved the clock and notified once; there
	// are at most as many as distinct targets.
	if got := calls.Load(); got < 1 || got > 1000*goroutines {
		t.Fatalf("listener called %d times, want 1..%d", got, 1000*goroutines)
	}
}
