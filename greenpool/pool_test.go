package greenpool_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// step is one operation of a scripted pool test and what the pool looks
// like after it.
type step struct {
	op      string // spawn, finish, resize, interrupt, kill, resizeKill, resizeInterrupt, interruptResize, wake
	arg     int    // task id, or size for resize and resizeKill
	arg2    int    // resizeKill, resizeInterrupt: the spawner hit right after the resize
	running int
	waiting int
	started []int // nil: not checked
}

func TestPoolSlots(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		steps []step
	}{
		{
			name: "spawn blocks when full, slots go first come first served",
			size: 2,
			steps: []step{
				{op: "spawn", running: 1, started: []int{0}},
				{op: "spawn", running: 2, started: []int{0, 1}},
				{op: "spawn", running: 2, waiting: 1, started: []int{0, 1}},
				{op: "spawn", running: 2, waiting: 2},
				{op: "spawn", running: 2, waiting: 3, started: []int{0, 1}},
				{op: "finish", arg: 1, running: 2, waiting: 2, started: []int{0, 1, 2}},
				{op: "finish", arg: 0, running: 2, waiting: 1, started: []int{0, 1, 2, 3}},
				{op: "finish", arg: 3, running: 2, started: []int{0, 1, 2, 3, 4}},
				{op: "finish", arg: 2, running: 1},
				{op: "finish", arg: 4, running: 0},
			},
		},
		{
			name: "size one runs one at a time",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1, started: []int{0}},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2, started: []int{0}},
				{op: "finish", arg: 0, running: 1, waiting: 1, started: []int{0, 1}},
				{op: "finish", arg: 1, running: 1, started: []int{0, 1, 2}},
				{op: "finish", arg: 2, running: 0},
			},
		},
		{
			name: "growing wakes waiters at once",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "spawn", running: 1, waiting: 3, started: []int{0}},
				{op: "resize", arg: 3, running: 3, waiting: 1, started: []int{0, 1, 2}},
				{op: "resize", arg: 5, running: 4, started: []int{0, 1, 2, 3}},
				{op: "spawn", running: 5},
				{op: "spawn", running: 5, waiting: 1, started: []int{0, 1, 2, 3, 4}},
			},
		},
		{
			name: "shrinking lets running tasks finish",
			size: 3,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 2},
				{op: "spawn", running: 3},
				{op: "spawn", running: 3, waiting: 1, started: []int{0, 1, 2}},
				{op: "resize", arg: 1, running: 3, waiting: 1, started: []int{0, 1, 2}},
				{op: "finish", arg: 0, running: 2, waiting: 1, started: []int{0, 1, 2}},
				{op: "finish", arg: 1, running: 1, waiting: 1, started: []int{0, 1, 2}},
				{op: "finish", arg: 2, running: 1, started: []int{0, 1, 2, 3}},
				{op: "spawn", running: 1, waiting: 1},
				{op: "finish", arg: 3, running: 1, started: []int{0, 1, 2, 3, 4}},
			},
		},
		{
			name: "size zero pauses the pool",
			size: 0,
			steps: []step{
				{op: "spawn", waiting: 1, started: []int{}},
				{op: "spawn", waiting: 2, started: []int{}},
				{op: "resize", arg: 1, running: 1, waiting: 1, started: []int{0}},
				{op: "resize", arg: 0, running: 1, waiting: 1},
				{op: "finish", arg: 0, waiting: 1, started: []int{0}},
				{op: "resize", arg: 2, running: 1, started: []int{0, 1}},
			},
		},
		{
			name: "interrupted spawner leaves the queue",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "interrupt", arg: 1, running: 1, waiting: 1},
				{op: "finish", arg: 0, running: 1, started: []int{0, 2}},
				{op: "finish", arg: 2, running: 0, started: []int{0, 2}},
			},
		},
		{
			name: "interrupting the oldest spawner, then growing",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "interrupt", arg: 1, running: 1, waiting: 1},
				{op: "resize", arg: 3, running: 2, started: []int{0, 2}},
			},
		},
		{
			name: "killed spawner leaves the queue",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "kill", arg: 1, running: 1, waiting: 1},
				{op: "finish", arg: 0, running: 1, started: []int{0, 2}},
			},
		},
		{
			name: "spawner woken by a stray Ready keeps its place",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "wake", arg: 1, running: 1, waiting: 2},
				{op: "finish", arg: 0, running: 1, waiting: 1, started: []int{0, 1}},
				{op: "finish", arg: 1, running: 1, started: []int{0, 1, 2}},
			},
		},
		{
			name: "spawner interrupted while a slot is handed to it gets the slot",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				// The interruption finds it ready, not parked: it is kept
				// for the spawner's next blocking call, and the spawn
				// succeeds.
				{op: "resizeInterrupt", arg: 2, arg2: 1, running: 2, waiting: 1, started: []int{0, 1}},
			},
		},
		{
			name: "slot handed to a spawner already interrupted is passed on",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "interruptResize", arg: 2, arg2: 1, running: 2, started: []int{0, 2}},
			},
		},
		{
			name: "spawner killed after it was handed a slot passes the slot on",
			size: 1,
			steps: []step{
				{op: "spawn", running: 1},
				{op: "spawn", running: 1, waiting: 1},
				{op: "spawn", running: 1, waiting: 2},
				{op: "resizeKill", arg: 2, arg2: 1, running: 2, started: []int{0, 2}},
				{op: "finish", arg: 0, running: 1},
				{op: "finish", arg: 2, running: 0, started: []int{0, 2}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				d := newDriver(t, h, tc.size)
				for i, s := range tc.steps {
					switch s.op {
					case "spawn":
						d.spawn()
					case "finish":
						d.finish(s.arg)
					case "resize":
						d.resize(s.arg)
					case "interrupt":
						d.interrupt(s.arg)
						if err := d.spawnErr[s.arg]; err != errInterrupt {
							t.Errorf("step %d: interrupted spawner got %v, want %v", i, err, errInterrupt)
						}
					case "kill":
						d.kill(s.arg)
						if _, err := d.spawners[s.arg].Wait(); !errors.Is(err, hub.ErrKilled) {
							t.Errorf("step %d: killed spawner got %v, want ErrKilled", i, err)
						}
					case "wake":
						h.Raw().Ready(d.spawners[s.arg].G(), nil)
						settle(h)
					case "resizeInterrupt":
						d.p.Resize(s.arg)
						h.Raw().Interrupt(d.spawners[s.arg2].G(), errInterrupt)
						settle(h)
						if err := d.spawnErr[s.arg2]; err != nil {
							t.Errorf("step %d: spawner handed a slot got %v", i, err)
						}
					case "interruptResize":
						h.Raw().Interrupt(d.spawners[s.arg2].G(), errInterrupt)
						d.p.Resize(s.arg)
						settle(h)
						if err := d.spawnErr[s.arg2]; err != errInterrupt {
							t.Errorf("step %d: spawner interrupted got %v", i, err)
						}
					case "resizeKill":
						// The resize hands spawner arg2 a slot and makes it
						// ready; it is killed before it runs.
						d.p.Resize(s.arg)
						h.Raw().Kill(d.spawners[s.arg2].G())
						settle(h)
					}
					d.check(fmt.Sprintf("step %d (%s %d)", i, s.op, s.arg), s.running, s.waiting, s.started)
				}
				d.releaseAll()
				d.check("end", 0, 0, nil)
				return nil
			}, hubtest.Virtual())
		})
	}
}

