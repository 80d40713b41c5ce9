package greenthread_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Spawn is eventlet's spawn: the function runs in a green thread and Wait
// returns its result.
func ExampleSpawn() {
	h := hub.New()
	h.Run(func() error {
		square := func(n int) func() (int, error) {
			return func() (int, error) { return n * n, nil }
		}
		a := greenthread.Spawn(h, square(3))
		b := greenthread.Spawn(h, square(4))
		x, _ := a.Wait()
		y, _ := b.Wait()
		fmt.Println(x + y)
		return nil
	})
	// Output: 25
}

// SpawnN is eventlet's spawn_n: no result object, cheaper. Green threads
// run in the order they were spawned.
func ExampleSpawnN() {
	h := hub.New()
	h.Run(func() error {
		for i := 1; i <= 3; i++ {
			greenthread.SpawnN(h, func() { fmt.Println("spawn_n", i) })
		}
		greenthread.Yield(h) // eventlet's sleep(0): let them run
		fmt.Println("main")
		return nil
	})
	// Output:
	// spawn_n 1
	// spawn_n 2
	// spawn_n 3
	// main
}

// SpawnAfter is eventlet's spawn_after; Cancel before its time means the
// function never runs.
func ExampleSpawnAfter() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		late := greenthread.SpawnAfter(h, 2*time.Second, func() (string, error) {
			return fmt.Sprint("ran at ", h.Now()), nil
		})
		never := greenthread.SpawnAfter(h, time.Second, func() (string, error) {
			fmt.Println("never printed")
			return "", nil
		})
		never.Cancel()
		fmt.Println(late.Wait())
		_, err := never.Wait()
		fmt.Println("cancelled:", errors.Is(err, greenthread.ErrKilled))
		return nil
	})
	// Output:
	// ran at 2s <nil>
	// cancelled: true
}

// The classic greenlet program: test1 prints 12 and switches to test2,
// which prints 56 and switches back; test1 prints 34 and ends, so control
// returns to its parent. 78 is never printed.
func ExampleGreenlet() {
	h := hub.New()
	h.Run(func() error {
		var gr1, gr2 greenthread.Greenlet
		gr1, _ = greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(12)
			gr2.Switch(nil)
			fmt.Println(34)
			return nil, nil
		}, greenthread.Greenlet{})
		gr2, _ = greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Println(56)
			gr1.Switch(nil)
			fmt.Println(78)
			return nil, nil
		}, greenthread.Greenlet{})
		_, err := gr1.Switch(nil)
		return err
	})
	// Output:
	// 12
	// 56
	// 34
}

// Kill unwinds a green thread from where it blocks: its deferred calls
// run and Wait reports ErrKilled (eventlet's GreenletExit).
func ExampleThread_Kill() {
	h := hub.New()
	h.Run(func() error {
		sleeper := greenthread.Spawn(h, func() (int, error) {
			defer fmt.Println("sleeper unwinds")
			greenthread.Sleep(h, time.Hour)
			fmt.Println("never printed")
			return 0, nil
		})
		greenthread.Yield(h) // let it start sleeping
		sleeper.Kill()
		_, err := sleeper.Wait()
		fmt.Println("killed:", errors.Is(err, greenthread.ErrKilled))
		return nil
	})
	// Output:
	// sleeper unwinds
	// killed: true
}

// Link calls a function when the green thread ends, however it ends.
func ExampleThread_Link() {
	h := hub.New()
	h.Run(func() error {
		th := greenthread.Spawn(h, func() (string, error) { return "done", nil })
		th.Link(func(th *greenthread.Thread[string]) {
			v, err := th.Wait()
			fmt.Println("linked:", v, err)
		})
		id := th.Link(func(*greenthread.Thread[string]) { fmt.Println("never printed") })
		th.Unlink(id)
		th.Wait()
		fmt.Println("main goes on")
		return nil
	})
	// Output:
	// linked: done <nil>
	// main goes on
}
