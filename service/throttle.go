package service

import "time"

// forkThrottle is oslo's _start_child throttle for one service's workers:
// it keeps the times of the last workers+1 forks, and before a fork, when
// it holds workers+1 of them and the oldest is less than workers seconds
// old, the fork waits a second first, and then happens without looking
// again. Workers start at once (the first workers+1 forks are free), and
// workers that die as soon as they start are respawned at workers+1 forks
// every workers seconds — about one a second — rather than in a tight
// loop (throttle_test.go works the sequences out).
type forkThrottle struct {
	workers int
	times   []time.Time // the last workers+1 forks, oldest first
}

// throttlePause is how long a fork waits when the throttle holds it back
// (oslo's time.sleep(1)).
const throttlePause = time.Second

// delay returns how long the fork about to happen at now must wait: 0 or
// throttlePause. After the wait the fork happens without looking again,
// as oslo's does after its sleep.
func (t *forkThrottle) delay(now time.Time) time.Duration {
	if len(t.times) > t.workers && now.Sub(t.times[0]) < time.Duration(t.workers)*time.Second {
		return throttlePause
	}
	return 0
}

// record notes a fork at now.
func (t *forkThrottle) record(now time.Time) {
	if len(t.times) > t.workers {
		t.times = append(t.times[:0], t.times[1:]...)
	}
	t.times = append(t.times, now)
}
