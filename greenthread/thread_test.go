package greenthread_test

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// Every green thread and greenlet runs on the hub's one OS thread.
func TestOneOSThread(t *testing.T) {
	if !haveGettid {
		t.Skip("no gettid on this OS")
	}
	h := hub.New()
	tids := map[int]int{}
	hubtest.MustRun(t, h, func() error {
		tids[gettid()]++
		var threads []*greenthread.Thread[int]
		for i := range 500 {
			threads = append(threads, greenthread.Spawn(h, func() (int, error) {
				tids[gettid()]++
				err := greenthread.Sleep(h, time.Duration(i%3)*time.Microsecond)
				tids[gettid()]++
				return i, err
			}))
		}
		for range 50 {
			gl, err := greenthread.NewGreenlet(h, func(any) (any, error) {
				tids[gettid()]++
				return nil, nil
			}, greenthread.Greenlet{})
			if err != nil {
				return err
			}
			if _, err := gl.Switch(nil); err != nil {
				return err
			}
		}
		for i, th := range threads {
			if v, err := th.Wait(); v != i || err != nil {
				t.Errorf("thread %d: Wait = %d, %v", i, v, err)
			}
		}
		return nil
	})
	if len(tids) != 1 {
		t.Fatalf("green threads ran on %d OS threads: %v", len(tids), tids)
	}
	for _, n := range tids {
		if n != 1+2*500+50 {
			t.Errorf("%d records, want %d", n, 1+2*500+50)
		}
	}
}

