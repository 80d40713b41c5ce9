package study

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Spinner is a calibrated busy loop: Spin(d) does about d of CPU work on
// the calling thread, a fixed number of iterations of integer arithmetic
// measured once by Calibrate, rather than spinning on the clock. A thread
// that is preempted during a clock spin does less work than asked; a
// calibrated loop does the same work however long it takes, as a handler's
// real code (decoding, validating, building a reply) does.
//
// A Spinner is immutable after Calibrate: any goroutine may call Spin.
type Spinner struct {
	perMicro float64 // iterations per microsecond
}

// calibrationRounds is how many times Calibrate times its loop; it keeps
// the fastest, the one least disturbed by cache misses and interrupts.
const (
	calibrationRounds = 9
	calibrationIters  = 1_000_000
)

// spinSink keeps the compiler from removing the loop.
var spinSink atomic.Uint64

// Calibrate measures the busy loop's speed on this machine: it times
// calibrationIters iterations calibrationRounds times in the thread's CPU
// time (CLOCK_THREAD_CPUTIME_ID), not the wall clock, so that a process
// preempted while it calibrates — a niced executor on a busy machine — does
// not take the loop for slower than it is, and keeps the fastest. It takes
// about 10 ms of CPU.
func Calibrate() Spinner {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Duration(1<<63 - 1)
	for range calibrationRounds {
		start := threadCPU()
		spin(calibrationIters)
		best = min(best, threadCPU()-start)
	}
	best = max(best, time.Microsecond)
	return Spinner{perMicro: calibrationIters / (float64(best) / float64(time.Microsecond))}
}

// threadCPU returns the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic("study: CLOCK_THREAD_CPUTIME_ID: " + err.Error())
	}
	return time.Duration(ts.Nano())
}

// PerMicrosecond returns the loop's iterations per microsecond.
func (s Spinner) PerMicrosecond() float64 { return s.perMicro }

// Iterations returns how many iterations Spin(d) runs.
func (s Spinner) Iterations(d time.Duration) int {
	return int(s.perMicro * float64(d) / float64(time.Microsecond))
}

// Spin does about d of CPU work.
func (s Spinner) Spin(d time.Duration) {
	if n := s.Iterations(d); n > 0 {
		spin(n)
	}
}

// spin runs n rounds of xorshift64.
func spin(n int) {
	x := uint64(n) | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	spinSink.Add(x)
}
