package greensync_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// eventlet's Event example: one green thread sends, many wait.
func ExampleEvent() {
	h := hub.New()
	h.Run(func() error {
		evt := greensync.NewEvent[string](h)
		waiter := func(name string) func() (string, error) {
			return func() (string, error) {
				v, err := evt.Wait()
				return name + " got " + v, err
			}
		}
		a := greenthread.Spawn(h, waiter("a"))
		b := greenthread.Spawn(h, waiter("b"))
		greenthread.Yield(h)
		evt.Send("hello")
		fmt.Println(a.Wait())
		fmt.Println(b.Wait())
		fmt.Println(evt.Send("again"))
		return nil
	})
	// Output:
	// a got hello <nil>
	// b got hello <nil>
	// greensync: event already sent
}

// A Semaphore bounds how many green threads are inside at once.
func ExampleSemaphore() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		sem := greensync.NewSemaphore(h, 2)
		inside, most := 0, 0
		var ths []*greenthread.Thread[int]
		for i := range 5 {
			ths = append(ths, greenthread.Spawn(h, func() (int, error) {
				if err := sem.Acquire(); err != nil {
					return 0, err
				}
				defer sem.Release()
				inside++
				most = max(most, inside)
				greenthread.Sleep(h, 10*time.Millisecond)
				inside--
				return i, nil
			}))
		}
		for _, th := range ths {
			th.Wait()
		}
		fmt.Println("at most", most, "inside; elapsed", h.Now())
		return nil
	})
	// Output: at most 2 inside; elapsed 30ms
}

// eventlet's BoundedSemaphore refuses to be released too often.
func ExampleBoundedSemaphore() {
	h := hub.New()
	h.Run(func() error {
		sem := greensync.NewBoundedSemaphore(h, 1)
		fmt.Println(sem.Release())
		return nil
	})
	// Output: greensync: semaphore released too many times
}

// A producer and a consumer with a bounded Queue, TaskDone and Join.
func ExampleQueue() {
	h := hub.New()
	h.Run(func() error {
		q := greensync.NewQueue[string](h, 2)
		greenthread.SpawnN(h, func() {
			for {
				item, err := q.Get()
				if err != nil {
					return
				}
				fmt.Println("working on", item)
				q.TaskDone()
			}
		})
		for _, item := range []string{"a", "b", "c"} {
			q.Put(item)
		}
		q.Join()
		fmt.Println("all work done")
		return nil
	})
	// Output:
	// working on a
	// working on b
	// working on c
	// all work done
}

// Queue(0) is a rendezvous: Put returns once a getter has the item.
func ExampleNewQueue_rendezvous() {
	h := hub.New()
	h.Run(func() error {
		q := greensync.NewQueue[int](h, 0)
		greenthread.SpawnN(h, func() {
			fmt.Println("putting")
			q.Put(1)
			fmt.Println("put done")
		})
		greenthread.Yield(h)
		fmt.Println("getting")
		v, _ := q.Get()
		fmt.Println("got", v)
		greenthread.Yield(h)
		return nil
	})
	// Output:
	// putting
	// getting
	// got 1
	// put done
}

func ExamplePriorityQueue() {
	h := hub.New()
	h.Run(func() error {
		q := greensync.NewPriorityQueue(h, greensync.Unbounded, func(a, b int) bool { return a < b })
		for _, v := range []int{5, 1, 3} {
			q.Put(v)
		}
		for !q.Empty() {
			v, _ := q.Get()
			fmt.Print(v, " ")
		}
		fmt.Println()
		return nil
	})
	// Output: 1 3 5
}

func ExampleLifoQueue() {
	h := hub.New()
	h.Run(func() error {
		q := greensync.NewLifoQueue[string](h, greensync.Unbounded)
		for _, v := range []string{"a", "b", "c"} {
			q.Put(v)
		}
		for !q.Empty() {
			v, _ := q.Get()
			fmt.Print(v, " ")
		}
		fmt.Println()
		return nil
	})
	// Output: c b a
}

// eventlet's Timeout: the blocking call returns the Timeout that fired.
func ExampleTimeout() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		t, _ := greensync.StartTimeout(h, 50*time.Millisecond)
		defer t.Cancel()
		err := greenthread.Sleep(h, time.Hour)
		fmt.Println(err == t, errors.Is(err, greensync.ErrTimeout), h.Now())
		return nil
	})
	// Output: true true 50ms
}

// eventlet's with_timeout.
func ExampleWithTimeout() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		q := greensync.NewQueue[int](h, 1)
		_, err := greensync.WithTimeout(h, time.Second, q.Get)
		fmt.Println(err)
		return nil
	})
	// Output: greensync: timeout after 1s
}

// A goroutine calls into the hub and gets the result back.
func ExampleCall() {
	h := hub.New()
	res := make(chan int)
	go func() {
		v, _ := greensync.Call(h, func() (int, error) {
			greenthread.Sleep(h, time.Millisecond) // green code may block
			return 6 * 7, nil
		})
		res <- v
	}()
	h.Run(func() error {
		v, _, err := greensync.Recv(h, res) // without blocking the hub
		fmt.Println(v)
		return err
	})
	// Output: 42
}
