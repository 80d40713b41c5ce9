package greenhttp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzRequest sends arbitrary bytes to one server, as a client that then
// shuts its side down: the server must answer or close within a bound, and
// go on serving (a valid request on a new connection).
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nPOST /3 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz",
		"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /flush HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nraw bytes",
		"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc",
		"GET /" + string(make([]byte, 10)) + " HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	for _, m := range malformedRequests {
		f.Add([]byte(m.req))
	}
	for _, m := range smugglingRequests {
		f.Add([]byte(m.req))
	}
	s := serve(f, &Server{
		ReadHeaderTimeout: 2 * time.Second,
		IdleTimeout:       2 * time.Second,
		ErrorLog:          discardLog,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/panic":
				panic("fuzz panic")
			case "/flush":
				io.WriteString(w, "flushed")
				w.(http.Flusher).Flush()
			case "/hijack":
				c, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				defer c.Close()
				b, _ := brw.Reader.Peek(brw.Reader.Buffered())
				fmt.Fprintf(c, "hijacked %q", b)
				return
			case "/ignore":
				io.WriteString(w, "ignored the body")
				return
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "%s %s %d %v", r.Method, r.URL.Path, len(b), r.Trailer)
		}),
	})
	const bound = 5 * time.Second
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.DialTimeout("tcp", s.addr, wait)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(bound))
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			c.Write(data) // the server may refuse early: the write may fail
			c.(*net.TCPConn).CloseWrite()
		}()
		_, err = io.Copy(io.Discard, c)
		<-wrote
		if isTimeout(err) {
			t.Fatalf("the server neither answered nor closed within %v", bound)
		}
		if err != nil && !isClosed(err) {
			t.Fatalf("reading: %v", err)
		}
		// The hub goes on.
		c2, err := net.DialTimeout("tcp", s.addr, wait)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		c2.SetDeadline(time.Now().Add(bound))
		io.WriteString(c2, "GET /alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
		if err != nil {
			t.Fatalf("the server stopped serving: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "GET /alive 0 map[]" {
			t.Fatalf("the server stopped serving: %s %q", resp.Status, b)
		}
	})
}

// scanReference is headerScan's meaning, written plainly: the header block
// is the text up to the first empty line ("" or "\r"); report whether one of
// its lines starts with each field name, in any case.
func scanReference(b []byte) (sawCL, sawTE, done bool) {
	lines := bytes.Split(b, []byte("\n"))
	for i, line := range lines {
		if i == len(lines)-1 {
			// The last piece has no '\n' yet: a prefix may already match.
			sawCL = sawCL || hasPrefixFold(line, clField)
			sawTE = sawTE || hasPrefixFold(line, teField)
			return sawCL, sawTE, false
		}
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return sawCL, sawTE, true
		}
		sawCL = sawCL || hasPrefixFold(line, clField)
		sawTE = sawTE || hasPrefixFold(line, teField)
	}
	return sawCL, sawTE, false
}

func hasPrefixFold(line []byte, field string) bool {
	return len(line) >= len(field) && strings.EqualFold(string(line[:len(field)]), field)
}

// FuzzHeaderScan feeds headerScan a header block cut at arbitrary places
// and compares it with scanReference.
func FuzzHeaderScan(f *testing.F) {
	f.Add([]byte("Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nbody"), uint8(3))
	f.Add([]byte("X: y\r\n\r\nContent-Length: 1\r\n"), uint8(1))
	f.Add([]byte("CONTENT-LENGTH:1\n\n"), uint8(7))
	f.Add([]byte("\r\r\nTransfer-Encoding: chunked\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		s := headerScan{cl: true, te: true}
		step := int(cut%16) + 1
		for i := 0; i < len(b); i += step {
			s.feed(b[i:min(i+step, len(b))])
		}
		cl, te, done := scanReference(b)
		if s.sawCL != cl || s.sawTE != te || s.done != done {
			t.Fatalf("%q in pieces of %d: scan (CL %v, TE %v, done %v), reference (%v, %v, %v)",
				b, step, s.sawCL, s.sawTE, s.done, cl, te, done)
		}
	})
}