func TestSpawnWait(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		var threads []*greenthread.Thread[int]
		for i := range 5 {
			th, err := greenpool.Spawn(p, func() (int, error) {
				greenthread.Sleep(h, time.Duration(5-i)*time.Millisecond)
				if i == 3 {
					return 0, fmt.Errorf("task %d failed", i)
				}
				return i * i, nil
			})
			if err != nil {
				return err
			}
			threads = append(threads, th)
		}
		for i, th := range threads {
			v, err := th.Wait()
			switch {
			case i == 3 && (err == nil || err.Error() != "task 3 failed"):
				t.Errorf("task 3: err %v", err)
			case i != 3 && (err != nil || v != i*i):
				t.Errorf("task %d: %d, %v; want %d", i, v, err, i*i)
			}
		}
		if p.Running() != 0 {
			t.Errorf("Running() = %d after every task ended", p.Running())
		}
		return nil
	}, hubtest.Virtual())
}

// A panicking task returns its slot. A SpawnN task's panic, which no one
// can wait for, goes to the hub's panic handler; a Spawn task's goes to
// its waiter only.
func TestPanicReturnsSlot(t *testing.T) {
	var reported []error
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		for i := range 3 {
			th, err := greenpool.Spawn(p, func() (int, error) { panic(fmt.Sprintf("boom %d", i)) })
			if err != nil {
				return err
			}
			_, err = th.Wait()
			var pe *hub.PanicError
			if !errors.As(err, &pe) || pe.Value != fmt.Sprintf("boom %d", i) {
				t.Errorf("Spawn %d: Wait error %v, want a *hub.PanicError", i, err)
			}
		}
		for range 3 {
			if err := p.SpawnN(func() { panic("spawn_n boom") }); err != nil {
				return err
			}
		}
		if err := p.WaitAll(); err != nil {
			return err
		}
		if p.Running() != 0 || p.Free() != 1 {
			t.Errorf("after panics: Running %d Free %d, want 0 and 1", p.Running(), p.Free())
		}
		th, err := greenpool.Spawn(p, func() (string, error) { return "still works", nil })
		if err != nil {
			return err
		}
		if v, err := th.Wait(); v != "still works" || err != nil {
			t.Errorf("after panics: %q, %v", v, err)
		}
		return nil
	}, hubtest.Virtual(), hub.WithPanicHandler(func(_ *hub.G, err error) { reported = append(reported, err) }))
	if len(reported) != 3 {
		t.Errorf("%d failures reported, want the 3 SpawnN panics: %v", len(reported), reported)
	}
	for _, err := range reported {
		var pe *hub.PanicError
		if !errors.As(err, &pe) || pe.Value != "spawn_n boom" {
			t.Errorf("reported %v, want the SpawnN panic", err)
		}
	}
}

