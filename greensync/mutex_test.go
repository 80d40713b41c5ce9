package greensync_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

var (
	_ sync.Locker = (*greensync.Mutex)(nil)
	_ sync.Locker = (*greensync.RWMutex)(nil)
)

// lockAsync spawns a green thread that calls lock (which takes a lock and
// may release it) and then appends name to order: order is the order in
// which the green threads got the lock.
func lockAsync(h *hub.Hub, lock func(), order *[]string, name string) *greenthread.Thread[int] {
	return greenthread.Spawn(h, func() (int, error) {
		lock()
		*order = append(*order, name)
		return 0, nil
	})
}

func TestMutex(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T, h *hub.Hub)
	}{
		{"lock, unlock, try lock", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			if !m.Locked() || m.TryLock() {
				t.Fatal("locked mutex: Locked false or TryLock succeeded")
			}
			m.Unlock()
			if m.Locked() || !m.TryLock() {
				t.Fatal("unlocked mutex: Locked true or TryLock failed")
			}
			m.Unlock()
		}},
		{"waiters served in FIFO order, newcomers wait", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			var order []string
			for _, name := range []string{"a", "b", "c", "d"} {
				lockAsync(h, func() { m.Lock(); defer m.Unlock(); greenthread.Yield(h) }, &order, name)
			}
			greenthread.Yield(h)
			if m.Waiting() != 4 {
				t.Fatalf("Waiting %d, want 4", m.Waiting())
			}
			m.Unlock()
			if m.TryLock() {
				t.Fatal("a newcomer's TryLock overtook the waiters")
			}
			late := lockAsync(h, func() { m.Lock(); m.Unlock() }, &order, "late")
			late.Wait()
			if got := strings.Join(order, " "); got != "a b c d late" {
				t.Fatalf("order %q", got)
			}
			if m.Locked() || m.Waiting() != 0 {
				t.Fatalf("Locked %v Waiting %d at the end", m.Locked(), m.Waiting())
			}
		}},
		{"lock handed to a killed waiter goes on", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			var order []string
			a := lockAsync(h, m.Lock, &order, "a")
			b := lockAsync(h, m.Lock, &order, "b")
			greenthread.Yield(h)
			m.Unlock() // to a, which has not run yet
			a.Kill()
			b.Wait()
			if len(order) != 1 || order[0] != "b" || !m.Locked() || m.Waiting() != 0 {
				t.Fatalf("order %v Locked %v Waiting %d", order, m.Locked(), m.Waiting())
			}
			m.Unlock()
		}},
		{"lock handed to a killed waiter with no one behind is freed", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			a := greenthread.Spawn(h, func() (int, error) { m.Lock(); return 0, nil })
			greenthread.Yield(h)
			m.Unlock()
			a.Kill()
			if m.Locked() {
				t.Fatal("the lock died with its killed waiter")
			}
		}},
		{"LockErr gives up at a Timeout", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			start := h.Now()
			tmo, _ := greensync.StartTimeout(h, 5*ms)
			err := m.LockErr()
			tmo.Cancel()
			if err != tmo || h.Now()-start != 5*ms {
				t.Fatalf("LockErr = %v after %v, want the Timeout at 5ms", err, h.Now()-start)
			}
			if m.Waiting() != 0 || !m.Locked() {
				t.Fatalf("Waiting %d Locked %v after the timeout", m.Waiting(), m.Locked())
			}
			m.Unlock()
			if m.Locked() {
				t.Fatal("Unlock after a timed-out waiter left the mutex locked")
			}
		}},
		{"Lock waits out a Timeout and raises it after", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			m.Lock()
			h.Raw().AfterFunc(10*ms, m.Unlock)
			start := h.Now()
			tmo, _ := greensync.StartTimeout(h, 5*ms)
			defer tmo.Cancel()
			m.Lock()
			if d := h.Now() - start; d != 10*ms {
				t.Fatalf("Lock returned after %v, want 10ms when the holder unlocked", d)
			}
			if err := greenthread.Sleep(h, time.Hour); err != tmo {
				t.Fatalf("the Timeout that fired during Lock was lost: Sleep = %v", err)
			}
			m.Unlock()
		}},
		{"misuse panics", func(t *testing.T, h *hub.Hub) {
			m := greensync.NewMutex(h)
			err := hubtest.Catch(func() error { m.Unlock(); return nil })
			if err == nil || !strings.Contains(err.Error(), "greensync: unlock of unlocked mutex") {
				t.Fatalf("Unlock of unlocked = %v", err)
			}
			var inCallback error
			h.Raw().AfterFunc(0, func() {
				inCallback = hubtest.Catch(func() error { m.Lock(); return nil })
			})
			greenthread.Sleep(h, ms)
			if !errors.Is(inCallback, hub.ErrNotGreen) {
				t.Fatalf("Lock in a hub callback = %v, want a panic with ErrNotGreen", inCallback)
			}
			if err := m.LockErr(); err != nil {
				t.Fatal(err)
			}
			m.Unlock()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error { tt.body(t, h); return nil }, hubtest.Virtual())
		})
	}
}

