package greenhttp

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// served is a Server running on its own hub in the background, listening on
// loopback.
type served struct {
	srv  *Server
	h    *hub.Hub
	addr string
	url  string
	done chan error
}

// serve starts srv on a new hub listening on 127.0.0.1 and stops it (Close)
// when the test ends, failing the test if the hub ended with an error.
func serve(t testing.TB, srv *Server, opts ...hub.Option) *served {
	t.Helper()
	s := &served{srv: srv, h: hub.New(opts...), done: make(chan error, 1)}
	addrs := make(chan string, 1)
	go func() {
		s.done <- s.h.Run(func() error {
			l, err := netio.Listen(s.h, "tcp", "127.0.0.1:0")
			if err != nil {
				close(addrs)
				return err
			}
			addrs <- l.Addr().String()
			if err := srv.Serve(l); !errors.Is(err, ErrServerClosed) {
				return err
			}
			return nil
		})
	}()
	addr, ok := <-addrs
	if !ok {
		t.Fatalf("listen: %v", <-s.done)
	}
	s.addr, s.url = addr, "http://"+addr
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop closes the server and waits for its hub to end.
func (s *served) stop(t testing.TB) {
	t.Helper()
	if s.done == nil {
		return
	}
	if err := s.srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("hub: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("hub did not end after Close")
	}
	s.done = nil
}

// client returns a keep-alive client for the test, closed at its end.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 100, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// dial opens a raw client connection to the server.
func (s *served) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}
