package greensync_test

import (
	"fmt"
	"os"
	"syscall"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// A server's main green thread waits for SIGTERM while other green threads
// work; here the program sends itself the signal.
func ExampleNotifySignal() {
	h := hub.New()
	err := h.Run(func() error {
		sigs, err := greensync.NotifySignal(h, syscall.SIGTERM, syscall.SIGHUP)
		if err != nil {
			return err
		}
		defer sigs.Stop()
		greenthread.SpawnN(h, func() {
			fmt.Println("working")
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		})
		for {
			sig, err := sigs.Wait()
			if err != nil {
				return err
			}
			fmt.Println("got", sig)
			if sig == syscall.SIGTERM {
				return nil
			}
		}
	})
	fmt.Println("run:", err)
	// Output:
	// working
	// got terminated
	// run: <nil>
}