func TestMutexOffHub(t *testing.T) {
	h := hub.New()
	m := greensync.NewMutex(h)
	hubtest.MustRun(t, h, func() error {
		res := make(chan error)
		go func() {
			res <- hubtest.Catch(func() error { m.Lock(); return nil })
		}()
		err, _, _ := greensync.Recv(h, res)
		if !errors.Is(err, hub.ErrOutside) {
			t.Errorf("Lock from a goroutine = %v, want a panic with ErrOutside", err)
		}
		return nil
	})
	if err := m.LockErr(); !errors.Is(err, hub.ErrStopped) {
		t.Fatalf("LockErr after Run = %v", err)
	}
}

func TestRWMutex(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T, h *hub.Hub)
	}{
		{"readers share, a writer excludes", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			rw.RLock()
			if !rw.TryRLock() || rw.TryLock() {
				t.Fatal("second reader refused or writer let in")
			}
			rw.RUnlock()
			rw.RUnlock()
			rw.Lock()
			if rw.TryRLock() || rw.TryLock() {
				t.Fatal("reader or writer let in beside a writer")
			}
			rw.Unlock()
			if !rw.TryLock() {
				t.Fatal("TryLock on a free RWMutex failed")
			}
			rw.Unlock()
		}},
		{"a waiting writer blocks new readers", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			rw.RLock()
			var order []string
			w := lockAsync(h, func() { rw.Lock(); defer rw.Unlock(); greenthread.Yield(h) }, &order, "w")
			greenthread.Yield(h)
			if rw.TryRLock() {
				t.Fatal("a new reader overtook the waiting writer")
			}
			r := lockAsync(h, func() { rw.RLock(); defer rw.RUnlock() }, &order, "r")
			greenthread.Yield(h)
			if len(order) != 0 {
				t.Fatalf("order %v while the first reader holds", order)
			}
			rw.RUnlock()
			w.Wait()
			r.Wait()
			if got := strings.Join(order, " "); got != "w r" {
				t.Fatalf("order %q", got)
			}
		}},
		{"a writer's unlock lets every waiting reader in before the next writer", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			rw.Lock()
			var order []string
			hold := func(lock, unlock func()) func() {
				return func() { lock(); defer unlock(); greenthread.Sleep(h, ms) }
			}
			ths := []*greenthread.Thread[int]{
				lockAsync(h, hold(rw.Lock, rw.Unlock), &order, "w2"),
				lockAsync(h, hold(rw.RLock, rw.RUnlock), &order, "r1"),
				lockAsync(h, hold(rw.RLock, rw.RUnlock), &order, "r2"),
				lockAsync(h, hold(rw.Lock, rw.Unlock), &order, "w3"),
			}
			greenthread.Yield(h)
			rw.Unlock()
			for _, th := range ths {
				th.Wait()
			}
			if got := strings.Join(order, " "); got != "r1 r2 w2 w3" {
				t.Fatalf("order %q", got)
			}
		}},
		{"a writer that times out lets the readers behind it in", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			rw.RLock()
			var werr error
			greenthread.SpawnN(h, func() {
				_, werr = greensync.WithTimeout(h, 5*ms, func() (int, error) { return 0, rw.LockErr() })
			})
			greenthread.Yield(h)
			start := h.Now()
			if err := rw.RLockErr(); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(werr, greensync.ErrTimeout) || h.Now()-start != 5*ms {
				t.Fatalf("writer %v; reader let in after %v, want 5ms", werr, h.Now()-start)
			}
			rw.RUnlock()
			rw.RUnlock()
			if !rw.TryLock() {
				t.Fatal("not free at the end")
			}
			rw.Unlock()
		}},
		{"grants to killed waiters go on", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			rw.Lock()
			var order []string
			w2 := lockAsync(h, rw.Lock, &order, "w2")
			greenthread.Yield(h)
			r := lockAsync(h, rw.RLock, &order, "r")
			greenthread.Yield(h)
			rw.Unlock() // readers first: r is handed a read lock
			r.Kill()    // and gives it back, which lets w2 in
			w2.Wait()
			if len(order) != 1 || order[0] != "w2" {
				t.Fatalf("order %v", order)
			}
			w3 := lockAsync(h, rw.Lock, &order, "w3")
			greenthread.Yield(h)
			rw.Unlock() // w2's lock, to w3
			w3.Kill()
			if !rw.TryLock() {
				t.Fatal("the write lock died with its killed waiter")
			}
			rw.Unlock()
		}},
		{"RLocker and misuse", func(t *testing.T, h *hub.Hub) {
			rw := greensync.NewRWMutex(h)
			l := rw.RLocker()
			l.Lock()
			if !rw.TryRLock() || rw.TryLock() {
				t.Fatal("RLocker's Lock is not a read lock")
			}
			rw.RUnlock()
			l.Unlock()
			for name, f := range map[string]func(){"Unlock": rw.Unlock, "RUnlock": rw.RUnlock} {
				if err := hubtest.Catch(func() error { f(); return nil }); err == nil || !strings.Contains(err.Error(), "unlocked RWMutex") {
					t.Errorf("%s of unlocked = %v", name, err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error { tt.body(t, h); return nil }, hubtest.Virtual())
		})
	}
}

