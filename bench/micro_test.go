package bench

import (
	"container/heap"
	"iter"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// The Raw benchmarks are the baselines: what the Go runtime gives for the
// same work with nothing of greenhub's around it. Read every greenhub figure
// as a ratio to its baseline from the same run.

// BenchmarkRawPullRoundTrip: one next() into an iter.Pull coroutine and one
// yield back, on a locked goroutine as the hub runs them. Two coroutine
// switches per op.
func BenchmarkRawPullRoundTrip(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		next()
	}
}

// BenchmarkRawPullCreateRunStop: create a coroutine, run it to completion,
// stop it: the raw cost of a short-lived green thread.
func BenchmarkRawPullCreateRunStop(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sum := 0
	b.ReportAllocs()
	for i := range b.N {
		next, stop := iter.Pull(func(yield func(int) bool) { sum += i })
		next()
		stop()
	}
}

// BenchmarkRawGoSpawnJoin: start a goroutine and wait for it.
func BenchmarkRawGoSpawnJoin(b *testing.B) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	for range b.N {
		wg.Add(1)
		go wg.Done()
		wg.Wait()
	}
}

type rawTimer struct {
	when time.Duration
	seq  uint64
	idx  int
}

type rawHeap []*rawTimer

func (h rawHeap) Len() int { return len(h) }
func (h rawHeap) Less(i, j int) bool {
	return h[i].when < h[j].when || (h[i].when == h[j].when && h[i].seq < h[j].seq)
}
func (h rawHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *rawHeap) Push(x any)   { t := x.(*rawTimer); t.idx = len(*h); *h = append(*h, t) }
func (h *rawHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

const heapSize = 10_000

// deadlines is a fixed pseudo-random sequence shared by both heap
// benchmarks so they do the same work.
func deadlines() []time.Duration {
	d := make([]time.Duration, 1<<16)
	x := uint64(88172645463325252)
	for i := range d {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		d[i] = time.Duration(x % (1 << 30))
	}
	return d
}

// BenchmarkRawContainerHeap: push one timer and pop the earliest, at a
// steady size of 10,000, with container/heap and the same (when, seq)
// order.
func BenchmarkRawContainerHeap(b *testing.B) {
	ds := deadlines()
	h := make(rawHeap, 0, heapSize+1)
	pool := make([]*rawTimer, heapSize+1)
	for i := range pool {
		pool[i] = &rawTimer{}
	}
	var seq uint64
	for i := range heapSize {
		seq++
		t := pool[i]
		t.when, t.seq = ds[i], seq
		heap.Push(&h, t)
	}
	free := pool[heapSize]
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		seq++
		free.when, free.seq = ds[i&(len(ds)-1)]+time.Duration(i), seq
		heap.Push(&h, free)
		free = heap.Pop(&h).(*rawTimer)
	}
}

// BenchmarkTimerPushPop: the same work on timers.Heap, the hub's heap.
func BenchmarkTimerPushPop(b *testing.B) {
	ds := deadlines()
	var h timers.Heap
	pool := make([]timers.Timer, heapSize+1)
	for i := range heapSize {
		h.Schedule(&pool[i], ds[i])
	}
	free := &pool[heapSize]
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Schedule(free, ds[i&(len(ds)-1)]+time.Duration(i))
		free = h.Pop()
	}
}

