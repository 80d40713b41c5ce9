// Command spawn shows eventlet's ways of starting green threads — spawn,
// spawn_n and spawn_after — and sleep, on one hub. The output is the same
// on every run: the ready queue is FIFO and timers with equal deadlines
// fire in the order they were set.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

func main() {
	h := hub.New()
	err := h.Run(func() error {
		// spawn: a green thread with a result to wait for.
		square := greenthread.Spawn(h, func() (int, error) {
			greenthread.Sleep(h, 20*time.Millisecond)
			return 7 * 7, nil
		})

		// spawn_n: fire and forget, cheaper. They run in spawn order.
		for i := 1; i <= 3; i++ {
			greenthread.SpawnN(h, func() {
				fmt.Printf("spawn_n %d runs\n", i)
			})
		}

		// spawn_after: starts later; a cancelled one never runs.
		late := greenthread.SpawnAfter(h, 10*time.Millisecond, func() (string, error) {
			fmt.Println("spawn_after fired")
			return "late", nil
		})
		never := greenthread.SpawnAfter(h, 10*time.Millisecond, func() (string, error) {
			fmt.Println("this never prints")
			return "", nil
		})
		never.Cancel()

		// sleep(0): let the spawn_n threads run first.
		greenthread.Yield(h)
		fmt.Println("main sleeps")

		v, err := late.Wait()
		fmt.Println("spawn_after returned", v, err)
		n, err := square.Wait()
		fmt.Println("spawn returned", n, err)
		_, err = never.Wait()
		fmt.Println("cancelled thread:", err)
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		os.Exit(1)
	}
}
