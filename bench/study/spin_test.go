package study

import (
	"testing"
	"time"
)

func TestCalibrateIsPlausible(t *testing.T) {
	s := Calibrate()
	// A xorshift round is a few instructions: between 0.01 and 100 per
	// nanosecond on anything that runs Go.
	if r := s.PerMicrosecond(); r < 10 || r > 100_000 {
		t.Fatalf("%v iterations per µs: implausible calibration", r)
	}
	if a, b := s.Iterations(time.Millisecond), s.Iterations(2*time.Millisecond); b < 2*a-1 || b > 2*a+1 {
		t.Errorf("Iterations(1ms) = %d but Iterations(2ms) = %d: not proportional", a, b)
	}
	if n := s.Iterations(0); n != 0 {
		t.Errorf("Iterations(0) = %d", n)
	}
}

// TestSpinBounds holds Spin(d) to within [0.5d, 4d] of wall time: the
// fastest of several tries for the upper bound (another process may take
// the CPU meanwhile), every try for the lower (nothing makes a calibrated
// loop much faster than its fastest calibration run).
func TestSpinBounds(t *testing.T) {
	s := Calibrate()
	for _, d := range []time.Duration{500 * time.Microsecond, 5 * time.Millisecond} {
		fastest := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			s.Spin(d)
			took := time.Since(start)
			if took < d/2 {
				t.Errorf("Spin(%v) took %v: under half", d, took)
			}
			fastest = min(fastest, took)
		}
		if fastest > 4*d {
			t.Errorf("Spin(%v) took at least %v: over four times", d, fastest)
		}
	}
}
