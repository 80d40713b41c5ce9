package greensync_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// The model tests drive a Queue and a Semaphore with random interleavings
// of producers, consumers, timeouts and kills, on a virtual clock (so a
// seed always gives the same run), and check the outcome against what a
// correct queue or semaphore allows: nothing lost, nothing duplicated, FIFO
// among waiters.

const (
	withKills    = 1 << 0
	withTimeouts = 1 << 1
)

type queueModel struct {
	attempted map[int]bool // put was called
	confirmed map[int]bool // Put returned nil
	refused   map[int]bool // Put returned a timeout: must never come out
	received  []int        // Get results, in the order they returned
	tickets   []ticketed   // Get results by arrival order of the getter
}

type ticketed struct{ ticket, item int }

func checkQueueModel(t *testing.T, seed uint64, flags uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kills, timeouts := flags&withKills != 0, flags&withTimeouts != 0
	maxsize := []int{0, 1, 2, 5, greensync.Unbounded}[rng.IntN(5)]
	nprod, ncons := 1+rng.IntN(3), 1+rng.IntN(3)
	perProd := 5 + rng.IntN(20)
	m := queueModel{attempted: map[int]bool{}, confirmed: map[int]bool{}, refused: map[int]bool{}}
	pause := func(h *hub.Hub) {
		switch rng.IntN(3) {
		case 0:
			greenthread.Yield(h)
		case 1:
			greenthread.Sleep(h, time.Duration(rng.IntN(4))*ms)
		}
	}
	var drained []int
	hubtest.Main(t, func(h *hub.Hub) error {
		q := greensync.NewQueue[int](h, maxsize)
		var prods, cons []*greenthread.Thread[int]
		for p := range nprod {
			prods = append(prods, greenthread.Spawn(h, func() (int, error) {
				for i := range perProd {
					item := p*1000 + i
					m.attempted[item] = true
					var err error
					if timeouts && rng.IntN(3) == 0 {
						err = q.PutTimeout(item, time.Duration(rng.IntN(5))*ms)
					} else {
						err = q.Put(item)
					}
					switch {
					case err == nil:
						m.confirmed[item] = true
					case errors.Is(err, greensync.ErrTimeout):
						m.refused[item] = true
					default:
						return 0, err
					}
					pause(h)
				}
				return 0, nil
			}))
		}
		ticket := 0
		for range ncons {
			cons = append(cons, greenthread.Spawn(h, func() (int, error) {
				for {
					ticket++
					my := ticket
					var v int
					var err error
					if timeouts && rng.IntN(3) == 0 {
						v, err = q.GetTimeout(time.Duration(rng.IntN(5)) * ms)
					} else {
						v, err = q.Get()
					}
					if errors.Is(err, greensync.ErrTimeout) {
						continue
					}
					if err != nil {
						return 0, err
					}
					m.received = append(m.received, v)
					m.tickets = append(m.tickets, ticketed{my, v})
					pause(h)
				}
			}))
		}
		if kills {
			greenthread.SpawnN(h, func() {
				for range 3 + rng.IntN(5) {
					greenthread.Sleep(h, time.Duration(rng.IntN(6))*ms)
					all := append(slices.Clone(prods), cons...)
					all[rng.IntN(len(all))].Kill()
				}
			})
		}

		greensync.WithTimeout(h, 10*time.Second, func() (int, error) {
			for _, p := range prods {
				if _, err := p.Wait(); err != nil && !errors.Is(err, hub.ErrKilled) {
					if errors.Is(err, greensync.ErrTimeout) {
						return 0, err
					}
					t.Errorf("producer: %v", err)
				}
			}
			return 0, nil
		})
		for _, p := range prods {
			p.Kill()
		}
		greenthread.Sleep(h, time.Second)
		for _, c := range cons {
			c.Kill()
		}
		if q.Getting() != 0 || q.Putting() != 0 {
			t.Errorf("Getting %d Putting %d after everyone left", q.Getting(), q.Putting())
		}
		drained = drain[int](q)
		return nil
	}, hubtest.Virtual())

	seen := map[int]bool{}
	for _, v := range append(slices.Clone(m.received), drained...) {
		switch {
		case seen[v]:
			t.Fatalf("seed %d flags %d: item %d duplicated", seed, flags, v)
		case !m.attempted[v]:
			t.Fatalf("seed %d flags %d: item %d never put", seed, flags, v)
		case m.refused[v]:
			t.Fatalf("seed %d flags %d: item %d came out though its Put timed out", seed, flags, v)
		}
		seen[v] = true
	}
	for v := range m.confirmed {
		if !seen[v] {
			t.Fatalf("seed %d flags %d: item %d lost (maxsize %d)", seed, flags, v, maxsize)
		}
	}
	if kills {
		return // a killed getter's item goes on to another: order may change
	}
	// FIFO: taken in getter-arrival order, each producer's items come out
	// in the order it put them.
	slices.SortFunc(m.tickets, func(a, b ticketed) int { return a.ticket - b.ticket })
	last := map[int]int{}
	for _, tk := range m.tickets {
		p, i := tk.item/1000, tk.item%1000
		if prev, ok := last[p]; ok && i < prev {
			t.Fatalf("seed %d flags %d: producer %d's item %d came out after %d", seed, flags, p, i, prev)
		}
		last[p] = i
	}
}