// run runs body as the main green thread of a fresh hub and fails the
// benchmark on error.
func run(b *testing.B, body func(h *hub.Hub) error, opts ...hub.Option) {
	b.Helper()
	h := hub.New(opts...)
	if err := h.Run(func() error { return body(h) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkYieldPingPong: two green threads take turns with Yield. One op
// is one switch from one to the other (through the hub loop: two coroutine
// switches, like RawPullRoundTrip).
func BenchmarkYieldPingPong(b *testing.B) {
	run(b, func(h *hub.Hub) error { return yieldPingPong(b, h) })
}

// yieldPingPong is BenchmarkYieldPingPong's body: b.N switches between two
// green threads that take turns with Yield, timed.
func yieldPingPong(b *testing.B, h *hub.Hub) error {
	half := b.N / 2
	other := greenthread.Spawn(h, func() (struct{}, error) {
		for range half {
			h.Raw().Yield()
		}
		return struct{}{}, nil
	})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N - half {
		h.Raw().Yield()
	}
	_, err := other.Wait()
	b.StopTimer()
	return err
}

// BenchmarkSwitchRoundTrip: a greenlet-level Switch into a greenlet and
// its Switch back. One op is the round trip.
func BenchmarkSwitchRoundTrip(b *testing.B) {
	run(b, func(h *hub.Hub) error {
		main := greenthread.Current(h)
		peer, err := greenthread.NewGreenlet(h, func(any) (any, error) {
			for {
				if _, err := main.Switch(nil); err != nil {
					return nil, err
				}
			}
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := peer.Switch(nil); err != nil {
				return err
			}
		}
		b.StopTimer()
		peer.Throw(nil)
		return nil
	})
}

// BenchmarkSpawnWait: spawn a green thread and wait for its result.
func BenchmarkSpawnWait(b *testing.B) {
	run(b, func(h *hub.Hub) error {
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			t := greenthread.Spawn(h, func() (int, error) { return i, nil })
			if _, err := t.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkSpawnN: spawn_n in batches of 1,000, letting each batch run.
// Baseline: BenchmarkRawPullCreateRunStop (a coroutine made, run, ended).
func BenchmarkSpawnN(b *testing.B) {
	run(b, func(h *hub.Hub) error {
		done := 0
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; {
			for j := 0; j < 1000 && i < b.N; j, i = j+1, i+1 {
				if err := greenthread.SpawnN(h, func() { done++ }); err != nil {
					return err
				}
			}
			h.Raw().Yield()
		}
		for done < b.N {
			h.Raw().Yield()
		}
		return nil
	})
}

// BenchmarkSleep0: one green thread calling Yield with nothing else to run
// and no file descriptor registered: the periodic poll is skipped, so the
// op is a switch to the loop and back with no system call. Baseline:
// BenchmarkRawPullRoundTrip.
func BenchmarkSleep0(b *testing.B) {
	run(b, func(h *hub.Hub) error {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			h.Raw().Yield()
		}
		b.StopTimer()
		if s := h.Stats(); s.Polls != 0 {
			b.Fatalf("%d poll system calls for %d yields, want 0", s.Polls, b.N)
		}
		return nil
	})
}

// parked is how many coroutines the memory benchmarks park.
const parked = 10_000

func memInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkRawParkedMemory reports the memory of an iter.Pull coroutine
// parked in yield (stack, goroutine and closures), as B/parked.
func BenchmarkRawParkedMemory(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var perCoro float64
	for range b.N {
		before := memInUse()
		stops := make([]func(), parked)
		for i := range stops {
			next, stop := iter.Pull(func(yield func(struct{}) bool) { yield(struct{}{}) })
			next()
			stops[i] = stop
		}
		perCoro = float64(memInUse()-before) / parked
		for _, stop := range stops {
			stop()
		}
	}
	b.ReportMetric(perCoro, "B/parked")
}

// BenchmarkParkedMemory reports the memory of a green thread parked in
// Sleep: its coroutine plus the hub's record of it, as B/parked.
func BenchmarkParkedMemory(b *testing.B) {
	var perThread float64
	for range b.N {
		run(b, func(h *hub.Hub) error {
			before := memInUse()
			for range parked {
				greenthread.SpawnN(h, func() { h.Raw().Sleep(time.Hour) })
			}
			h.Raw().Yield() // they all run and park
			perThread = float64(memInUse()-before) / parked
			return nil
		}, hub.WithCoroutinePool(0))
	}
	b.ReportMetric(perThread, "B/parked")
}
