package greenhttp

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// smugglingRequests are requests whose body framing two parsers could read
// differently. Each gets 400 and the connection closed; the "GET /smuggled"
// that follows each must never be served.
var smugglingRequests = []struct{ name, req string }{
	{"two Content-Lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
	{"Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd"},
	{"Content-Length list, same values", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd"},
	{"Content-Length negative", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\nabcd"},
	{"Content-Length plus sign", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd"},
	{"Content-Length hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x4\r\n\r\nabcd"},
	{"Content-Length not a number", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: four\r\n\r\nabcd"},
	{"Content-Length overflow", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nabcd"},
	{"CL then TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"TE then CL", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
	{"lower-case CL and TE", "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n0\r\n\r\n"},
	{"mixed-case TE value", "POST / HTTP/1.1\r\nHost: x\r\nCONTENT-LENGTH: 4\r\nTransfer-Encoding: ChUnKeD\r\n\r\n0\r\n\r\n"},
	{"CL 0 and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"TE gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"},
	{"TE identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 4\r\n\r\nabcd"},
	{"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
	{"TE chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"TE xchunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
	{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
	{"chunk size not hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n"},
	{"chunk size negative", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-4\r\nabcd\r\n0\r\n\r\n"},
	{"chunk size 0x", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x4\r\nabcd\r\n0\r\n\r\n"},
	{"chunk size overflow", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff4\r\nabcd\r\n0\r\n\r\n"},
	{"chunk data too long", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n"},
	{"chunk size empty", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabcd\r\n0\r\n\r\n"},
}

// smugglingServer serves a handler that reads the whole body.
func smugglingServer(t *testing.T) (*served, chan string) {
	served := make(chan string, 100)
	s := serve(t, &Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served <- r.URL.Path
		if _, err := io.ReadAll(r.Body); err != nil {
			return
		}
		io.WriteString(w, "ok")
	})})
	return s, served
}

// drain empties ch.
func drain(ch chan string) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// expectRejected reads the answer to a smuggling attempt: 400, then the
// close, and nothing served after it.
func expectRejected(t *testing.T, c interface{ SetReadDeadline(time.Time) error }, br *bufio.Reader, served chan string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Fatalf("%s (Connection: close %v), want 400 and close", resp.Status, resp.Close)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	if b, err := io.ReadAll(br); len(b) > 0 || (err != nil && !isClosed(err)) {
		t.Fatalf("after the 400: %q, %v", b, err)
	}
	for {
		select {
		case path := <-served:
			if path == "/smuggled" {
				t.Fatalf("the smuggled request was served")
			}
		default:
			return
		}
	}
}

func TestSmuggling(t *testing.T) {
	s, served := smugglingServer(t)
	for _, tt := range smugglingRequests {
		t.Run(tt.name, func(t *testing.T) {
			drain(served)
			c := s.dial(t)
			write(t, c, tt.req+"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
			expectRejected(t, c, bufio.NewReader(c), served)
		})
	}
}

// TestSmugglingSplit: the Content-Length + Transfer-Encoding guard does not
// depend on how the header block arrives: in pieces, or longer than the
// read buffer.
func TestSmugglingSplit(t *testing.T) {
	s, served := smugglingServer(t)
	pad := "X-Pad: " + strings.Repeat("p", 2*readBufferSize) + "\r\n"
	tests := []struct {
		name   string
		pieces []string
	}{
		{"TE, then CL later", []string{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", "Content-Length: 4\r\n\r\n0\r\n\r\n"}},
		{"CL, then TE later", []string{"POST / HTTP/1.1\r\nHost: x\r\nContent-Len", "gth: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}},
		{"byte by byte", strings.Split("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", "")},
		{"CL after a long header", []string{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" + pad + "Content-Length: 4\r\n\r\n0\r\n\r\n"}},
		{"after a keep-alive request", []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", pad + "Content-Length: 4\r\n\r\n0\r\n\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drain(served)
			c := s.dial(t)
			br := bufio.NewReader(c)
			for i, p := range tt.pieces {
				if i > 0 {
					time.Sleep(time.Millisecond) // let the server read what came so far
				}
				// The server may refuse before the end: later writes may fail.
				io.WriteString(c, p)
			}
			io.WriteString(c, "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
			if strings.HasPrefix(tt.pieces[0], "GET / ") {
				if resp, body := readResponse(t, br, "GET"); body != "ok" {
					t.Fatalf("first request: %s %q", resp.Status, body)
				}
			}
			expectRejected(t, c, br, served)
		})
	}
}

// TestChunkedNotSmuggling: legitimate framing that looks close to the rows
// above is served, and the connection kept.
func TestChunkedNotSmuggling(t *testing.T) {
	s, _ := smugglingServer(t)
	for _, req := range []string{
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Content-Length: 4\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Note: Content-Length: 4\r\n\r\n4;name=value\r\nabcd\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  4 \r\n\r\nabcd",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\nContent-Length: 4\r\n\r\n",
	} {
		resp, body, c, br := roundTrip(t, s, req, "POST")
		if resp.StatusCode != 200 || body != "ok" || resp.Close {
			t.Fatalf("%q: %s %q close=%v", req, resp.Status, body, resp.Close)
		}
		expectOpen(t, c, br)
	}
}
