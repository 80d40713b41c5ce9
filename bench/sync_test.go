package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// runHub runs body as the main green thread of a fresh hub and fails b on
// error.
func runHub(b *testing.B, body func(h *hub.Hub) error) {
	b.Helper()
	h := hub.New()
	if err := h.Run(func() error { return body(h) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQueuePingPong: two green threads exchange an item through two
// rendezvous Queues; one op is one item there and back. Baseline:
// BenchmarkRawChanPingPong, the same exchange between goroutines.
func BenchmarkQueuePingPong(b *testing.B) {
	b.ReportAllocs()
	runHub(b, func(h *hub.Hub) error {
		ping := greensync.NewQueue[int](h, 0)
		pong := greensync.NewQueue[int](h, 0)
		greenthread.SpawnN(h, func() {
			for {
				v, err := ping.Get()
				if err != nil || v < 0 {
					return
				}
				pong.Put(v)
			}
		})
		greenthread.Yield(h)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := ping.Put(i); err != nil {
				return err
			}
			if _, err := pong.Get(); err != nil {
				return err
			}
		}
		b.StopTimer()
		return ping.Put(-1)
	})
}

// BenchmarkRawChanPingPong is the baseline of the hand-off benchmarks
// (QueuePingPong, EventSendWait, SemaphoreAcquireRelease/contended,
// MutexLockUnlock/contended), to be read in the same run: two goroutines
// over two unbuffered channels, one op one value there and back — two
// blocking hand-offs, as each of those ops is.
func BenchmarkRawChanPingPong(b *testing.B) {
	b.ReportAllocs()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	b.StopTimer()
	close(ping)
	<-pong
}

// BenchmarkEventSendWait: a green thread waits on an Event that another
// sends, then Resets it and acknowledges on a second Event; one op is two
// sends, two wakes and two resets. Baseline: BenchmarkRawChanPingPong.
func BenchmarkEventSendWait(b *testing.B) {
	b.ReportAllocs()
	runHub(b, func(h *hub.Hub) error {
		ev := greensync.NewEvent[int](h)
		ack := greensync.NewEvent[int](h)
		greenthread.SpawnN(h, func() {
			for {
				v, err := ev.Wait()
				if err != nil || v < 0 {
					return
				}
				ev.Reset()
				ack.Send(v)
			}
		})
		greenthread.Yield(h)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ev.Send(i)
			ack.Wait()
			ack.Reset()
		}
		b.StopTimer()
		return ev.Send(-1)
	})
}

// BenchmarkSemaphoreAcquireRelease: two green threads contend for a
// one-permit Semaphore, holding it across a yield, so every Acquire parks
// and every Release hands the permit over; one op is one acquire-release
// pair. The uncontended sub-benchmark measures the fast path. Baseline of
// the contended case: BenchmarkRawChanPingPong.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		b.ReportAllocs()
		runHub(b, func(h *hub.Hub) error {
			s := greensync.NewSemaphore(h, 1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Acquire(); err != nil {
					return err
				}
				s.Release()
			}
			return nil
		})
	})
	b.Run("contended", func(b *testing.B) {
		b.ReportAllocs()
		runHub(b, func(h *hub.Hub) error {
			s := greensync.NewSemaphore(h, 1)
			n := b.N
			worker := func() {
				for ; n > 0; n-- {
					s.Acquire()
					greenthread.Yield(h)
					s.Release()
				}
			}
			b.ResetTimer()
			greenthread.SpawnN(h, worker)
			worker()
			s.Acquire() // the other one is done when it cannot hold it
			return nil
		})
	})
}

// BenchmarkMutexLockUnlock: as BenchmarkSemaphoreAcquireRelease, for a
// greensync.Mutex. Contended: two green threads hand the lock back and
// forth, holding it across a yield, so every Lock parks and every Unlock
// hands the lock over; one op is one Lock-Unlock pair. Baseline of the
// contended case: BenchmarkRawChanPingPong.
func BenchmarkMutexLockUnlock(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		b.ReportAllocs()
		runHub(b, func(h *hub.Hub) error {
			m := greensync.NewMutex(h)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Lock()
				m.Unlock()
			}
			return nil
		})
	})
	b.Run("contended", func(b *testing.B) {
		b.ReportAllocs()
		runHub(b, func(h *hub.Hub) error {
			m := greensync.NewMutex(h)
			n := b.N
			worker := func() {
				for ; n > 0; n-- {
					m.Lock()
					greenthread.Yield(h)
					m.Unlock()
				}
			}
			b.ResetTimer()
			greenthread.SpawnN(h, worker)
			worker()
			m.Lock() // the other one is done when it cannot hold it
			return nil
		})
	})
}

// BenchmarkCallFromGoroutine: a plain goroutine runs a function in a green
// thread with greensync.Call and waits for its result; one op is one Call.
// Baseline: BenchmarkRawGoSpawnJoin (a goroutine started and waited for),
// the cost of handing work to another goroutine and back.
func BenchmarkCallFromGoroutine(b *testing.B) {
	b.ReportAllocs()
	h := hub.New()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.Run(func() error { return greensync.WaitContext(h, ctx) })
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := greensync.Call(h, func() (int, error) { return i, nil })
		if err != nil || v != i {
			b.Fatalf("Call = %d, %v; want %d", v, err, i)
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
}