func TestWaitAll(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		sleep []time.Duration
		want  time.Duration // virtual time when WaitAll returns
	}{
		{name: "empty pool", size: 3, want: 0},
		{name: "parallel", size: 3, sleep: []time.Duration{3, 1, 2}, want: 3},
		{name: "queued", size: 2, sleep: []time.Duration{3, 1, 2, 2}, want: 5}, // the last starts at 3s
		{name: "serial", size: 1, sleep: []time.Duration{1, 2, 3}, want: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				p := greenpool.New(h, tc.size)
				done := 0
				start := h.Now()
				for _, d := range tc.sleep {
					if err := p.SpawnN(func() {
						greenthread.Sleep(h, d*time.Second)
						done++
					}); err != nil {
						return err
					}
				}
				if err := p.WaitAll(); err != nil {
					return err
				}
				if done != len(tc.sleep) || p.Running() != 0 {
					t.Errorf("WaitAll returned with %d of %d done, Running %d", done, len(tc.sleep), p.Running())
				}
				if got := h.Now() - start; got != tc.want*time.Second {
					t.Errorf("WaitAll returned after %v, want %v", got, tc.want*time.Second)
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

func TestWaitAllFromMember(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		th, err := greenpool.Spawn(p, func() (struct{}, error) { return struct{}{}, p.WaitAll() })
		if err != nil {
			return err
		}
		if _, err := th.Wait(); !errors.Is(err, greenpool.ErrWaitInPool) {
			t.Errorf("WaitAll from a member: %v, want ErrWaitInPool", err)
		}
		return nil
	}, hubtest.Virtual())
}

func TestKill(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 3)
		gate := &latch{h: h}
		var unwound []int
		var threads []*greenthread.Thread[int]
		for i := range 3 {
			th, err := greenpool.Spawn(p, func() (int, error) {
				defer func() { unwound = append(unwound, i) }()
				gate.wait()
				return i, nil
			})
			if err != nil {
				return err
			}
			threads = append(threads, th)
		}
		settle(h) // the three are parked on the gate
		// A spawner blocked on the full pool is not killed: it gets a slot.
		later := greenthread.Spawn(h, func() (int, error) {
			th, err := greenpool.Spawn(p, func() (int, error) { return 42, nil })
			if err != nil {
				return 0, err
			}
			return th.Wait()
		})
		settle(h)
		if p.Waiting() != 1 {
			t.Errorf("Waiting() = %d before Kill, want 1", p.Waiting())
		}
		if err := p.Kill(); err != nil {
			return err
		}
		for i, th := range threads {
			if !th.Dead() {
				t.Errorf("task %d alive after Kill", i)
			}
			if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
				t.Errorf("task %d: %v, want ErrKilled", i, err)
			}
		}
		if len(unwound) != 3 {
			t.Errorf("deferred calls ran for %v, want all three", unwound)
		}
		if v, err := later.Wait(); v != 42 || err != nil {
			t.Errorf("spawner blocked during Kill: %d, %v; want 42", v, err)
		}
		if err := p.WaitAll(); err != nil {
			return err
		}
		if p.Running() != 0 || p.Waiting() != 0 {
			t.Errorf("after Kill: Running %d Waiting %d", p.Running(), p.Waiting())
		}
		return nil
	}, hubtest.Virtual())
}

