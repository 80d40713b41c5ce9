package service

import (
	"errors"
	"fmt"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// ErrTimerDone, returned by a timer's function, ends the timer normally
// (oslo's LoopingCallDone): its Wait returns nil.
var ErrTimerDone = errors.New("service: timer done")

// ThreadGroup is oslo.service's ThreadGroup: a greenpool.Pool of green
// threads plus timers (looping calls), so that a service can stop them all
// at once.
//
// A ThreadGroup belongs to one hub. Its methods are for that hub's green
// threads; Spawn into a group with a free slot, AddTimer, AddDynamicTimer
// and StopTimers(false) also for hub callbacks. From another goroutine
// they return an error that errors.Is hub.ErrOutside (use greensync.Call).
type ThreadGroup struct {
	h       *hub.Hub
	pool    *greenpool.Pool
	threads map[*greenthread.Thread[struct{}]]struct{}
	timers  map[*Timer]struct{}
}

// NewThreadGroup returns a group of h whose pool runs at most size green
// threads at once (oslo's thread_pool_size). Any goroutine may call it.
func NewThreadGroup(h *hub.Hub, size int) *ThreadGroup {
	return &ThreadGroup{
		h:       h,
		pool:    greenpool.New(h, size),
		threads: map[*greenthread.Thread[struct{}]]struct{}{},
		timers:  map[*Timer]struct{}{},
	}
}

// Pool returns the group's pool (for Running, Free, Resize).
func (tg *ThreadGroup) Pool() *greenpool.Pool { return tg.pool }

// Threads returns how many of the group's threads are alive. Hub thread
// only.
func (tg *ThreadGroup) Threads() int { return len(tg.threads) }

// Timers returns how many of the group's timers are alive. Hub thread only.
func (tg *ThreadGroup) Timers() int { return len(tg.timers) }

// Spawn runs fn in a new green thread of the group's pool (oslo's
// add_thread), waiting while the pool is full. A failure of fn (an error
// other than a kill, a panic) goes to the hub's panic handler, as an
// unobserved green thread's does, besides the returned Thread's Wait.
func (tg *ThreadGroup) Spawn(fn func() error) (*greenthread.Thread[struct{}], error) {
	th, err := greenpool.Spawn(tg.pool, func() (struct{}, error) { return struct{}{}, fn() })
	if err != nil {
		return nil, err
	}
	if th.Dead() {
		return th, nil // ran inline on the caller's slot (see greenpool.Spawn)
	}
	tg.threads[th] = struct{}{}
	th.Link(func(th *greenthread.Thread[struct{}]) {
		delete(tg.threads, th)
		_, err := th.Wait()
		tg.h.Raw().ReportFailure(th.G(), err)
	})
	return th, nil
}

// SpawnN is Spawn without the Thread: a netio.SpawnFunc, so that a
// netio.Server's connections are threads of the group.
func (tg *ThreadGroup) SpawnN(fn func()) error {
	_, err := tg.Spawn(func() error { fn(); return nil })
	return err
}

// Timer is a looping call of a ThreadGroup (oslo's
// FixedIntervalLoopingCall, DynamicLoopingCall): a green thread that calls
// a function, sleeps, and again, until stopped. Its methods are for the
// hub's green threads (Stop also for hub callbacks).
type Timer struct {
	th      *greenthread.Thread[struct{}]
	abort   *greensync.Event[struct{}]
	stopped bool
}

// AddTimer calls fn every interval, the first time after initialDelay (0:
// at once), as oslo's add_timer (FixedIntervalLoopingCall): the interval is
// measured from the start of one call to the start of the next, on the
// hub's clock; a call that outlasts it is followed at once by the next. fn
// returning ErrTimerDone ends the timer normally; another error ends it
// with that error (oslo's stop_on_exception), which its Wait returns and
// the hub's panic handler gets.
func (tg *ThreadGroup) AddTimer(interval time.Duration, fn func() error, initialDelay time.Duration) (*Timer, error) {
	if interval < 0 {
		return nil, fmt.Errorf("service: add timer: negative interval %v", interval)
	}
	return tg.addTimer(initialDelay, func() (time.Duration, error) {
		start := tg.h.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		return max(interval-(tg.h.Now()-start), 0), nil
	})
}

// AddDynamicTimer calls fn, sleeps for the interval it returns, and again,
// the first time after initialDelay: oslo's add_dynamic_timer
// (DynamicLoopingCall). A negative interval means "no suggestion": sleep
// periodicIntervalMax. periodicIntervalMax > 0 also caps the intervals; 0
// means no cap, and then fn must always suggest one. Errors end the timer
// as AddTimer's do.
func (tg *ThreadGroup) AddDynamicTimer(fn func() (time.Duration, error), initialDelay, periodicIntervalMax time.Duration) (*Timer, error) {
	return tg.addTimer(initialDelay, func() (time.Duration, error) {
		next, err := fn()
		switch {
		case err != nil:
			return 0, err
		case next < 0 && periodicIntervalMax <= 0:
			return 0, errNoInterval
		case next < 0:
			return periodicIntervalMax, nil
		case periodicIntervalMax > 0:
			return min(next, periodicIntervalMax), nil
		}
		return next, nil
	})
}

var errNoInterval = errors.New("service: dynamic timer: no interval returned and no periodicIntervalMax")

// addTimer starts the loop of a timer: step calls the function and returns
// how long to idle before the next call.
func (tg *ThreadGroup) addTimer(initialDelay time.Duration, step func() (time.Duration, error)) (*Timer, error) {
	if _, err := tg.h.Raw().Caller(); err != nil {
		return nil, fmt.Errorf("service: add timer: %w", err)
	}
	t := &Timer{abort: greensync.NewEvent[struct{}](tg.h)}
	t.th = greenthread.Spawn(tg.h, func() (struct{}, error) {
		if initialDelay > 0 && t.sleep(initialDelay) {
			return struct{}{}, nil
		}
		for !t.stopped {
			idle, err := step()
			switch {
			case errors.Is(err, ErrTimerDone):
				return struct{}{}, nil
			case err != nil:
				return struct{}{}, err
			}
			if t.stopped || t.sleep(idle) {
				break
			}
		}
		return struct{}{}, nil
	})
	if t.th.G() == nil {
		_, err := t.th.Wait()
		return nil, fmt.Errorf("service: add timer: %w", err)
	}
	tg.timers[t] = struct{}{}
	t.th.Link(func(th *greenthread.Thread[struct{}]) {
		delete(tg.timers, t)
		_, err := th.Wait()
		tg.h.Raw().ReportFailure(th.G(), err)
	})
	return t, nil
}

// sleep idles for d unless the timer is stopped first; it reports whether
// it was. d == 0 yields, so that a timer of interval 0 shares the hub.
func (t *Timer) sleep(d time.Duration) bool {
	if d <= 0 {
		t.th.G().Hub().Raw().Yield()
		return t.stopped
	}
	_, err := t.abort.WaitTimeout(d)
	return t.stopped || err == nil
}

// Stop stops the timer: a sleeping timer ends at once, a call in progress
// is not interrupted and is the last. Stopping twice does nothing.
func (t *Timer) Stop() {
	if t.stopped {
		return
	}
	t.stopped = true
	t.abort.Send(struct{}{})
}

// Wait waits until the timer has ended (after Stop, ErrTimerDone or an
// error) and returns its error: nil if it was stopped, killed or done.
func (t *Timer) Wait() error {
	_, err := t.th.Wait()
	if errors.Is(err, hub.ErrKilled) {
		return nil
	}
	return err
}

// await waits for th to end and returns the wait's own error only (an
// interrupt, a caller that may not wait), not th's result; waiting for
// oneself is skipped.
func await(th *greenthread.Thread[struct{}]) error {
	_, err := th.Wait()
	if th.Dead() || errors.Is(err, greenthread.ErrWaitSelf) {
		return nil
	}
	return err
}

// StopTimers stops every timer of the group (oslo's stop_timers) and, if
// wait, waits for the calls in progress to finish.
func (tg *ThreadGroup) StopTimers(wait bool) error {
	if _, err := tg.h.Raw().Caller(); err != nil {
		return fmt.Errorf("service: stop timers: %w", err)
	}
	timers := make([]*Timer, 0, len(tg.timers))
	for t := range tg.timers {
		timers = append(timers, t)
	}
	for _, t := range timers {
		t.Stop()
	}
	if wait {
		for _, t := range timers {
			if err := await(t.th); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stop stops the group as oslo's ThreadGroup.stop does: the timers first
// (waiting for a call in progress if graceful), so that no new work starts;
// then, if graceful, it waits for the threads to finish, else it kills
// them and the timers' green threads and waits for them to unwind. The
// caller, if it is one of the group's threads or timers, is neither waited
// for nor killed. A graceful stop of a group whose threads never end does
// not return: bound it (a greensync Timeout, or a forced Stop(false) from
// another green thread, which is what a launcher does after its drain).
// The group may be used again afterwards.
func (tg *ThreadGroup) Stop(graceful bool) error {
	if _, err := tg.h.Raw().Green(); err != nil {
		return fmt.Errorf("service: thread group stop: %w", err)
	}
	if graceful {
		if err := tg.StopTimers(true); err != nil {
			return err
		}
		return tg.waitThreads()
	}
	me := tg.h.Raw().Current()
	var timers []*greenthread.Thread[struct{}]
	for t := range tg.timers {
		t.stopped = true
		if t.th.G() != me {
			timers = append(timers, t.th)
		}
	}
	for _, th := range timers {
		if err := th.Kill(); err != nil && !th.Dead() {
			return err
		}
	}
	return tg.pool.Kill()
}

// waitThreads waits until no thread of the group but the caller is alive,
// including threads spawned meanwhile.
func (tg *ThreadGroup) waitThreads() error {
	err := tg.pool.WaitAll()
	if !errors.Is(err, greenpool.ErrWaitInPool) {
		return err
	}
	// The caller is one of the threads: wait for the others.
	me := tg.h.Raw().Current()
	for {
		var th *greenthread.Thread[struct{}]
		for t := range tg.threads {
			if t.G() != me {
				th = t
				break
			}
		}
		if th == nil {
			return nil
		}
		if err := await(th); err != nil {
			return err
		}
	}
}

// Wait waits until every timer and thread of the group has ended (oslo's
// wait), except the caller. Timers end only when stopped or done, so stop
// them first (StopTimers, Stop) or Wait lasts as long as they do — which
// is what a service's Wait means by "running".
func (tg *ThreadGroup) Wait() error {
	if _, err := tg.h.Raw().Green(); err != nil {
		return fmt.Errorf("service: thread group wait: %w", err)
	}
	me := tg.h.Raw().Current()
	for {
		var th *greenthread.Thread[struct{}]
		for t := range tg.timers {
			if t.th.G() != me {
				th = t.th
				break
			}
		}
		if th == nil {
			break
		}
		if err := await(th); err != nil {
			return err
		}
	}
	return tg.waitThreads()
}