// Called from a plain goroutine while a green thread runs, every function
// returns an error that errors.Is hub.ErrOutside and touches nothing; the
// hub keeps working.
func TestOutsideCalls(t *testing.T) {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	var ran atomic.Int32
	mark := func() (int, error) { ran.Add(1); return 0, nil }
	hubtest.MustRun(t, h, func() error {
		sleeper := greenthread.Spawn(h, func() (int, error) { return 7, greenthread.Sleep(h, time.Second) })
		later := greenthread.SpawnAfter(h, time.Second, func() (int, error) { return 8, nil })
		gl, err := greenthread.NewGreenlet(h, func(v any) (any, error) { return v, nil }, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		if err := greenthread.Yield(h); err != nil {
			return err
		}
		calls := []struct {
			name string
			call func() error
		}{
			{name: "Spawn", call: func() error { _, err := greenthread.Spawn(h, mark).Wait(); return err }},
			{name: "SpawnN", call: func() error { return greenthread.SpawnN(h, func() { mark() }) }},
			{name: "SpawnAfter", call: func() error { _, err := greenthread.SpawnAfter(h, 0, mark).Wait(); return err }},
			{name: "Sleep", call: func() error { return greenthread.Sleep(h, time.Second) }},
			{name: "Yield", call: func() error { return greenthread.Yield(h) }},
			{name: "Wait", call: func() error { _, err := sleeper.Wait(); return err }},
			{name: "Kill", call: sleeper.Kill},
			{name: "Kill SpawnAfter", call: later.Kill},
			{name: "Cancel", call: later.Cancel},
			{name: "NewGreenlet", call: func() error {
				_, err := greenthread.NewGreenlet(h, func(any) (any, error) { return mark() }, greenthread.Greenlet{})
				return err
			}},
			{name: "Switch", call: func() error { _, err := gl.Switch(1); return err }},
			{name: "Throw", call: func() error { _, err := gl.Throw(errTest); return err }},
		}
		errs := make([]error, len(calls))
		var done atomic.Bool
		go func() {
			for i, c := range calls {
				errs[i] = noPanic(c.call)
			}
			done.Store(true)
		}()
		for !done.Load() {
			runtime.Gosched()
		}
		for i, c := range calls {
			if !errors.Is(errs[i], hub.ErrOutside) {
				t.Errorf("%s from a goroutine: err = %v, want ErrOutside", c.name, errs[i])
			}
		}
		if greenthread.Current(h) == (greenthread.Greenlet{}) {
			t.Errorf("Current is zero in a green thread")
		}
		// Untouched and working.
		if v, err := sleeper.Wait(); v != 7 || err != nil {
			t.Errorf("sleeper: %d, %v; want 7, nil", v, err)
		}
		if v, err := later.Wait(); v != 8 || err != nil {
			t.Errorf("SpawnAfter thread: %d, %v; want 8, nil", v, err)
		}
		if v, err := gl.Switch("v"); v != "v" || err != nil {
			t.Errorf("greenlet: %v, %v; want v, nil", v, err)
		}
		if n := ran.Load(); n != 0 {
			t.Errorf("%d functions handed over from outside ran", n)
		}
		return nil
	})
}

func panicky() (int, error) { panic(errTest) }

// A panic stays inside its green thread: Wait and Link get a
// *hub.PanicError with the stack, and the others go on.
func TestPanicIsolation(t *testing.T) {
	h := hub.New()
	var linked error
	hubtest.MustRun(t, h, func() error {
		var threads []*greenthread.Thread[int]
		for i := range 4 {
			fn := func() (int, error) {
				greenthread.Yield(h)
				return i, nil
			}
			if i == 1 {
				fn = panicky
			}
			threads = append(threads, greenthread.Spawn(h, fn))
		}
		threads[1].Link(func(th *greenthread.Thread[int]) { _, linked = th.Wait() })
		for i, th := range threads {
			v, err := th.Wait()
			if i != 1 {
				if v != i || err != nil {
					t.Errorf("thread %d: %d, %v", i, v, err)
				}
				continue
			}
			var pe *hub.PanicError
			if !errors.As(err, &pe) || !errors.Is(err, errTest) {
				t.Errorf("panicking thread: err = %v, want *hub.PanicError wrapping errTest", err)
			} else if !strings.Contains(string(pe.Stack), "panicky") {
				t.Errorf("stack does not show the panicking function:\n%s", pe.Stack)
			}
		}
		return nil
	})
	var pe *hub.PanicError
	if !errors.As(linked, &pe) {
		t.Errorf("Link saw %v, want the *hub.PanicError", linked)
	}
}

// Kill wherever the thread is: it unwinds (deferred calls run), Wait
// reports ErrKilled, and the killer's Kill returns once it has ended.
func TestKill(t *testing.T) {
	tests := []struct {
		name    string
		body    func(h *hub.Hub, fd *hub.FD) error
		running bool // let it start before the kill
	}{
		{name: "before start", body: func(*hub.Hub, *hub.FD) error { return nil }},
		{name: "sleeping", running: true, body: func(h *hub.Hub, _ *hub.FD) error { return greenthread.Sleep(h, time.Hour) }},
		{name: "waiting", running: true, body: func(h *hub.Hub, _ *hub.FD) error {
			_, err := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Hour) }).Wait()
			return err
		}},
		{name: "parked on an fd", running: true, body: func(_ *hub.Hub, fd *hub.FD) error { return fd.WaitRead() }},
		{name: "self", running: true, body: func(h *hub.Hub, _ *hub.FD) error {
			return greenthread.Current(h).G().Owner().(*greenthread.Thread[int]).Kill()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New(hub.WithClock(timers.NewVirtual(false)))
			r, w := pipe(t)
			started, deferred, returned := false, false, false
			hubtest.MustRun(t, h, func() error {
				fd, err := h.Raw().Register(r)
				if err != nil {
					return err
				}
				th := greenthread.Spawn(h, func() (int, error) {
					started = true
					defer func() { deferred = true }()
					err := tt.body(h, fd)
					returned = true
					return 1, err
				})
				if tt.running {
					if err := greenthread.Yield(h); err != nil {
						return err
					}
				}
				if err := th.Kill(); err != nil {
					return err
				}
				if !th.Dead() {
					t.Errorf("Kill returned before the thread ended")
				}
				if _, err := th.Wait(); !errors.Is(err, greenthread.ErrKilled) || !errors.Is(err, hub.ErrKilled) {
					t.Errorf("Wait = %v, want ErrKilled", err)
				}
				if rd, _ := fd.Waiters(); rd != nil {
					t.Errorf("the killed thread is still the fd's reader")
				}
				if _, err := unix.Write(w, []byte("x")); err != nil {
					return err
				}
				if err := greenthread.Sleep(h, 0); err != nil {
					return err
				}
				return th.Kill() // killing the dead is nothing
			})
			if returned {
				t.Errorf("the killed body returned")
			}
			if started != tt.running || deferred != tt.running {
				t.Errorf("started %v, deferred call ran %v; want %v", started, deferred, tt.running)
			}
		})
	}
}