func TestKillBeforeStart(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		ran := false
		th, err := greenpool.Spawn(p, func() (int, error) { ran = true; return 1, nil })
		if err != nil {
			return err
		}
		if err := p.Kill(); err != nil { // th has not started yet
			return err
		}
		settle(h)
		if ran {
			t.Error("a task killed before it started ran")
		}
		if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
			t.Errorf("Wait: %v, want ErrKilled", err)
		}
		if p.Running() != 0 {
			t.Errorf("Running() = %d, want 0", p.Running())
		}
		return nil
	}, hubtest.Virtual())
}

func TestKillFromMemberSparesCaller(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 3)
		gate := &latch{h: h}
		for range 2 {
			if err := p.SpawnN(func() { gate.wait() }); err != nil {
				return err
			}
		}
		th, err := greenpool.Spawn(p, func() (int, error) {
			if err := p.Kill(); err != nil {
				return 0, err
			}
			return p.Running(), nil
		})
		if err != nil {
			return err
		}
		if n, err := th.Wait(); n != 1 || err != nil {
			t.Errorf("member after Kill: Running %d, %v; want 1 (itself)", n, err)
		}
		return p.WaitAll()
	}, hubtest.Virtual())
}

// A task that spawns into its own full pool runs the new task on its own
// slot instead of deadlocking (eventlet runs it inline).
func TestSpawnFromMemberIntoFullPool(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		th, err := greenpool.Spawn(p, func() (int, error) {
			inner, err := greenpool.Spawn(p, func() (int, error) {
				greenthread.Sleep(h, time.Millisecond)
				return 2, nil
			})
			if err != nil {
				return 0, err
			}
			if !inner.Dead() {
				return 0, errors.New("inner task not finished when Spawn returned")
			}
			v, err := inner.Wait()
			if err != nil {
				return 0, err
			}
			if err := p.SpawnN(func() { v++ }); err != nil {
				return 0, err
			}
			return v + 1, nil
		})
		if err != nil {
			return err
		}
		if v, err := th.Wait(); v != 4 || err != nil {
			t.Errorf("nested spawns: %d, %v; want 4", v, err)
		}
		if p.Running() != 0 {
			t.Errorf("Running() = %d, want 0", p.Running())
		}
		return nil
	}, hubtest.Virtual())
}

func TestOutside(t *testing.T) {
	h := hub.New()
	p := greenpool.New(h, 1)
	if err := p.SpawnN(func() {}); !errors.Is(err, hub.ErrNotStarted) {
		t.Errorf("SpawnN before Run: %v, want ErrNotStarted", err)
	}
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		errs := make(chan error, 5)
		go func() { // another goroutine: the hub thread is blocked meanwhile
			errs <- p.SpawnN(func() {})
			_, err := greenpool.Spawn(p, func() (int, error) { return 0, nil })
			errs <- err
			errs <- p.WaitAll()
			errs <- p.Resize(3)
			errs <- p.Kill()
		}()
		for range 5 {
			if err := <-errs; !errors.Is(err, hub.ErrOutside) || !strings.HasPrefix(err.Error(), "greenpool: ") {
				t.Errorf("call from another goroutine: %v, want greenpool: …ErrOutside", err)
			}
		}
		if p.Size() != 1 || p.Running() != 0 {
			t.Errorf("pool touched by outside calls: Size %d Running %d", p.Size(), p.Running())
		}
		return nil
	}, hubtest.Virtual())
}

