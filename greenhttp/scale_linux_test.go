//go:build linux

package greenhttp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/hub"
)

// raiseFDLimit raises the soft RLIMIT_NOFILE to at least n for the test, or
// skips it when the hard limit is lower.
func raiseFDLimit(t *testing.T, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("needs %d file descriptors; the hard RLIMIT_NOFILE is %d", n, lim.Max)
	}
	old := lim
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// Test5000Conns: 5,000 keep-alive connections open at once, each served a
// request, then a second one on every connection.
func Test5000Conns(t *testing.T) {
	const conns = 5000
	raiseFDLimit(t, 2*conns+1000)
	h := hub.New()
	s, _ := serveOn(t, h, &Server{Pool: greenpool.New(h, conns+100), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	})})
	deadline := time.Now().Add(60 * time.Second)

	// A few goroutines open the connections (a goroutine per connection
	// would exceed the race detector's goroutine limit with the server's).
	const workers = 16
	open := make([][]net.Conn, workers)
	readers := make([][]*bufio.Reader, workers)
	t.Cleanup(func() {
		for _, cs := range open {
			for _, c := range cs {
				c.Close()
			}
		}
	})
	request := func(c net.Conn, br *bufio.Reader, path string) error {
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != path || resp.Close {
			return fmt.Errorf("%s: %s %q %v close=%v", path, resp.Status, b, err, resp.Close)
		}
		return nil
	}
	run := func(do func(w int) error) {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := do(w); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	run(func(w int) error {
		for i := w; i < conns; i += workers {
			c, err := net.DialTimeout("tcp", s.addr, wait)
			if err != nil {
				return err
			}
			c.SetDeadline(deadline)
			br := bufio.NewReader(c)
			open[w] = append(open[w], c)
			readers[w] = append(readers[w], br)
			if err := request(c, br, "/first/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if n := onHub(t, s, func() int { return s.srv.ActiveConns() }); n != conns {
		t.Fatalf("the server holds %d connections, want %d", n, conns)
	}
	run(func(w int) error {
		for j, c := range open[w] {
			if err := request(c, readers[w][j], "/second/"+strconv.Itoa(j*workers+w)); err != nil {
				return err
			}
		}
		return nil
	})
}

// fdCount counts the process's open file descriptors.
func fdCount(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}

// TestFDsFlat: 10,000 connect/request/close cycles leave no descriptor
// behind, whichever side closes.
func TestFDsFlat(t *testing.T) {
	s, _ := serveOn(t, hub.New(), &Server{Handler: okHandler})
	cycle := func(i int) error {
		c, err := net.DialTimeout("tcp", s.addr, wait)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(wait))
		req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		serverCloses := i%2 == 0 || i < 0
		if serverCloses {
			req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		}
		if _, err := io.WriteString(c, req); err != nil {
			return err
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		if serverCloses {
			if _, err := br.ReadByte(); err != io.EOF {
				return fmt.Errorf("after Connection: close: %v", err)
			}
		}
		return nil
	}
	// Warm up: the runtime's poller for the client side, buffers, the
	// coroutine pool.
	// Every warm-up connection is closed by the server before its client
	// sees the end, so none is left open at the count.
	for range 200 {
		if err := cycle(-1); err != nil {
			t.Fatal(err)
		}
	}
	before := fdCount(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 10000; i += 4 {
				if err := cycle(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The connections whose client closed first end when the server reads
	// the EOF; Shutdown waits for the last (and closes the listener).
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The listener is closed now.
	if after := fdCount(t); after > before-1 || after < before-3 {
		t.Fatalf("%d descriptors before, %d after 10,000 connections", before, after)
	}
}
