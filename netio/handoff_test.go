package netio_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/netio"
)

// TestAcceptTo deals connections accepted on hub 0 out to the hubs of a
// group in turn: each connection is served on its target's thread, the
// answer names the hub that served it, and the counts come out even.
func TestAcceptTo(t *testing.T) {
	const hubs, conns = 3, 30
	g := hub.NewGroup(hubs)
	tids := make([]int, hubs)
	var served [hubs]atomic.Int32
	addr := make(chan string, 1)
	finished := make(chan struct{})
	clientErr := make(chan error, 1)
	go func() {
		defer close(finished)
		a := <-addr
		for k := range conns {
			c, err := net.DialTimeout("tcp", a, 5*time.Second)
			if err != nil {
				clientErr <- err
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "hello %d\n", k)
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if want := fmt.Sprintf("hub %d: hello %d\n", k%hubs, k); err != nil || line != want {
				clientErr <- fmt.Errorf("conn %d: got %q, %v; want %q", k, line, err, want)
				return
			}
		}
		clientErr <- nil
	}()
	err := g.Run(func(h *hub.Hub, i int) error {
		tids[i] = hubtest.Gettid()
		if i != 0 {
			_, _, err := greensync.Recv(h, (<-chan struct{})(finished))
			return err
		}
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		addr <- l.Addr().String()
		// A failing client must not leave the accept loop waiting.
		greenthread.SpawnN(h, func() {
			greensync.Recv(h, (<-chan struct{})(finished))
			l.Close()
		})
		for range conns {
			target := g.Next()
			idx := 0
			for j := range hubs {
				if g.Hub(j) == target {
					idx = j
				}
			}
			err := l.AcceptTo(target, func(c *netio.Conn) {
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil || hubtest.Gettid() != tids[idx] {
					return
				}
				served[idx].Add(1)
				fmt.Fprintf(c, "hub %d: %s", idx, line)
			})
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		_, _, err = greensync.Recv(h, (<-chan struct{})(finished))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-clientErr; err != nil {
		t.Fatal(err)
	}
	for i := range served {
		if n := served[i].Load(); n != conns/hubs {
			t.Fatalf("hub %d served %d connections, want %d", i, n, conns/hubs)
		}
	}
}