func checkSemaphoreModel(t *testing.T, seed uint64, flags uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	kills, timeouts := flags&withKills != 0, flags&withTimeouts != 0
	permits, workers, rounds := 1+rng.IntN(3), 2+rng.IntN(4), 3+rng.IntN(10)
	hubtest.Main(t, func(h *hub.Hub) error {
		s := greensync.NewBoundedSemaphore(h, permits)
		holders, maxHolders, grants := 0, 0, 0
		var ths []*greenthread.Thread[int]
		for range workers {
			ths = append(ths, greenthread.Spawn(h, func() (int, error) {
				for range rounds {
					var err error
					if timeouts && rng.IntN(3) == 0 {
						err = s.AcquireTimeout(time.Duration(rng.IntN(4)) * ms)
					} else {
						err = s.Acquire()
					}
					if errors.Is(err, greensync.ErrTimeout) {
						continue
					}
					if err != nil {
						return 0, err
					}
					grants++
					func() {
						holders++
						maxHolders = max(maxHolders, holders)
						defer func() {
							holders--
							if err := s.Release(); err != nil {
								t.Errorf("Release: %v", err)
							}
						}()
						greenthread.Sleep(h, time.Duration(rng.IntN(4))*ms)
					}()
					if rng.IntN(2) == 0 {
						greenthread.Yield(h)
					}
				}
				return 0, nil
			}))
		}
		if kills {
			greenthread.SpawnN(h, func() {
				for range 2 + rng.IntN(4) {
					greenthread.Sleep(h, time.Duration(rng.IntN(5))*ms)
					ths[rng.IntN(len(ths))].Kill()
				}
			})
		}
		for _, th := range ths {
			if _, err := th.Wait(); err != nil && !errors.Is(err, hub.ErrKilled) {
				t.Errorf("worker: %v", err)
			}
		}
		greenthread.Sleep(h, time.Second)
		if maxHolders > permits {
			t.Fatalf("seed %d flags %d: %d holders of %d permits", seed, flags, maxHolders, permits)
		}
		if s.Counter() != permits || s.Waiting() != 0 {
			t.Fatalf("seed %d flags %d: Counter %d of %d, Waiting %d: a permit was lost", seed, flags, s.Counter(), permits, s.Waiting())
		}
		if !kills && !timeouts && grants != workers*rounds {
			t.Fatalf("seed %d: %d grants, want %d", seed, grants, workers*rounds)
		}
		return nil
	}, hubtest.Virtual())

}

func TestQueueModel(t *testing.T) {
	n := uint64(300)
	if testing.Short() {
		n = 30
	}
	for flags := uint8(0); flags < 4; flags++ {
		for seed := range n {
			checkQueueModel(t, seed, flags)
		}
	}
}

func TestSemaphoreModel(t *testing.T) {
	n := uint64(300)
	if testing.Short() {
		n = 30
	}
	for flags := uint8(0); flags < 4; flags++ {
		for seed := range n {
			checkSemaphoreModel(t, seed, flags)
		}
	}
}

func FuzzQueueModel(f *testing.F) {
	f.Add(uint64(1), uint8(3))
	f.Add(uint64(7), uint8(1))
	f.Fuzz(func(t *testing.T, seed uint64, flags uint8) { checkQueueModel(t, seed, flags&3) })
}

func FuzzSemaphoreModel(f *testing.F) {
	f.Add(uint64(1), uint8(3))
	f.Add(uint64(7), uint8(2))
	f.Fuzz(func(t *testing.T, seed uint64, flags uint8) { checkSemaphoreModel(t, seed, flags&3) })
}

// lockModel is the reference a Mutex or RWMutex is checked against: the
// tickets green threads draw when they ask for the lock, and what the
// rules allow. Writers (every Mutex locker) get the lock in ticket order:
// FIFO, no newcomer overtakes a waiter. Readers and writers never hold it
// together, writers one at a time. A reader that asks while a writer holds
// or waits gets in only after some writer has unlocked (unless that writer
// gave up: timeouts, kills). When a writer unlocks, every reader waiting
// then gets in before the next writer.
type lockModel struct {
	ticket, lastWriter       int
	readers, writers         int
	waitingWriters, wUnlocks int
	waitingReaders           int
	readGrants               int
	owed, readGrantsAtUnlock int // readers waiting at the last writer unlock
	grants, failed           int
}

