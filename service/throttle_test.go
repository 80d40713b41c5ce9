package service

import (
	"slices"
	"testing"
	"time"
)

// crashLoop simulates a service whose workers die the instant they start:
// each fork happens as soon as the throttle lets it. It returns the fork
// times, in seconds from the first, until horizon.
func crashLoop(workers int, horizon time.Duration) []time.Duration {
	th := forkThrottle{workers: workers}
	t0 := time.Unix(1000, 0)
	now := t0
	var forks []time.Duration
	for now.Sub(t0) < horizon {
		now = now.Add(th.delay(now))
		th.record(now)
		forks = append(forks, now.Sub(t0))
	}
	return forks
}

// The first forks of oslo's rule, computed by hand from _start_child.
func TestThrottleSequence(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		workers int
		want    []time.Duration
	}{
		{1, []time.Duration{0, 0, 1 * s, 1 * s, 2 * s, 2 * s, 3 * s}},
		{2, []time.Duration{0, 0, 0, 1 * s, 2 * s, 2 * s, 3 * s, 4 * s, 4 * s}},
		{4, []time.Duration{0, 0, 0, 0, 0, 1 * s, 2 * s, 3 * s, 4 * s, 4 * s, 5 * s, 6 * s, 7 * s, 8 * s, 8 * s}},
	} {
		got := crashLoop(tc.workers, time.Minute)[:len(tc.want)]
		if !slices.Equal(got, tc.want) {
			t.Errorf("workers=%d: forks at %v, want %v", tc.workers, got, tc.want)
		}
	}
}

// After the first burst of workers+1 forks, a crash loop never forks more
// than workers+1 times in any window of workers seconds: about one fork a
// second, whatever the number of workers.
func TestThrottleBound(t *testing.T) {
	for workers := 1; workers <= 8; workers++ {
		w := time.Duration(workers) * time.Second
		forks := crashLoop(workers, 5*time.Minute)
		for i, f := range forks {
			if f < w {
				continue
			}
			n := 0
			for _, g := range forks[i:] {
				if g < f+w {
					n++
				}
			}
			if n > workers+1 {
				t.Fatalf("workers=%d: %d forks in the %v from %v", workers, n, w, f)
			}
		}
		// And the burst: workers+1 at once, no more.
		if forks[workers] != 0 || forks[workers+1] == 0 {
			t.Errorf("workers=%d: first forks %v; want %d at once", workers, forks[:workers+2], workers+1)
		}
	}
}

// Forks far apart are never held back.
func TestThrottleSlowDeaths(t *testing.T) {
	th := forkThrottle{workers: 3}
	now := time.Unix(1000, 0)
	for range 20 {
		if d := th.delay(now); d != 0 {
			t.Fatalf("held back %v at %v", d, now)
		}
		th.record(now)
		now = now.Add(time.Second + time.Millisecond)
	}
	if len(th.times) != 4 {
		t.Errorf("keeps %d times; want workers+1", len(th.times))
	}
}
