package greenhttp

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// malformedRequests are request heads the server must refuse (or, where
// the RFC allows it, serve) at once: never wait for more input.
var malformedRequests = []struct {
	name, req string
	ok        []int // acceptable statuses; 0 means a close without an answer
}{
	{"garbage", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xfe\xff\r\n\r\n", []int{400, 0}},
	{"text garbage", "hello there\r\n\r\n", []int{400, 0}},
	{"only CRLFs", "\r\n\r\n\r\n", []int{400, 0}},
	{"spaces", "   \r\n\r\n", []int{400, 0}},
	{"missing version", "GET /\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"missing target", "GET HTTP/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"bad version", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"not HTTP", "GET / FOO/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"bad method chars", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"control char in method", "GE\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"NUL in target", "GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", []int{400, 0}},
	{"NUL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", []int{400, 0}},
	{"CR in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", []int{400, 0}},
	{"NUL in header name", "GET / HTTP/1.1\r\nHost: x\r\nX-\x00A: a\r\n\r\n", []int{400, 0}},
	{"header without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", []int{400, 0}},
	{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", []int{400, 0}},
	{"leading folded line", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", []int{400, 0}},
	{"bare CR in request line", "GET / HTTP/1.1\rHost: x\r\n\r\n", []int{400, 0}},
	{"no Host", "GET / HTTP/1.1\r\n\r\n", []int{400}},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}},
	{"HTTP/2.0 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{400, 505, 0}},
	{"HTTP/2.0 request", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", []int{505, 400}},
	{"HTTP/3.0 request", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", []int{505, 400}},
	{"HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", []int{505, 400}},
	// RFC 9112 §2.2: a recipient MAY take a bare LF for a line end, as
	// net/http does; §2.2 also allows ignoring a CRLF before the request line.
	{"bare LF lines", "GET / HTTP/1.1\nHost: x\n\n", []int{200, 400, 0}},
	{"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 400, 0}},
}

func TestMalformedRequests(t *testing.T) {
	// A header timeout far above the bound below: waiting for more input
	// fails the test.
	s := serve(t, &Server{ReadHeaderTimeout: time.Minute, ErrorLog: discardLog, Handler: okHandler})
	for _, tt := range malformedRequests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.dial(t)
			c.SetDeadline(time.Now().Add(3 * time.Second))
			write(t, c, tt.req)
			br := bufio.NewReader(c)
			status := 0
			resp, err := http.ReadResponse(br, nil)
			switch {
			case err == nil:
				status = resp.StatusCode
				io.Copy(io.Discard, resp.Body)
				if status != 200 && !resp.Close {
					t.Errorf("%s without Connection: close", resp.Status)
				}
			case isTimeout(err):
				t.Fatalf("no answer and no close within 3s: the server waits for more")
			case !isClosed(err) && !errors.Is(err, io.ErrUnexpectedEOF):
				t.Fatalf("reading the answer: %v", err)
			}
			ok := false
			for _, s := range tt.ok {
				ok = ok || s == status
			}
			if !ok {
				t.Fatalf("status %d (0: closed), want one of %v", status, tt.ok)
			}
			if status == 200 {
				expectOpen(t, c, br)
				return
			}
			expectClosed(t, c, br)
		})
	}
}

// sendBig writes a request the server may refuse before it has read it all,
// from a goroutine (the write may block or fail once the server closes), and
// returns the response read meanwhile.
func sendBig(t *testing.T, s *served, req string) *http.Response {
	t.Helper()
	c := s.dial(t)
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, req)
		wrote <- err
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	if !resp.Close {
		t.Errorf("%s without Connection: close", resp.Status)
	}
	expectClosed(t, c, br)
	recv(t, wrote, "the writer")
	return resp
}

func TestURITooLong(t *testing.T) {
	s := serve(t, &Server{ErrorLog: discardLog, Handler: okHandler})
	for _, n := range []int{DefaultMaxURLLength + 1, 64 << 10, 1 << 20} {
		resp := sendBig(t, s, "GET /"+strings.Repeat("a", n)+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode != http.StatusRequestURITooLong {
			t.Errorf("%d-byte URL: %s", n, resp.Status)
		}
	}
	// Just under the limit is fine.
	_, body, _, _ := roundTrip(t, s, "GET /"+strings.Repeat("a", DefaultMaxURLLength-1)+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if body != "ok" {
		t.Fatal(body)
	}
	// MaxURLLength applies.
	s2 := serve(t, &Server{MaxURLLength: 100, ErrorLog: discardLog, Handler: okHandler})
	if resp := sendBig(t, s2, "GET /"+strings.Repeat("b", 100)+" HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 414 {
		t.Errorf("MaxURLLength 100: %s", resp.Status)
	}
}

func TestHeadersTooLarge(t *testing.T) {
	s := serve(t, &Server{ErrorLog: discardLog, Handler: okHandler})
	var many strings.Builder
	for many.Len() < 1<<20 {
		many.WriteString("X-Filler-Header: " + strings.Repeat("v", 100) + "\r\n")
	}
	for name, hdr := range map[string]string{
		"1 MiB of headers": many.String(),
		"one 1 MiB header": "X-Big: " + strings.Repeat("v", 1<<20) + "\r\n",
		// The limit is not exact: it leaves room for the URL and the read-ahead.
		"over the slack": "X-Big: " + strings.Repeat("v", DefaultMaxHeaderBytes+DefaultMaxURLLength+2*readBufferSize) + "\r\n",
	} {
		resp := sendBig(t, s, "GET / HTTP/1.1\r\nHost: x\r\n"+hdr+"\r\n")
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: %s", name, resp.Status)
		}
	}
	// Headers under the limit are fine.
	_, body, _, _ := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("v", 32<<10)+"\r\n\r\n", "GET")
	if body != "ok" {
		t.Fatal(body)
	}
}

// slowloris sends req a byte every interval until the server closes, and
// returns how long after the dial that took.
func slowloris(t *testing.T, s *served, req string, interval, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c := s.dial(t)
	c.SetDeadline(start.Add(bound))
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for ; n < len(req); n++ {
			if _, err := c.Write([]byte{req[n]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(interval): // pacing the slow client
			}
		}
	}()
	b, err := io.ReadAll(c)
	elapsed := time.Since(start)
	close(stop)
	n := recv(t, sent, "the slow writer")
	if isTimeout(err) {
		t.Fatalf("the server did not close within %v (%d bytes sent)", bound, n)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408") {
		t.Fatalf("answered %q", b)
	}
	if n == len(req) {
		t.Fatalf("the whole request went through")
	}
	return elapsed
}

func TestSlowloris(t *testing.T) {
	t.Parallel()
	const timeout = 1500 * time.Millisecond
	s := serve(t, &Server{ReadHeaderTimeout: timeout, ErrorLog: discardLog, Handler: okHandler})
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("z", 100) + "\r\n\r\n"
	d := slowloris(t, s, req, 500*time.Millisecond, timeout+3*time.Second)
	if d < timeout-100*time.Millisecond || d > timeout+time.Second {
		t.Fatalf("closed after %v, want about %v", d, timeout)
	}
}

// TestSlowlorisLate: the first request's header timeout runs from the
// accept, not from the first byte.
func TestSlowlorisLate(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	s := serve(t, &Server{ReadHeaderTimeout: timeout, ErrorLog: discardLog, Handler: okHandler})
	start := time.Now()
	c := s.dial(t)
	time.Sleep(800 * time.Millisecond) // the client waits before its first byte
	write(t, c, "G")
	go func() {
		for range 20 {
			time.Sleep(100 * time.Millisecond) // pacing the slow client
			if _, err := c.Write([]byte("E")); err != nil {
				return
			}
		}
	}()
	io.Copy(io.Discard, c)
	if d := time.Since(start); d > timeout+500*time.Millisecond {
		t.Fatalf("closed %v after the accept, want about %v", d, timeout)
	}
}

// TestSilentClient: a client that connects and sends nothing is closed
// after the header timeout.
func TestSilentClient(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	s := serve(t, &Server{ReadHeaderTimeout: timeout, Handler: okHandler})
	start := time.Now()
	c := s.dial(t)
	expectClosed(t, c, bufio.NewReader(c))
	if d := time.Since(start); d < timeout-50*time.Millisecond || d > timeout+time.Second {
		t.Fatalf("closed after %v, want about %v", d, timeout)
	}
}

// TestDefaultReadHeaderTimeout: a zero Server has a header timeout.
func TestDefaultReadHeaderTimeout(t *testing.T) {
	if DefaultReadHeaderTimeout <= 0 || DefaultReadHeaderTimeout > time.Minute {
		t.Fatalf("DefaultReadHeaderTimeout %v", DefaultReadHeaderTimeout)
	}
	s := serve(t, &Server{Handler: okHandler})
	if got := onHub(t, s, func() time.Duration { return s.srv.limit.readHeader }); got != DefaultReadHeaderTimeout {
		t.Fatalf("a zero Server's header timeout is %v", got)
	}
	// A negative ReadHeaderTimeout means none.
	s2 := serve(t, &Server{ReadHeaderTimeout: -1, Handler: okHandler})
	if got := onHub(t, s2, func() time.Duration { return s2.srv.limit.readHeader }); got != 0 {
		t.Fatalf("ReadHeaderTimeout -1 gives %v", got)
	}
}
