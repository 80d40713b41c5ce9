package greenhttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// TestShutdownDrains: Shutdown closes idle connections at once, lets the
// requests in flight finish (their responses whole, with Connection:
// close), then returns; Serve returns ErrServerClosed.
func TestShutdownDrains(t *testing.T) {
	h := hub.New()
	started := make(chan string, 2)
	release := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s, serveErr := serveOn(t, h, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			started <- r.URL.Path
			greensync.Recv(h, release)
			greenthread.Sleep(h, time.Millisecond)
			io.WriteString(w, "slow done")
		case "/flushed":
			io.WriteString(w, "part1 ")
			w.(http.Flusher).Flush()
			started <- r.URL.Path
			greensync.Recv(h, release)
			io.WriteString(w, "part2")
		default:
			io.WriteString(w, "quick")
		}
	})})

	// An idle keep-alive connection, and two requests in flight.
	_, _, idle, idleBR := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	slow := s.dial(t)
	write(t, slow, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	flushed := s.dial(t)
	write(t, flushed, "GET /flushed HTTP/1.1\r\nHost: x\r\n\r\n")
	recv(t, started, "a handler")
	recv(t, started, "a handler")
	flushedBR := bufio.NewReader(flushed)
	flushedResp, err := http.ReadResponse(flushedBR, nil)
	if err != nil {
		t.Fatal(err)
	}

	shutdown := make(chan error, 1)
	go func() { shutdown <- s.srv.Shutdown(context.Background()) }() // a plain goroutine
	// The idle connection closes while the handlers still wait.
	expectClosed(t, idle, idleBR)
	if err := recv(t, serveErr, "Serve to return"); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v with two requests in flight", err)
	default:
	}
	// No new connection is accepted.
	if c, err := net.DialTimeout("tcp", s.addr, wait); err == nil {
		c.SetReadDeadline(time.Now().Add(wait))
		n, rerr := c.Read(make([]byte, 1))
		c.Close()
		if n > 0 || !isClosed(rerr) {
			t.Fatalf("a new connection after Shutdown: read %d, %v", n, rerr)
		}
	}

	close(release)
	slowBR := bufio.NewReader(slow)
	resp, body := readResponse(t, slowBR, "GET")
	if body != "slow done" || !resp.Close {
		t.Fatalf("in-flight request: %s %q close=%v", resp.Status, body, resp.Close)
	}
	expectClosed(t, slow, slowBR)
	b, err := io.ReadAll(flushedResp.Body)
	if string(b) != "part1 part2" || err != nil {
		t.Fatalf("the response begun before Shutdown: %q, %v", b, err)
	}
	expectClosed(t, flushed, flushedBR)
	if err := recv(t, shutdown, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestShutdownTimeout: Shutdown returns the context's error when a request
// outlives it; Close then ends that request.
func TestShutdownTimeout(t *testing.T) {
	h := hub.New()
	started := make(chan struct{}, 1)
	causes := make(chan error, 1)
	s, serveErr := serveOn(t, h, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		greensync.WaitContext(h, r.Context())
		causes <- context.Cause(r.Context())
	})})
	c := s.dial(t)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	recv(t, started, "the handler")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := s.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Shutdown returned after %v", d)
	}
	if err := recv(t, serveErr, "Serve"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	if err := s.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if cause := recv(t, causes, "the handler's end"); !errors.Is(cause, ErrServerClosed) {
		t.Fatalf("cause %v", cause)
	}
	expectClosed(t, c, bufio.NewReader(c))
}

// TestShutdownOnHub: Shutdown from a green thread of the server's hub, and
// twice.
func TestShutdownOnHub(t *testing.T) {
	s, serveErr := serveOn(t, hub.New(), &Server{Handler: okHandler})
	_, _, c, br := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	err := onHub(t, s, func() error {
		if err := s.srv.Shutdown(context.Background()); err != nil {
			return err
		}
		if n := s.srv.ActiveConns(); n != 0 {
			return errors.New("connections left after Shutdown")
		}
		return s.srv.Shutdown(context.Background())
	})
	if err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c, br)
	if err := recv(t, serveErr, "Serve"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
}

// TestShutdownIdleNewConn: a connection accepted but silent is idle:
// Shutdown closes it without waiting for its header timeout.
func TestShutdownIdleNewConn(t *testing.T) {
	s, _ := serveOn(t, hub.New(), &Server{Handler: okHandler})
	c := s.dial(t)
	// Make sure the server has accepted it: each look is a round trip to
	// the hub.
	for start := time.Now(); onHub(t, s, func() int { return s.srv.ActiveConns() }) == 0; {
		if time.Since(start) > wait {
			t.Fatal("the connection was not accepted")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c, bufio.NewReader(c))
}

// TestCloseBeforeServe: Close before Serve has begun makes Serve return
// ErrServerClosed at once; Close and Shutdown after the hub ended do nothing.
func TestCloseBeforeServe(t *testing.T) {
	var srv Server
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, serveErr := serveOn(t, hub.New(), &Server{Handler: okHandler})
	if err := s.srv.Close(); err != nil { // may come before Serve binds
		t.Fatal(err)
	}
	if err := recv(t, serveErr, "Serve"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}

	s2 := serve(t, &Server{Handler: okHandler})
	s2.stop(t)
	if err := s2.srv.Close(); err != nil {
		t.Fatalf("Close after the hub ended: %v", err)
	}
	if err := s2.srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after the hub ended: %v", err)
	}
}
