package bench

import (
	"fmt"
	"sync"
	"testing"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/hub"
)

var poolSizes = []int{1, 100}

// BenchmarkPoolSpawn spawns tasks that return at once into a greenpool.Pool
// with SpawnN and waits for them all: one op is one task, through the whole
// cycle of taking a slot (blocking while the pool is full), starting the
// green thread, ending it and handing the slot on. Compare with
// BenchmarkRawPoolSpawn.
func BenchmarkPoolSpawn(b *testing.B) {
	for _, size := range poolSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			h := hub.New()
			err := h.Run(func() error {
				p := greenpool.New(h, size)
				task := func() {}
				b.ResetTimer()
				for range b.N {
					if err := p.SpawnN(task); err != nil {
						return err
					}
				}
				err := p.WaitAll()
				b.StopTimer()
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkPoolSpawnThread is BenchmarkPoolSpawn with greenpool.Spawn,
// which returns a *greenthread.Thread for the result.
func BenchmarkPoolSpawnThread(b *testing.B) {
	for _, size := range poolSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			h := hub.New()
			err := h.Run(func() error {
				p := greenpool.New(h, size)
				task := func() (int, error) { return 1, nil }
				b.ResetTimer()
				for range b.N {
					if _, err := greenpool.Spawn(p, task); err != nil {
						return err
					}
				}
				err := p.WaitAll()
				b.StopTimer()
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRawPoolSpawn is the baseline of BenchmarkPoolSpawn: a goroutine
// per task, bounded by a channel semaphore of the same size, GOMAXPROCS
// unchanged.
func BenchmarkRawPoolSpawn(b *testing.B) {
	for _, size := range poolSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			sem := make(chan struct{}, size)
			var wg sync.WaitGroup
			task := func() {}
			b.ResetTimer()
			for range b.N {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					task()
				}()
			}
			wg.Wait()
		})
	}
}