// Link runs the linked functions in order when the thread ends, Unlink
// withdraws one, and Link on a dead thread runs at once.
func TestLink(t *testing.T) {
	h := hub.New()
	var got []string
	hubtest.MustRun(t, h, func() error {
		th := greenthread.Spawn(h, func() (string, error) { return "result", nil })
		add := func(name string) int {
			return th.Link(func(th *greenthread.Thread[string]) {
				v, err := th.Wait()
				got = append(got, name+":"+v)
				if err != nil {
					t.Errorf("link %s: %v", name, err)
				}
			})
		}
		add("first")
		id := add("unlinked")
		add("third")
		if !th.Unlink(id) {
			t.Errorf("Unlink = false")
		}
		if th.Unlink(id) {
			t.Errorf("second Unlink = true")
		}
		if _, err := th.Wait(); err != nil {
			return err
		}
		if want := []string{"first:result", "third:result"}; !slices.Equal(got, want) {
			t.Errorf("links ran %v, want %v", got, want)
		}
		add("late")
		if got[len(got)-1] != "late:result" {
			t.Errorf("Link on a dead thread did not run at once: %v", got)
		}
		return nil
	})
}

// SpawnAfter starts the thread when its time comes; Cancel before then
// means it never runs; Cancel after it started is refused.
func TestSpawnAfterAndCancel(t *testing.T) {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	ranCancelled := false
	hubtest.MustRun(t, h, func() error {
		var startedAt time.Duration
		later := greenthread.SpawnAfter(h, 5*time.Second, func() (int, error) {
			startedAt = h.Now()
			return 1, greenthread.Sleep(h, time.Second)
		})
		never := greenthread.SpawnAfter(h, time.Second, func() (int, error) {
			ranCancelled = true
			return 0, nil
		})
		if err := never.Cancel(); err != nil {
			t.Errorf("Cancel = %v", err)
		}
		if _, err := never.Wait(); !errors.Is(err, greenthread.ErrKilled) {
			t.Errorf("Wait on a cancelled thread = %v, want ErrKilled", err)
		}
		if err := greenthread.Sleep(h, 5500*time.Millisecond); err != nil {
			return err
		}
		if err := later.Cancel(); !errors.Is(err, greenthread.ErrStarted) {
			t.Errorf("Cancel of a started thread = %v, want ErrStarted", err)
		}
		if v, err := later.Wait(); v != 1 || err != nil {
			t.Errorf("Wait = %d, %v", v, err)
		}
		if startedAt != 5*time.Second {
			t.Errorf("SpawnAfter(5s) started at %v", startedAt)
		}
		if err := later.Cancel(); !errors.Is(err, greenthread.ErrStarted) {
			t.Errorf("Cancel of a finished thread = %v, want ErrStarted", err)
		}
		return nil
	})
	if ranCancelled {
		t.Errorf("the cancelled thread ran")
	}
}

// Wait refuses a thread waiting for itself and a hub callback.
func TestWaitMisuse(t *testing.T) {
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		var self *greenthread.Thread[int]
		self = greenthread.Spawn(h, func() (int, error) {
			if _, err := self.Wait(); !errors.Is(err, greenthread.ErrWaitSelf) {
				t.Errorf("a thread waiting for itself: %v, want ErrWaitSelf", err)
			}
			return 0, nil
		})
		other := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Millisecond) })
		var cbErr error
		h.Raw().AfterFunc(0, func() { _, cbErr = other.Wait() })
		if _, err := self.Wait(); err != nil {
			return err
		}
		if _, err := other.Wait(); err != nil {
			return err
		}
		if !errors.Is(cbErr, hub.ErrNotGreen) {
			t.Errorf("Wait from a callback = %v, want ErrNotGreen", cbErr)
		}
		return nil
	})
}

