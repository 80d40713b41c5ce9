package greenpool_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// A pool of two runs four tasks, two at a time; WaitAll waits for the last
// (eventlet's pool.spawn_n … pool.waitall()). The virtual clock makes the
// times exact.
func ExamplePool() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		pool := greenpool.New(h, 2)
		for i := 1; i <= 4; i++ {
			pool.SpawnN(func() { // blocks while two tasks run
				greenthread.Sleep(h, time.Duration(i)*time.Second)
				fmt.Printf("task %d done at %v\n", i, h.Now())
			})
		}
		pool.WaitAll()
		fmt.Println("all done at", h.Now())
		return nil
	})
	// Output:
	// task 1 done at 1s
	// task 2 done at 2s
	// task 3 done at 4s
	// task 4 done at 6s
	// all done at 6s
}

// Spawn returns a Thread to Wait on for the task's result (eventlet's
// GreenPool.spawn returning a GreenThread).
func ExampleSpawn() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		pool := greenpool.New(h, 10)
		t, err := greenpool.Spawn(pool, func() (string, error) {
			greenthread.Sleep(h, time.Second)
			return "hello from the pool", nil
		})
		if err != nil {
			return err
		}
		fmt.Println(t.Wait())
		return nil
	})
	// Output:
	// hello from the pool <nil>
}

// The web crawler of eventlet's documentation, with a fake fetch: the
// bodies arrive out of order, Imap yields them in the order of the URLs,
// with at most three fetches under way.
func ExampleImap() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		urls := []string{
			"https://www.google.com/intl/en_ALL/images/logo.gif",
			"http://python.org/images/python-logo.gif",
			"http://us.i1.yimg.com/us.yimg.com/i/ww/beta/y3.gif",
			"http://example.org/",
		}
		fetch := func(url string) (int, error) {
			greenthread.Sleep(h, time.Duration(100-len(url))*time.Millisecond)
			return len(url) * 100, nil // the body's length
		}
		pool := greenpool.New(h, 3)
		for n, err := range greenpool.Imap(pool, fetch, slices.Values(urls)) {
			fmt.Println("got body", n, err)
		}
		return nil
	})
	// Output:
	// got body 5000 <nil>
	// got body 4000 <nil>
	// got body 5000 <nil>
	// got body 1900 <nil>
}

// Starmap takes the arguments from the pairs of an iter.Seq2.
func ExampleStarmap() {
	h := hub.New()
	h.Run(func() error {
		pool := greenpool.New(h, 4)
		pow := func(base, exp int) (int, error) {
			r := 1
			for range exp {
				r *= base
			}
			return r, nil
		}
		args := func(yield func(int, int) bool) {
			_ = yield(2, 10) && yield(3, 3) && yield(10, 2)
		}
		for v, err := range greenpool.Starmap(pool, pow, args) {
			fmt.Println(v, err)
		}
		return nil
	})
	// Output:
	// 1024 <nil>
	// 27 <nil>
	// 100 <nil>
}

// A Pile collects results in spawn order (eventlet's GreenPile): here the
// workers finish in reverse.
func ExamplePile() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		pool := greenpool.New(h, 100)
		pile := greenpool.NewPile[string](pool)
		for i := range 4 {
			pile.Spawn(func() (string, error) {
				greenthread.Sleep(h, time.Duration(4-i)*time.Second)
				return fmt.Sprintf("worker %d, finished at %v", i, h.Now()), nil
			})
		}
		for result, err := range pile.All() {
			fmt.Println(result, err)
		}
		return nil
	})
	// Output:
	// worker 0, finished at 4s <nil>
	// worker 1, finished at 3s <nil>
	// worker 2, finished at 2s <nil>
	// worker 3, finished at 1s <nil>
}

// Kill stops every task of a pool at once, for shutting down: the tasks
// unwind, their deferred calls running.
func ExamplePool_Kill() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		pool := greenpool.New(h, 3)
		for i := range 3 {
			pool.SpawnN(func() {
				defer fmt.Println("worker", i, "unwound")
				greenthread.Sleep(h, time.Hour)
				fmt.Println("not reached")
			})
		}
		greenthread.Sleep(h, time.Second)
		fmt.Println("running:", pool.Running())
		pool.Kill()
		fmt.Println("running:", pool.Running())
		return nil
	})
	// Output:
	// running: 3
	// worker 0 unwound
	// worker 1 unwound
	// worker 2 unwound
	// running: 0
}