func TestFromHubCallback(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		var errs []error
		ran := 0
		done := &latch{h: h}
		h.Raw().AfterFunc(time.Millisecond, func() {
			errs = append(errs, p.SpawnN(func() { ran++ })) // a free slot: fine
			errs = append(errs, p.SpawnN(func() { ran++ })) // full: cannot wait
			errs = append(errs, p.WaitAll())                // busy: cannot wait
			for _, err := range greenpool.Imap(p, func(int) (int, error) { return 0, nil }, func(func(int) bool) {}) {
				errs = append(errs, err)
			}
			done.release()
		})
		done.wait()
		want := []error{nil, hub.ErrNotGreen, hub.ErrNotGreen, hub.ErrNotGreen}
		if len(errs) != len(want) {
			t.Errorf("errors %v, want %v", errs, want)
			return nil
		}
		for i := range want {
			if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
				t.Errorf("call %d from a hub callback: %v, want %v", i, errs[i], want[i])
			}
		}
		if err := p.WaitAll(); err != nil {
			return err
		}
		if ran != 1 {
			t.Errorf("%d tasks ran, want 1", ran)
		}
		return nil
	}, hubtest.Virtual())
}

// When the hub ends with tasks blocked and spawners waiting, everything
// unwinds and Run returns (goleak checks that nothing is left).
func TestHubShutdownWithBusyPool(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		gate := &latch{h: h}
		for range 5 {
			greenthread.SpawnN(h, func() { p.SpawnN(func() { gate.wait() }) })
		}
		settle(h)
		if p.Running() != 2 || p.Waiting() != 3 {
			t.Errorf("Running %d Waiting %d, want 2 and 3", p.Running(), p.Waiting())
		}
		return nil
	}, hubtest.Virtual())
}

// Spawns made while the hub shuts down (from the deferred calls of green
// threads being unwound) fail with hub.ErrStopped and take no slot.
func TestSpawnDuringShutdown(t *testing.T) {
	var p *greenpool.Pool
	var errN, errT error
	hubtest.Main(t, func(h *hub.Hub) error {
		p = greenpool.New(h, 2)
		gate := &latch{h: h}
		greenthread.SpawnN(h, func() {
			defer func() {
				errN = p.SpawnN(func() {})
				_, errT = greenpool.Spawn(p, func() (int, error) { return 0, nil })
			}()
			gate.wait()
		})
		settle(h)
		return nil // the hub kills the green thread on the gate
	}, hubtest.Virtual())
	if !errors.Is(errN, hub.ErrStopped) || !errors.Is(errT, hub.ErrStopped) {
		t.Errorf("spawns during shutdown: %v, %v; want ErrStopped", errN, errT)
	}
	if p.Running() != 0 {
		t.Errorf("Running() = %d after failed spawns", p.Running())
	}
}

// A member lending its slot to a nested spawn stops waiting when
// interrupted, and the nested task is killed, as an inline call would be.
func TestLendInterrupted(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		innerEnded := false
		outer, err := greenpool.Spawn(p, func() (int, error) {
			_, err := greenpool.Spawn(p, func() (int, error) {
				defer func() { innerEnded = true }()
				greenthread.Sleep(h, time.Hour)
				return 1, nil
			})
			return 0, err
		})
		if err != nil {
			return err
		}
		greenthread.Sleep(h, time.Second)
		h.Raw().Interrupt(outer.G(), errInterrupt)
		if _, err := outer.Wait(); err != errInterrupt {
			t.Errorf("interrupted nested spawn: %v, want the interruption", err)
		}
		if !innerEnded || p.Running() != 0 {
			t.Errorf("nested task ended %v, Running %d; want true, 0", innerEnded, p.Running())
		}
		if h.Now() >= time.Hour {
			t.Errorf("the nested task was waited for")
		}
		return nil
	}, hubtest.Virtual())
}