func checkLockModel(t *testing.T, seed uint64, flags uint8, rwMode bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	kills, timeouts := flags&withKills != 0, flags&withTimeouts != 0
	workers, rounds := 2+rng.IntN(6), 3+rng.IntN(10)
	var m lockModel
	fail := func(format string, a ...any) {
		t.Helper()
		t.Errorf("seed %d flags %d rw %v: %s", seed, flags, rwMode, fmt.Sprintf(format, a...))
	}
	hubtest.Main(t, func(h *hub.Hub) error {
		mu := greensync.NewMutex(h)
		rw := greensync.NewRWMutex(h)
		hold := func() {
			switch rng.IntN(3) {
			case 0:
				greenthread.Yield(h)
			case 1:
				greenthread.Sleep(h, time.Duration(rng.IntN(3))*ms)
			}
		}
		// write takes the lock for writing (Mutex: the only way), holds it
		// across hold and unlocks. It reports whether it got the lock.
		write := func() bool {
			m.ticket++
			my := m.ticket
			try := rng.IntN(5) == 0
			var err error
			switch {
			case try && rwMode:
				if !rw.TryLock() {
					return false
				}
			case try:
				if !mu.TryLock() {
					return false
				}
			default:
				m.waitingWriters++
				done := false
				defer func() {
					if !done {
						m.waitingWriters-- // killed while waiting
					}
				}()
				lock, lockErr := mu.Lock, mu.LockErr
				if rwMode {
					lock, lockErr = rw.Lock, rw.LockErr
				}
				if timeouts && rng.IntN(3) == 0 {
					_, err = greensync.WithTimeout(h, time.Duration(rng.IntN(4))*ms, func() (int, error) { return 0, lockErr() })
				} else {
					lock()
				}
				done = true
				m.waitingWriters--
				if err != nil {
					m.failed++
					return false
				}
			}
			if !kills && !timeouts && m.readGrants-m.readGrantsAtUnlock < m.owed {
				fail("a writer got in before the %d readers waiting at the last writer's unlock", m.owed)
			}
			if my < m.lastWriter {
				fail("writer ticket %d got the lock after ticket %d: not FIFO", my, m.lastWriter)
			}
			m.lastWriter = my
			m.grants++
			m.writers++
			defer func() {
				m.writers--
				m.wUnlocks++
				m.owed, m.readGrantsAtUnlock = m.waitingReaders, m.readGrants
				if rwMode {
					rw.Unlock()
				} else {
					mu.Unlock()
				}
			}()
			if m.writers != 1 || m.readers != 0 {
				fail("writer beside %d writers and %d readers", m.writers-1, m.readers)
			}
			hold()
			return true
		}
		read := func() bool {
			m.ticket++
			blocked, u0 := m.writers > 0 || m.waitingWriters > 0, m.wUnlocks
			if rng.IntN(5) == 0 {
				if !rw.TryRLock() {
					return false
				}
				if blocked && !kills && !timeouts {
					fail("TryRLock let a reader in beside a holding or waiting writer")
				}
			} else if timeouts && rng.IntN(3) == 0 {
				_, err := greensync.WithTimeout(h, time.Duration(rng.IntN(4))*ms, func() (int, error) { return 0, rw.RLockErr() })
				if err != nil {
					m.failed++
					return false
				}
			} else {
				m.waitingReaders++
				rw.RLock()
				m.waitingReaders--
			}
			if blocked && m.wUnlocks == u0 && !kills && !timeouts {
				fail("a reader that came while a writer held or waited got in before any writer unlocked")
			}
			m.grants++
			m.readGrants++
			m.readers++
			defer func() {
				m.readers--
				rw.RUnlock()
			}()
			if m.writers != 0 {
				fail("reader beside a writer")
			}
			hold()
			return true
		}
		var ths []*greenthread.Thread[int]
		for range workers {
			ths = append(ths, greenthread.Spawn(h, func() (int, error) {
				for range rounds {
					if rwMode && rng.IntN(3) != 0 {
						read()
					} else {
						write()
					}
					if rng.IntN(2) == 0 {
						greenthread.Yield(h)
					}
				}
				return 0, nil
			}))
		}
		if kills {
			greenthread.SpawnN(h, func() {
				for range 2 + rng.IntN(4) {
					greenthread.Sleep(h, time.Duration(rng.IntN(5))*ms)
					ths[rng.IntN(len(ths))].Kill()
				}
			})
		}
		for _, th := range ths {
			if _, err := th.Wait(); err != nil && !errors.Is(err, hub.ErrKilled) {
				fail("worker: %v", err)
			}
		}
		greenthread.Sleep(h, time.Second) // the killer is done
		if mu.Locked() || mu.Waiting() != 0 {
			fail("Mutex locked %v, %d waiting at the end: a lock was lost", mu.Locked(), mu.Waiting())
		}
		if !rw.TryLock() {
			fail("RWMutex not free at the end: a lock was lost")
		} else {
			rw.Unlock()
		}
		return nil
	}, hubtest.Virtual())
}

func TestMutexModel(t *testing.T) {
	n := uint64(200)
	if testing.Short() {
		n = 20
	}
	for _, rwMode := range []bool{false, true} {
		for flags := uint8(0); flags < 4; flags++ {
			for seed := range n {
				checkLockModel(t, seed, flags, rwMode)
			}
		}
	}
}

func FuzzMutexModel(f *testing.F) {
	f.Add(uint64(1), uint8(3), false)
	f.Add(uint64(7), uint8(3), true)
	f.Fuzz(func(t *testing.T, seed uint64, flags uint8, rwMode bool) { checkLockModel(t, seed, flags&3, rwMode) })
}
