package hub_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// 100,000 green threads are spawned and all finish: when each runs to its
// end the coroutines are reused; when all are alive at once (each yields
// once first) each has its own.
func TestManyGreenThreads(t *testing.T) {
	alive := 100_000
	if raceEnabled {
		alive = 20_000 // a coroutine costs several times more under -race
	}
	tests := []struct {
		name    string
		n       int
		yield   bool
		maxCoro uint64
	}{
		{name: "run to end", n: 100_000, maxCoro: 300},
		{name: "all alive at once", n: alive, yield: true, maxCoro: uint64(alive) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			ran, exited := 0, 0
			mustRun(t, h, func() error {
				gr := newGroup(h)
				for range tt.n {
					if _, err := gr.spawn(func() error {
						if tt.yield {
							if err := h.Raw().Yield(); err != nil {
								return err
							}
						}
						ran++
						return nil
					}, func(g *hub.G) {
						if g.Err() == nil {
							exited++
						}
					}); err != nil {
						return err
					}
				}
				return gr.wait()
			})
			if ran != tt.n || exited != tt.n {
				t.Errorf("%d ran, %d exited cleanly; want %d", ran, exited, tt.n)
			}
			st := h.Stats()
			if st.Spawned != uint64(tt.n)+1 {
				t.Errorf("Stats.Spawned = %d, want %d", st.Spawned, tt.n+1)
			}
			if st.Coroutines > tt.maxCoro {
				t.Errorf("Stats.Coroutines = %d, want at most %d", st.Coroutines, tt.maxCoro)
			}
		})
	}
}

// Submit from 8 goroutines × 10,000 calls: every function runs exactly
// once, on the hub's thread.
func TestSubmitFromManyGoroutines(t *testing.T) {
	const goroutines, calls = 8, 10_000
	h := hub.New()
	seen := make([]int, goroutines*calls)
	count := 0
	var wg sync.WaitGroup
	var hubTid, wrongThread int
	mustRun(t, h, func() error {
		hubTid = gettid()
		main := h.Raw().Current()
		for gid := range goroutines {
			wg.Add(1)
			unref := h.Ref() // this goroutine will submit: not a deadlock
			go func() {
				defer wg.Done()
				defer unref()
				for i := range calls {
					if err := h.Submit(func() {
						if gettid() != hubTid {
							wrongThread++
						}
						seen[gid*calls+i]++
						count++
						if count == goroutines*calls {
							h.Raw().Ready(main, nil)
						}
					}); err != nil {
						t.Errorf("Submit: %v", err)
						return
					}
				}
			}()
		}
		for count < goroutines*calls {
			if err := h.Raw().Park(hub.Block("submits")); err != nil {
				return err
			}
		}
		return nil
	})
	wg.Wait()
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("submitted function %d ran %d times", i, n)
		}
	}
	if wrongThread != 0 {
		t.Errorf("%d submitted functions ran off the hub's thread", wrongThread)
	}
}

// Offload under load: 1,000 green threads each hand a short blocking call
// to 8 workers; every result comes back to the right green thread, and no
// more than 8 calls run at once.
func TestOffloadUnderLoad(t *testing.T) {
	const n, workers = 1000, 8
	h := hub.New(hub.WithOffloadWorkers(workers))
	results := make([]int, n)
	var running, peak atomic.Int32
	mustRun(t, h, func() error {
		gr := newGroup(h)
		for i := range n {
			gr.spawn(func() error {
				var v int
				err := h.Offload(func() {
					r := running.Add(1)
					defer running.Add(-1)
					for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
					}
					time.Sleep(20 * time.Microsecond) // the blocking call
					v = i * i
				})
				results[i] = v
				return err
			}, func(g *hub.G) {
				if g.Err() != nil {
					t.Errorf("green thread: %v", g.Err())
				}
			})
		}
		return gr.wait()
	})
	for i, v := range results {
		if v != i*i {
			t.Fatalf("result %d = %d, want %d", i, v, i*i)
		}
	}
	if p := peak.Load(); p > workers || p < 1 {
		t.Errorf("%d offloaded calls ran at once, want 1..%d", p, workers)
	}
}

// An offloaded panic comes back as a *PanicError; a green thread killed
// while its call runs unwinds at once, and Run waits for the call.
func TestOffloadPanicAndKill(t *testing.T) {
	h := hub.New()
	release := make(chan struct{})
	var finished atomic.Bool
	mustRun(t, h, func() error {
		err := h.Offload(func() { panic("offloaded boom") })
		var pe *hub.PanicError
		if !errors.As(err, &pe) || pe.Value != "offloaded boom" {
			t.Errorf("Offload of a panic = %v, want *PanicError", err)
		}

		started := make(chan struct{})
		gr := newGroup(h)
		victim, _ := gr.spawn(func() error {
			return h.Offload(func() {
				close(started)
				<-release
				finished.Store(true)
			})
		}, nil)
		if err := h.Offload(func() { <-started }); err != nil {
			return err
		}
		if err := h.Raw().Kill(victim); err != nil {
			return err
		}
		if err := gr.wait(); err != nil {
			return err
		}
		if !errors.Is(victim.Err(), hub.ErrKilled) {
			t.Errorf("victim: %v, want ErrKilled", victim.Err())
		}
		if finished.Load() {
			t.Errorf("the offloaded call finished before its green thread was unwound")
		}
		close(release) // Run must wait for the call before it returns
		return nil
	})
	if !finished.Load() {
		t.Errorf("Run returned before the offloaded call finished")
	}
}

// Calls offloaded at the same moment each get a worker, up to the bound:
// here four calls meet at a barrier, which only works if all four run at
// once. Regression: an idle worker that had been signalled but not yet
// woken was counted again by the next Offload, so calls queued behind a
// busy worker while the pool was below its bound.
func TestOffloadConcurrentCallsGetWorkers(t *testing.T) {
	const n = 4
	h := hub.New(hub.WithOffloadWorkers(n))
	mustRun(t, h, func() error {
		if err := h.Offload(func() {}); err != nil { // leave an idle worker behind
			return err
		}
		var barrier sync.WaitGroup
		barrier.Add(n)
		gr := newGroup(h)
		for range n {
			gr.spawn(func() error {
				return h.Offload(func() { barrier.Done(); barrier.Wait() })
			}, nil)
		}
		return gr.wait()
	})
}