// TestMutexKillStorm: many green threads contend for a Mutex and an
// RWMutex while a storm of kills hits them at every point of their waits
// and critical sections. Nothing may be lost: at the end both locks are
// free with no waiter, mutual exclusion always held, and every survivor
// finished.
func TestMutexKillStorm(t *testing.T) {
	const workers, rounds = 64, 20
	hubtest.Main(t, func(h *hub.Hub) error {
		m := greensync.NewMutex(h)
		rw := greensync.NewRWMutex(h)
		holders, readers, writers := 0, 0, 0
		var ths []*greenthread.Thread[int]
		for i := range workers {
			ths = append(ths, greenthread.Spawn(h, func() (int, error) {
				for j := range rounds {
					func() {
						m.Lock()
						defer m.Unlock()
						holders++
						defer func() { holders-- }()
						if holders != 1 {
							t.Errorf("%d holders of a Mutex", holders)
						}
						greenthread.Sleep(h, time.Duration((i+j)%3)*ms)
					}()
					if (i+j)%4 == 0 {
						func() {
							rw.Lock()
							defer rw.Unlock()
							writers++
							defer func() { writers-- }()
							if writers != 1 || readers != 0 {
								t.Errorf("writer beside %d writers, %d readers", writers-1, readers)
							}
							greenthread.Yield(h)
						}()
					} else {
						func() {
							rw.RLock()
							defer rw.RUnlock()
							readers++
							defer func() { readers-- }()
							if writers != 0 {
								t.Errorf("reader beside a writer")
							}
							greenthread.Sleep(h, time.Duration(j%2)*ms)
						}()
					}
				}
				return 0, nil
			}))
		}
		// The storm: every third worker killed, at staggered instants.
		for i := 0; i < workers; i += 3 {
			greenthread.Sleep(h, time.Duration(i%5)*ms/2)
			ths[i].Kill()
		}
		for i, th := range ths {
			if _, err := th.Wait(); err != nil && !(i%3 == 0 && errors.Is(err, hub.ErrKilled)) {
				t.Errorf("worker %d: %v", i, err)
			}
		}
		rwFree := rw.TryLock()
		if m.Locked() || m.Waiting() != 0 || !rwFree {
			t.Errorf("after the storm: Mutex locked %v waiting %d; RWMutex free %v", m.Locked(), m.Waiting(), rwFree)
		}
		return nil
	}, hubtest.Virtual())
}

// A Mutex guards state that is changed across blocking calls, where a
// sync.Mutex would stop the hub.
func ExampleMutex() {
	h := hub.New()
	h.Run(func() error {
		m := greensync.NewMutex(h)
		var log []string
		write := func(name string) {
			m.Lock()
			defer m.Unlock()
			log = append(log, name+" in")
			greenthread.Sleep(h, time.Millisecond) // parks while holding m
			log = append(log, name+" out")
		}
		a := greenthread.Spawn(h, func() (int, error) { write("a"); return 0, nil })
		b := greenthread.Spawn(h, func() (int, error) { write("b"); return 0, nil })
		a.Wait()
		b.Wait()
		fmt.Println(strings.Join(log, ", "))
		return nil
	})
	// Output: a in, a out, b in, b out
}

// Readers share an RWMutex; a writer waits for them and has it alone.
func ExampleRWMutex() {
	h := hub.New()
	h.Run(func() error {
		rw := greensync.NewRWMutex(h)
		var log []string
		reader := func(name string) (int, error) {
			rw.RLock()
			defer rw.RUnlock()
			log = append(log, name+" reads")
			return 0, greenthread.Sleep(h, time.Millisecond)
		}
		r1 := greenthread.Spawn(h, func() (int, error) { return reader("r1") })
		r2 := greenthread.Spawn(h, func() (int, error) { return reader("r2") })
		greenthread.Yield(h)
		rw.Lock()
		log = append(log, "w writes")
		rw.Unlock()
		r1.Wait()
		r2.Wait()
		fmt.Println(strings.Join(log, ", "))
		return nil
	})
	// Output: r1 reads, r2 reads, w writes
}
