package greenhttp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// wait is the bound on every wait of the tests that is not about timing.
const wait = 10 * time.Second

// served is a Server running on its own hub in the background, listening on
// loopback.
type served struct {
	srv     *Server
	h       *hub.Hub
	addr    string
	url     string
	done    chan error    // the hub's Run
	end     chan struct{} // closed to let the hub's main return
	stopped bool
}

// serve starts srv on a new hub listening on 127.0.0.1 and stops it (Close)
// when the test ends, failing the test if the hub ended with an error.
func serve(t testing.TB, srv *Server, opts ...hub.Option) *served {
	t.Helper()
	s, _ := serveOn(t, hub.New(opts...), srv)
	return s
}

// serveOn is serve with a hub made by the caller (a Server's Pool needs it
// before Serve), reporting what Serve returned on serveErr.
func serveOn(t testing.TB, h *hub.Hub, srv *Server) (s *served, serveErr <-chan error) {
	t.Helper()
	return start(t, h, srv, "http", srv.Serve)
}

// serveTLS is serve with ServeTLS (the certificate in srv.TLSConfig).
func serveTLS(t testing.TB, srv *Server) *served {
	t.Helper()
	s, _ := start(t, hub.New(), srv, "https", func(l *netio.Listener) error { return srv.ServeTLS(l, "", "") })
	return s
}

// start runs serveFn on a loopback listener in h's main. As a program that
// shuts down gracefully must, the hub's main does not return when Serve
// does, but when the test ends: Run kills the green threads still serving.
func start(t testing.TB, h *hub.Hub, srv *Server, scheme string, serveFn func(*netio.Listener) error) (*served, <-chan error) {
	t.Helper()
	s := &served{srv: srv, h: h, done: make(chan error, 1), end: make(chan struct{})}
	addrs := make(chan string, 1)
	errs := make(chan error, 1)
	go func() {
		s.done <- s.h.Run(func() error {
			l, err := netio.Listen(s.h, "tcp", "127.0.0.1:0")
			if err != nil {
				close(addrs)
				return err
			}
			addrs <- l.Addr().String()
			err = serveFn(l)
			errs <- err
			if !errors.Is(err, ErrServerClosed) {
				return err
			}
			_, _, err = greensync.Recv(s.h, (<-chan struct{})(s.end))
			return err
		})
	}()
	addr, ok := <-addrs
	if !ok {
		t.Fatalf("listen: %v", <-s.done)
	}
	s.addr, s.url = addr, scheme+"://"+addr
	t.Cleanup(func() { s.stop(t) })
	return s, errs
}

// stop closes the server, lets the hub's main return and waits for the hub
// to end. Stopping twice does nothing.
func (s *served) stop(t testing.TB) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.end)
	if err := s.srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("hub: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("hub did not end after Close")
	}
}

// client returns a keep-alive client for the test, closed at its end.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 100, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}
}

// dial opens a raw client connection to the server.
func (s *served) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(wait))
	t.Cleanup(func() { c.Close() })
	return c
}

// onHub runs fn in a green thread of s's hub and returns its result.
func onHub[T any](t testing.TB, s *served, fn func() T) T {
	t.Helper()
	v, err := greensync.Call(s.h, func() (T, error) { return fn(), nil })
	if err != nil {
		t.Fatalf("greensync.Call: %v", err)
	}
	return v
}

// lockedBuffer is an io.Writer for a slog handler written on the hub's
// thread and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLog returns a logger writing text records into the returned buffer.
func captureLog() (*slog.Logger, *lockedBuffer) {
	b := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// recordHandler is a slog.Handler that sends each record's attributes to a
// channel: the test receives them when the server has logged them.
type recordHandler struct{ ch chan map[string]slog.Value }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h recordHandler) WithGroup(string) slog.Handler            { return h }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	m := map[string]slog.Value{"msg": slog.StringValue(r.Message)}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
	h.ch <- m
	return nil
}

// write sends s on a raw connection.
func write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readResponse reads one response to a request of the given method, body
// included.
func readResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return resp, string(b)
}

// roundTrip sends a raw request on a new connection and reads the response.
func roundTrip(t testing.TB, s *served, req, method string) (*http.Response, string, net.Conn, *bufio.Reader) {
	t.Helper()
	c := s.dial(t)
	write(t, c, req)
	br := bufio.NewReader(c)
	resp, body := readResponse(t, br, method)
	return resp, body, c, br
}

// isClosed reports whether err is what reading a connection the server
// closed gives: EOF, or a reset when the server closed with unread input.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// expectClosed fails unless the server closes the connection (within the
// connection's deadline) without sending anything more.
func expectClosed(t testing.TB, c net.Conn, br *bufio.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(br)
	if err == nil {
		err = io.EOF // ReadAll ends at EOF without an error
	}
	if len(b) > 0 || !isClosed(err) {
		t.Fatalf("want the connection closed; read %q, err %v", b, err)
	}
}

// expectOpen fails unless the server keeps the connection: a second request
// on it is answered.
func expectOpen(t testing.TB, c net.Conn, br *bufio.Reader) {
	t.Helper()
	write(t, c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second request on the connection: %s", resp.Status)
	}
}

// get does a GET with cl and returns the response and its body.
func get(t testing.TB, cl *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s body: %v", url, err)
	}
	return resp, string(b)
}

// recv receives from ch or fails after the bound.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// isTimeout reports a deadline error.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// discardLog is an ErrorLog for tests whose errors are expected.
var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// okHandler answers "ok" to everything.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok")
})

// contains is strings.Contains, for brevity in tables.
func contains(s, sub string) bool { return strings.Contains(s, sub) }