// When main returns Run kills the threads left and unwinds them; with
// WaitForAll it waits for them instead.
func TestRunEnd(t *testing.T) {
	tests := []struct {
		name     string
		opts     []hub.Option
		wantErrs error
	}{
		{name: "kills the rest", wantErrs: greenthread.ErrKilled},
		{name: "WaitForAll", opts: []hub.Option{hub.WaitForAll()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New(append(tt.opts, hub.WithClock(timers.NewVirtual(true)))...)
			var errs []error
			deferred := 0
			errMain := errors.New("main")
			err := hubtest.Run(t, h, func() error {
				for i := range 3 {
					th := greenthread.Spawn(h, func() (int, error) {
						defer func() { deferred++ }()
						return i, greenthread.Sleep(h, time.Duration(i+1)*time.Hour)
					})
					th.Link(func(th *greenthread.Thread[int]) { _, err := th.Wait(); errs = append(errs, err) })
				}
				if err := greenthread.Yield(h); err != nil { // they start and sleep
					return err
				}
				return errMain
			})
			if !errors.Is(err, errMain) {
				t.Errorf("Run = %v, want main's error", err)
			}
			if deferred != 3 || len(errs) != 3 {
				t.Fatalf("%d deferred calls and %d links ran, want 3 and 3", deferred, len(errs))
			}
			for _, err := range errs {
				if !errors.Is(err, tt.wantErrs) || (tt.wantErrs == nil) != (err == nil) {
					t.Errorf("thread ended with %v, want %v", err, tt.wantErrs)
				}
			}
		})
	}
}

// 100,000 threads spawned and waited for.
func TestManyThreads(t *testing.T) {
	const n = 100_000
	h := hub.New()
	sum := 0
	spawnN := 0
	hubtest.MustRun(t, h, func() error {
		threads := make([]*greenthread.Thread[int], n)
		for i := range threads {
			threads[i] = greenthread.Spawn(h, func() (int, error) { return i, nil })
			if i%10 == 0 {
				if err := greenthread.SpawnN(h, func() { spawnN++ }); err != nil {
					return err
				}
			}
		}
		for _, th := range threads {
			v, err := th.Wait()
			if err != nil {
				return err
			}
			sum += v
		}
		return nil
	})
	if want := n * (n - 1) / 2; sum != want {
		t.Errorf("sum of results = %d, want %d", sum, want)
	}
	if spawnN != n/10 {
		t.Errorf("%d SpawnN threads ran, want %d", spawnN, n/10)
	}
}

// An hour of sleeps on an auto-jumping virtual clock finishes at once, in
// deadline order.
func TestVirtualHourOfSleeps(t *testing.T) {
	clock := timers.NewVirtual(true)
	h := hub.New(hub.WithClock(clock))
	var woke []int
	start := time.Now()
	hubtest.MustRun(t, h, func() error {
		var threads []*greenthread.Thread[int]
		for k := range 3600 {
			i := 3600 - k // spawned in reverse order of deadline
			threads = append(threads, greenthread.Spawn(h, func() (int, error) {
				err := greenthread.Sleep(h, time.Duration(i)*time.Second)
				if h.Now() != time.Duration(i)*time.Second {
					t.Errorf("sleeper %d woke at %v", i, h.Now())
				}
				woke = append(woke, i)
				return i, err
			}))
		}
		for _, th := range threads {
			if _, err := th.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
	// The hub never waited for real time: with no fd it made no poll
	// system call at all. Real time is only a sanity bound (the race
	// detector and a loaded machine slow goroutine creation down).
	if polls := h.Stats().Polls; polls != 0 {
		t.Errorf("%d poll system calls, want 0", polls)
	}
	limit := time.Second
	if raceEnabled {
		limit = 5 * time.Second
	}
	if elapsed := time.Since(start); elapsed > limit {
		t.Errorf("an hour of virtual sleeps took %v of real time", elapsed)
	}
	if len(woke) != 3600 || !slices.IsSorted(woke) || clock.Now() != time.Hour {
		t.Errorf("%d woke, in order %v, clock at %v", len(woke), slices.IsSorted(woke), clock.Now())
	}
}
