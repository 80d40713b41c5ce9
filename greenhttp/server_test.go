package greenhttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
)

// TestKeepAlive1000 serves 1,000 requests on one connection of the net/http
// client.
func TestKeepAlive1000(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Remote", r.RemoteAddr)
		io.WriteString(w, r.URL.Path)
	})})
	cl := client(t)
	var fresh, reused atomic.Int32
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if info.Reused {
			reused.Add(1)
		} else {
			fresh.Add(1)
		}
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	remote := ""
	for i := range 1000 {
		path := "/r" + strconv.Itoa(i)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url+path, nil)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != path {
			t.Fatalf("request %d: body %q, %v", i, b, err)
		}
		if i == 0 {
			remote = resp.Header.Get("X-Remote")
		} else if got := resp.Header.Get("X-Remote"); got != remote {
			t.Fatalf("request %d came from %s, the first from %s", i, got, remote)
		}
	}
	if fresh.Load() != 1 || reused.Load() != 999 {
		t.Fatalf("connections: %d new, %d reused; want 1 and 999", fresh.Load(), reused.Load())
	}
}

// TestPipelining writes 50 requests at once, some with bodies, and reads the
// answers in order.
func TestPipelining(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
	})})
	c := s.dial(t)
	var burst strings.Builder
	var want []string
	for i := range 50 {
		path := fmt.Sprintf("/p%02d", i)
		if i%5 == 4 {
			body := strings.Repeat(strconv.Itoa(i%10), i)
			fmt.Fprintf(&burst, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
			want = append(want, "POST "+path+" "+body)
		} else {
			fmt.Fprintf(&burst, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
			want = append(want, "GET "+path+" ")
		}
	}
	write(t, c, burst.String())
	br := bufio.NewReader(c)
	for i, w := range want {
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != w {
			t.Fatalf("response %d: %s %q, want %q", i, resp.Status, body, w)
		}
	}
	expectOpen(t, c, br)
}

func TestHTTP10(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(bytes.Repeat([]byte("b"), 3*DefaultMinChunkSize))
			return
		}
		io.WriteString(w, "hello")
	})})
	tests := []struct {
		name, req  string
		wantBody   string
		keep       bool
		wantLength int64
	}{
		{"close by default", "GET / HTTP/1.0\r\n\r\n", "hello", false, 5},
		{"keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "hello", true, 5},
		{"keep-alive, no length", "GET /big HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", strings.Repeat("b", 3*DefaultMinChunkSize), false, -1},
		{"close-delimited", "GET /big HTTP/1.0\r\n\r\n", strings.Repeat("b", 3*DefaultMinChunkSize), false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, c, br := roundTrip(t, s, tt.req, "GET")
			if resp.StatusCode != 200 || body != tt.wantBody {
				t.Fatalf("got %s, %d bytes", resp.Status, len(body))
			}
			if resp.ContentLength != tt.wantLength || len(resp.TransferEncoding) != 0 {
				t.Fatalf("Content-Length %d, Transfer-Encoding %v; want %d and none", resp.ContentLength, resp.TransferEncoding, tt.wantLength)
			}
			if got := resp.Header.Get("Connection"); tt.keep != strings.EqualFold(got, "keep-alive") {
				t.Fatalf("Connection: %q", got)
			}
			if !tt.keep {
				expectClosed(t, c, br)
				return
			}
			write(t, c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
			if resp, body := readResponse(t, br, "GET"); body != "hello" || resp.Header.Get("Connection") != "keep-alive" {
				t.Fatalf("second request: %s %q", resp.Status, body)
			}
			write(t, c, "GET / HTTP/1.0\r\n\r\n")
			readResponse(t, br, "GET")
			expectClosed(t, c, br)
		})
	}
}

func TestHEAD(t *testing.T) {
	const page = "<html><body>hello</body></html>"
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			for range 10 {
				w.Write(bytes.Repeat([]byte("x"), 1000))
			}
		case "/empty":
		default:
			io.WriteString(w, page)
		}
	})})
	get, getBody, _, _ := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if getBody != page {
		t.Fatalf("GET body %q", getBody)
	}
	c := s.dial(t)
	br := bufio.NewReader(c)
	write(t, c, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	head, headBody := readResponse(t, br, "HEAD")
	if headBody != "" {
		t.Fatalf("HEAD body %q", headBody)
	}
	for _, k := range []string{"Content-Length", "Content-Type"} {
		if head.Header.Get(k) != get.Header.Get(k) {
			t.Errorf("%s: HEAD %q, GET %q", k, head.Header.Get(k), get.Header.Get(k))
		}
	}
	if head.Header.Get("Content-Length") != strconv.Itoa(len(page)) {
		t.Errorf("HEAD Content-Length %q", head.Header.Get("Content-Length"))
	}
	// The connection goes on: the body was not sent, so nothing is left over.
	for _, path := range []string{"/big", "/empty", "/"} {
		write(t, c, "HEAD "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := readResponse(t, br, "HEAD"); resp.StatusCode != 200 || body != "" {
			t.Fatalf("HEAD %s: %s %q", path, resp.Status, body)
		}
	}
	expectOpen(t, c, br)
}

// TestLargeRequestBody posts 1 MiB with a Content-Length and chunked.
func TestLargeRequestBody(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %x %d", n, h.Sum(nil), r.ContentLength)
	})})
	cl := client(t)
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = byte(i * 7)
	}
	sum := sha256.Sum256(body)
	for _, chunked := range []bool{false, true} {
		req, _ := http.NewRequest("POST", s.url, bytes.NewReader(body))
		wantCL := len(body)
		if chunked {
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
			req.ContentLength = -1
			wantCL = -1
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("%d %x %d", len(body), sum, wantCL); string(b) != want {
			t.Fatalf("chunked=%v: got %q want %q", chunked, b, want)
		}
	}
}

// TestRequestTrailers: the handler sees a chunked body's trailers in
// r.Trailer once it has read the body to EOF.
func TestRequestTrailers(t *testing.T) {
	type seen struct {
		before, after http.Header
		body          string
		te            []string
	}
	got := make(chan seen, 1)
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v seen
		v.before = r.Trailer.Clone()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("body: %v", err)
		}
		v.body, v.after, v.te = string(b), r.Trailer.Clone(), r.TransferEncoding
		got <- v
	})})

	t.Run("declared", func(t *testing.T) {
		body := strings.Repeat("chunk!", 5000)
		req, _ := http.NewRequest("POST", s.url, io.NopCloser(strings.NewReader(body)))
		req.ContentLength = -1
		req.Trailer = http.Header{"X-Checksum": {"abc123"}, "X-Count": {"1", "2"}}
		resp, err := client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		v := recv(t, got, "the handler")
		if v.body != body || len(v.te) != 1 || v.te[0] != "chunked" {
			t.Fatalf("body %d bytes, Transfer-Encoding %v", len(v.body), v.te)
		}
		if _, ok := v.before["X-Checksum"]; !ok || v.before.Get("X-Checksum") != "" {
			t.Errorf("before EOF: %v, want the declared keys without values", v.before)
		}
		if v.after.Get("X-Checksum") != "abc123" || strings.Join(v.after.Values("X-Count"), ",") != "1,2" {
			t.Errorf("after EOF: %v", v.after)
		}
	})
	t.Run("undeclared", func(t *testing.T) {
		resp, _, c, br := roundTrip(t, s, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Late: yes\r\n\r\n", "POST")
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		v := recv(t, got, "the handler")
		if v.body != "hello world" || v.after.Get("X-Late") != "yes" {
			t.Fatalf("body %q, trailer %v", v.body, v.after)
		}
		expectOpen(t, c, br)
	})
}

func TestExpectContinue(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ignore" {
			io.WriteString(w, "not reading")
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %s", b)
	})})

	t.Run("read", func(t *testing.T) {
		c := s.dial(t)
		br := bufio.NewReader(c)
		write(t, c, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		// The body is sent only once the server asked for it.
		line, err := textproto.NewReader(br).ReadLine()
		if err != nil || line != "HTTP/1.1 100 Continue" {
			t.Fatalf("first line %q, %v", line, err)
		}
		if blank, _ := textproto.NewReader(br).ReadLine(); blank != "" {
			t.Fatalf("100 Continue followed by %q", blank)
		}
		write(t, c, "hello")
		resp, body := readResponse(t, br, "POST")
		if resp.StatusCode != 200 || body != "got hello" {
			t.Fatalf("%s %q", resp.Status, body)
		}
		expectOpen(t, c, br)
	})
	t.Run("net/http client", func(t *testing.T) {
		tr := &http.Transport{ExpectContinueTimeout: wait}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("POST", s.url+"/read", strings.NewReader("payload"))
		req.Header.Set("Expect", "100-continue")
		start := time.Now()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "got payload" || time.Since(start) > wait/2 {
			t.Fatalf("%q after %v", b, time.Since(start))
		}
	})
	t.Run("not read", func(t *testing.T) {
		c := s.dial(t)
		br := bufio.NewReader(c)
		write(t, c, "POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		resp, body := readResponse(t, br, "POST")
		if resp.StatusCode != 200 || body != "not reading" || !resp.Close {
			t.Fatalf("%s %q close=%v", resp.Status, body, resp.Close)
		}
		expectClosed(t, c, br)
	})
	t.Run("unknown expectation", func(t *testing.T) {
		resp, _, c, br := roundTrip(t, s, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 200-ok\r\n\r\nhello", "POST")
		if resp.StatusCode != http.StatusExpectationFailed {
			t.Fatal(resp.Status)
		}
		expectClosed(t, c, br)
	})
}

// TestStreamedResponse streams 1,000 flushed chunks to the net/http client.
func TestStreamedResponse(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 1000 {
			fmt.Fprintf(w, "chunk %04d|", i)
			w.(http.Flusher).Flush()
		}
	})})
	resp, body := get(t, client(t), s.url)
	var want strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&want, "chunk %04d|", i)
	}
	if body != want.String() {
		t.Fatalf("body differs: %d bytes, want %d", len(body), want.Len())
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("Transfer-Encoding %v", resp.TransferEncoding)
	}

	// On the wire: one chunk per Flush.
	c := s.dial(t)
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte("\r\nb\r\nchunk ")); n != 1000 {
		t.Fatalf("%d chunks of 11 bytes on the wire, want 1000", n)
	}
}

func TestResponseTrailers(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("declared") {
			w.Header().Set("Trailer", "X-Sum, X-Other")
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "body")
		if r.URL.Query().Has("flush") {
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "42")
		w.Header().Set("X-Other", "other")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})})
	cl := client(t)
	for _, q := range []string{"declared", "declared&flush", "prefix", "prefix&flush"} {
		t.Run(q, func(t *testing.T) {
			resp, err := cl.Get(s.url + "/?" + q)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "body" {
				t.Fatalf("body %q %v", b, err)
			}
			want := http.Header{"X-Late": {"late"}}
			if strings.HasPrefix(q, "declared") {
				want = http.Header{"X-Sum": {"42"}, "X-Other": {"other"}, "X-Late": {"late"}}
				if resp.Header.Get("X-Sum") != "" {
					t.Errorf("the trailer X-Sum was sent as a header too")
				}
			}
			if fmt.Sprint(resp.Trailer) != fmt.Sprint(want) {
				t.Errorf("trailers %v, want %v", resp.Trailer, want)
			}
			if resp.Header.Get("X-Late") != "" || resp.Header.Get(http.TrailerPrefix+"X-Late") != "" {
				t.Errorf("the prefixed trailer leaked into the headers: %v", resp.Header)
			}
		})
	}
}

// TestEarlyHints sends 103 with a Link header before the 200.
func TestEarlyHints(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("X-Final", "yes")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "done")
	})})
	var codes []int
	var links []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		codes = append(codes, code)
		links = append(links, h.Get("Link"))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", s.url, nil)
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "done" || resp.Header.Get("X-Final") != "yes" || resp.Header.Get("Link") != "" {
		t.Fatalf("final: %s %q %v", resp.Status, b, resp.Header)
	}
	if len(codes) != 1 || codes[0] != 103 || links[0] != "</style.css>; rel=preload; as=style" {
		t.Fatalf("1xx: %v %q", codes, links)
	}
}

// TestHalfClose: a client that shuts its side down after the request still
// gets the answer.
func TestHalfClose(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.URL.Path, b)
	})})
	for _, tt := range []struct{ req, want string }{
		{"GET /half HTTP/1.1\r\nHost: x\r\n\r\n", "/half "},
		{"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ndata", "/body data"},
		{"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\n\r\n", "/chunked data"},
	} {
		c := s.dial(t)
		write(t, c, tt.req)
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != tt.want {
			t.Fatalf("%s %q", resp.Status, body)
		}
		expectClosed(t, c, br)
	}
}

// TestClientReset: a client that resets the connection while a big response
// streams leaves the server serving.
func TestClientReset(t *testing.T) {
	werr := make(chan error, 1)
	s := serve(t, &Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			io.WriteString(w, "ok")
			return
		}
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for range 10000 { // 640 MB at most: the client resets long before
			if _, err := w.Write(chunk); err != nil {
				werr <- err
				return
			}
			w.(http.Flusher).Flush()
		}
		werr <- nil
	})})
	c := s.dial(t)
	write(t, c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := io.ReadFull(c, make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	if err := recv(t, werr, "the handler's write error"); err == nil {
		t.Fatal("the handler wrote 640 MB to a reset connection")
	}
	if _, body := get(t, client(t), s.url+"/after"); body != "ok" {
		t.Fatalf("after the reset: %q", body)
	}
}

func TestPanic(t *testing.T) {
	log, logged := captureLog()
	s := serve(t, &Server{ErrorLog: log, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/early":
			panic("boom early")
		case "/after-header":
			w.Header().Set("X-Before", "1")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "partial")
			panic("boom after header")
		case "/after-flush":
			w.Write(bytes.Repeat([]byte("f"), 5000))
			w.(http.Flusher).Flush()
			panic("boom after flush")
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/abort-after-flush":
			io.WriteString(w, "some")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
	})})
	cl := client(t)

	// Before anything reached the client: a complete 500, then the close.
	for _, path := range []string{"/early", "/after-header"} {
		t.Run(path, func(t *testing.T) {
			resp, body, c, br := roundTrip(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
			if resp.StatusCode != 500 || !resp.Close || resp.Header.Get("X-Before") != "" || strings.Contains(body, "partial") {
				t.Fatalf("%s %v %q", resp.Status, resp.Header, body)
			}
			expectClosed(t, c, br)
			out := logged.String()
			if !strings.Contains(out, "boom "+strings.ReplaceAll(path[1:], "-", " ")) || !strings.Contains(out, "greenhttp.TestPanic") || !strings.Contains(out, "panic serving") {
				t.Fatalf("log without the panic and its stack:\n%s", out)
			}
		})
	}
	// After the response began: no 500, the body cut short.
	for _, path := range []string{"/after-flush", "/abort-after-flush"} {
		t.Run(path, func(t *testing.T) {
			resp, err := cl.Get(s.url + path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || bytes.Contains(b, []byte("500")) {
				t.Fatalf("%s, %d bytes, %v", resp.Status, len(b), err)
			}
		})
	}
	if out := logged.String(); !strings.Contains(out, "boom after flush") {
		t.Errorf("the panic after the flush was not logged:\n%s", out)
	}
	// ErrAbortHandler: the connection closes, nothing is logged.
	before := logged.String()
	c := s.dial(t)
	write(t, c, "GET /abort HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if resp, err := http.ReadResponse(br, nil); err == nil {
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 500 {
			t.Errorf("abort: %s", resp.Status)
		}
	}
	expectClosed(t, c, br)
	if after := logged.String(); after != before {
		t.Errorf("ErrAbortHandler was logged: %s", after[len(before):])
	}
	if strings.Contains(logged.String(), "ErrAbortHandler") || strings.Contains(logged.String(), "abort Handler") {
		t.Errorf("ErrAbortHandler was logged")
	}
}

func TestRequestContext(t *testing.T) {
	h := hub.New()
	type result struct {
		err, cause error
	}
	started := make(chan struct{}, 1)
	results := make(chan result, 1)
	contexts := make(chan context.Context, 1)
	s, _ := serveOn(t, h, &Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keep" {
			contexts <- r.Context()
			return
		}
		ctx := r.Context()
		started <- struct{}{}
		err := greensync.WaitContext(h, ctx)
		results <- result{err, context.Cause(ctx)}
	})})

	t.Run("client gone", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
		recv(t, started, "the handler")
		c.Close()
		r := recv(t, results, "the cancellation")
		if !errors.Is(r.err, context.Canceled) || !errors.Is(r.cause, errClientGone) {
			t.Fatalf("err %v, cause %v", r.err, r.cause)
		}
	})
	t.Run("client gone after body", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "POST /wait HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		recv(t, started, "the handler")
		c.Close()
		// The body was not read: the server does not watch the socket, and
		// the handler waits until the server closes.
		select {
		case r := <-results:
			t.Fatalf("cancelled before the body was read: %v", r.cause)
		case <-time.After(50 * time.Millisecond):
		}
	})
	t.Run("handler returned", func(t *testing.T) {
		if _, body := get(t, client(t), s.url+"/keep"); body != "" {
			t.Fatal(body)
		}
		ctx := recv(t, contexts, "the context")
		recv(t, ctx.Done(), "the context's end")
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatal(ctx.Err())
		}
	})
	t.Run("server closed", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
		recv(t, started, "the handler")
		if err := s.srv.Close(); err != nil {
			t.Fatal(err)
		}
		// The request of the previous subtest is cancelled too; either comes first.
		for range 2 {
			r := recv(t, results, "the cancellation")
			if !errors.Is(r.err, context.Canceled) || !errors.Is(r.cause, ErrServerClosed) {
				t.Fatalf("err %v, cause %v", r.err, r.cause)
			}
		}
		expectClosed(t, c, bufio.NewReader(c))
	})
}

func TestHijack(t *testing.T) {
	contexts := make(chan context.Context, 1)
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contexts <- r.Context()
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
		nc, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer nc.Close()
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
			t.Errorf("Write after Hijack: %v", err)
		}
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo: " + line)
			brw.Flush()
			if line == "bye\n" {
				return
			}
		}
	})})
	c := s.dial(t)
	// "one" travels with the request: the hijacker finds it buffered.
	write(t, c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\none\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "echo" {
		t.Fatalf("%v %v", resp, err)
	}
	write(t, c, "two\nbye\n")
	for _, want := range []string{"echo: one\n", "echo: two\n", "echo: bye\n"} {
		if line, err := br.ReadString('\n'); line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
	expectClosed(t, c, br)
	ctx := recv(t, contexts, "the context")
	recv(t, ctx.Done(), "the hijacked request's context to end")
}

func TestWebSocket(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Handler(func(ws *websocket.Conn) {
		for {
			var msg string
			if err := websocket.Message.Receive(ws, &msg); err != nil {
				return
			}
			if err := websocket.Message.Send(ws, "echo "+msg); err != nil {
				return
			}
		}
	}))
	s := serve(t, &Server{Handler: mux})
	ws, err := websocket.Dial("ws://"+s.addr+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(wait))
	for i := range 5 {
		msg := strings.Repeat(strconv.Itoa(i), 1+i*1000)
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var reply string
		if err := websocket.Message.Receive(ws, &reply); err != nil || reply != "echo "+msg {
			t.Fatalf("reply %d: %d bytes, %v", i, len(reply), err)
		}
	}
}

func TestResponseControllerDeadlines(t *testing.T) {
	errs := make(chan error, 1)
	reading := make(chan struct{}, 1) // /extend is about to read its body
	s := serve(t, &Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		switch r.URL.Path {
		case "/read":
			if err := rc.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
				errs <- err
				return
			}
			_, err := io.ReadAll(r.Body)
			errs <- err
			io.WriteString(w, "read failed")
		case "/write":
			if err := rc.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
				errs <- err
				return
			}
			w.Write(bytes.Repeat([]byte("w"), 64<<10))
			errs <- rc.Flush()
		case "/extend":
			rc.SetReadDeadline(time.Now().Add(-time.Second))
			rc.SetReadDeadline(time.Now().Add(wait)) // moved again: reads work
			reading <- struct{}{}
			b, err := io.ReadAll(r.Body)
			errs <- err
			w.Write(b)
		}
	})})

	t.Run("read", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
		if err := recv(t, errs, "the body read"); !isTimeout(err) {
			t.Fatalf("body read: %v, want a timeout", err)
		}
		br := bufio.NewReader(c)
		resp, body := readResponse(t, br, "POST")
		if body != "read failed" || !resp.Close {
			t.Fatalf("%s %q", resp.Status, body)
		}
		expectClosed(t, c, br)
	})
	t.Run("write", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "GET /write HTTP/1.1\r\nHost: x\r\n\r\n")
		if err := recv(t, errs, "the flush"); !isTimeout(err) {
			t.Fatalf("flush: %v, want a timeout", err)
		}
		io.Copy(io.Discard, c) // whatever got out, then the close
	})
	t.Run("extend", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "POST /extend HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
		recv(t, reading, "the handler's read") // the body arrives after the deadline moved twice
		write(t, c, "hello")
		if err := recv(t, errs, "the body read"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		if _, body := readResponse(t, br, "POST"); body != "hello" {
			t.Fatal(body)
		}
	})
}

func TestAccessLog(t *testing.T) {
	records := make(chan map[string]slog.Value, 10)
	s := serve(t, &Server{AccessLog: slog.New(recordHandler{records}), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "hello")
	})})
	tests := []struct {
		req, wantRequest string
		status           int64
		size             int64
	}{
		{"GET /ok?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "GET /ok?x=1 HTTP/1.1", 200, 5},
		{"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", "GET /missing HTTP/1.1", 404, 19},
		{"HEAD /ok HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /ok HTTP/1.1", 200, 0},
		{"GET /ok HTTP/1.0\r\n\r\n", "GET /ok HTTP/1.0", 200, 5},
	}
	for _, tt := range tests {
		t.Run(tt.wantRequest, func(t *testing.T) {
			before := time.Now()
			resp, _, _, _ := roundTrip(t, s, tt.req, strings.Fields(tt.wantRequest)[0])
			if int64(resp.StatusCode) != tt.status {
				t.Fatal(resp.Status)
			}
			rec := recv(t, records, "the access log record")
			if rec["msg"].String() != "request" {
				t.Errorf("message %q", rec["msg"])
			}
			if got := rec["client"].String(); got != "127.0.0.1" {
				t.Errorf("client %q", got)
			}
			if got := rec["request"].String(); got != tt.wantRequest {
				t.Errorf("request %q", got)
			}
			if got := rec["status"]; got.Kind() != slog.KindInt64 || got.Int64() != tt.status {
				t.Errorf("status %v", got)
			}
			if got := rec["size"]; got.Kind() != slog.KindInt64 || got.Int64() != tt.size {
				t.Errorf("size %v, want %d", got, tt.size)
			}
			if got := rec["date"]; got.Kind() != slog.KindTime || got.Time().Before(before.Add(-time.Second)) || got.Time().After(time.Now()) {
				t.Errorf("date %v", got)
			}
			if got := rec["duration"]; got.Kind() != slog.KindDuration || got.Duration() < 0 || got.Duration() > wait {
				t.Errorf("duration %v", got)
			}
		})
	}
}

// TestMinChunkSize: small unflushed writes leave in chunks of at least
// MinChunkSize bytes.
func TestMinChunkSize(t *testing.T) {
	for _, tt := range []struct {
		min, pieces int
	}{{0, 100}, {1000, 55}, {300, 7}} {
		t.Run(strconv.Itoa(tt.min), func(t *testing.T) {
			s := serve(t, &Server{MinChunkSize: tt.min, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				piece := bytes.Repeat([]byte("p"), 100)
				for range tt.pieces {
					w.Write(piece)
				}
			})})
			min := tt.min
			if min == 0 {
				min = DefaultMinChunkSize
			}
			c := s.dial(t)
			write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ContentLength >= 0 {
				t.Fatalf("Content-Length %d for a body longer than MinChunkSize", resp.ContentLength)
			}
			// Read the chunked framing by hand.
			tp := textproto.NewReader(br)
			var sizes []int
			total := 0
			for {
				line, err := tp.ReadLine()
				if err != nil {
					t.Fatal(err)
				}
				n, err := strconv.ParseInt(line, 16, 32)
				if err != nil {
					t.Fatalf("chunk size line %q", line)
				}
				if n == 0 {
					break
				}
				sizes = append(sizes, int(n))
				total += int(n)
				if _, err := br.Discard(int(n) + 2); err != nil {
					t.Fatal(err)
				}
			}
			if total != 100*tt.pieces {
				t.Fatalf("total %d", total)
			}
			for i, n := range sizes[:len(sizes)-1] {
				if n < min {
					t.Fatalf("chunk %d of %d bytes, smaller than %d: %v", i, n, min, sizes)
				}
			}
		})
	}
}

func TestDateAndContentType(t *testing.T) {
	s := serve(t, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			w.Header().Set("Content-Type", "application/x-mine")
		case "/none":
			w.Header()["Content-Type"] = nil // net/http's way to suppress sniffing
		case "/nobody":
			return
		case "/big":
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
			w.Write(bytes.Repeat([]byte{0}, 3*DefaultMinChunkSize))
			return
		}
		io.WriteString(w, "<!DOCTYPE html><html><p>hi</p></html>")
	})})
	cl := client(t)
	for _, tt := range []struct{ path, want string }{
		{"/sniff", "text/html; charset=utf-8"},
		{"/set", "application/x-mine"},
		{"/none", ""},
		{"/nobody", ""},
		{"/big", "image/png"},
	} {
		resp, _ := get(t, cl, s.url+tt.path)
		if got := resp.Header.Get("Content-Type"); got != tt.want {
			t.Errorf("%s: Content-Type %q, want %q", tt.path, got, tt.want)
		}
		if n := len(resp.Header.Values("Content-Type")); n > 1 {
			t.Errorf("%s: %d Content-Types", tt.path, n)
		}
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || !strings.HasSuffix(resp.Header.Get("Date"), " GMT") {
			t.Fatalf("%s: Date %q: %v", tt.path, resp.Header.Get("Date"), err)
		}
		if diff := time.Since(d); diff < -2*time.Second || diff > 2*time.Second {
			t.Errorf("%s: Date %v is %v from now", tt.path, d, diff)
		}
	}
}

// TestBodyDrain: a body the handler left unread is drained when short, and
// closes the connection when long.
func TestBodyDrain(t *testing.T) {
	s := serve(t, &Server{MaxDrainBytes: 1000, Handler: okHandler})
	t.Run("short", func(t *testing.T) {
		_, body, c, br := roundTrip(t, s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"+strings.Repeat("a", 500), "POST")
		if body != "ok" {
			t.Fatal(body)
		}
		expectOpen(t, c, br)
	})
	t.Run("long", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
		br := bufio.NewReader(c)
		resp, _ := readResponse(t, br, "POST")
		if !resp.Close {
			t.Fatal("no Connection: close for a body left unread")
		}
		expectClosed(t, c, br)
	})
}

// TestIdleTimeout: an idle keep-alive connection is closed after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	s := serve(t, &Server{IdleTimeout: 200 * time.Millisecond, Handler: okHandler})
	_, _, c, br := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	start := time.Now()
	expectClosed(t, c, br)
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about 200ms", d)
	}
}

// TestWatcherKeepsNextRequest: a handler that waits on its context has the
// connection watched; the next request's first byte, read by the watcher,
// is not lost.
func TestWatcherKeepsNextRequest(t *testing.T) {
	h := hub.New()
	watching := make(chan struct{}, 10)
	s, _ := serveOn(t, h, &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond) // starts the watcher
		defer cancel()
		watching <- struct{}{}
		greensync.WaitContext(h, ctx)
		if r.Context().Err() != nil {
			t.Errorf("%s: the request's context ended: %v", r.URL.Path, context.Cause(r.Context()))
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.URL.Path, b)
	})})
	c := s.dial(t)
	br := bufio.NewReader(c)
	reqs := []string{
		"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ndef\r\n0\r\n\r\n",
		"GET /4 HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	write(t, c, reqs[0])
	for i := range reqs {
		recv(t, watching, "the handler")
		if i+1 < len(reqs) {
			write(t, c, reqs[i+1]) // while the watcher reads the socket
		}
	}
	for _, want := range []string{"/1 ", "/2 abc", "/3 def", "/4 "} {
		if resp, body := readResponse(t, br, "GET"); body != want {
			t.Fatalf("%s %q, want %q", resp.Status, body, want)
		}
	}
}

// TestPool: the pool bounds the connections served at once; Accept waits for
// a slot, and Close ends a Serve that waits.
func TestPool(t *testing.T) {
	h := hub.New()
	s, serveErr := serveOn(t, h, &Server{Pool: greenpool.New(h, 1), Handler: okHandler})
	_, _, first, firstBR := roundTrip(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	second := s.dial(t)
	write(t, second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	second.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); n > 0 || !isTimeout(err) {
		t.Fatalf("a second connection served by a pool of 1: %d, %v", n, err)
	}
	second.SetReadDeadline(time.Now().Add(wait))
	first.Close() // frees the slot
	secondBR := bufio.NewReader(second)
	if _, body := readResponse(t, secondBR, "GET"); body != "ok" {
		t.Fatal(body)
	}
	_ = firstBR
	// The pool is full again; Serve waits for a slot and Close ends it.
	third := s.dial(t)
	write(t, third, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := s.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, serveErr, "Serve"); !errors.Is(err, ErrServerClosed) {
		t.Fatal(err)
	}
	expectClosed(t, second, secondBR)
}

func TestBaseContext(t *testing.T) {
	type key struct{}
	got := make(chan any, 1)
	s := serve(t, &Server{
		BaseContext: func(l net.Listener) context.Context {
			return context.WithValue(context.Background(), key{}, l.Addr().String())
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Context().Value(key{}) }),
	})
	get(t, client(t), s.url)
	if v := recv(t, got, "the handler"); v != s.addr {
		t.Fatalf("context value %v, want %s", v, s.addr)
	}
}

func TestTimeouts(t *testing.T) {
	errs := make(chan error, 1)
	s := serve(t, &Server{
		ReadTimeout:  300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond,
		ErrorLog:     discardLog,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/read" {
				_, err := io.ReadAll(r.Body)
				errs <- err
				return
			}
			chunk := bytes.Repeat([]byte("w"), 64<<10)
			for range 1000 { // 64 MB: far beyond the socket buffers
				if _, err := w.Write(chunk); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}),
	})
	t.Run("read", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nsome")
		start := time.Now()
		if err := recv(t, errs, "the body read"); !isTimeout(err) {
			t.Fatalf("body read: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("ReadTimeout hit after %v", d)
		}
	})
	t.Run("write", func(t *testing.T) {
		c := s.dial(t)
		write(t, c, "GET /write HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
		if err := recv(t, errs, "the write"); !isTimeout(err) {
			t.Fatalf("write: %v", err)
		}
		c.Close()
	})
}

// TestFraming: how the server frames what the handler writes.
func TestFraming(t *testing.T) {
	werr := make(chan error, 10)
	s := serve(t, &Server{ErrorLog: discardLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", strconv.Itoa(3*DefaultMinChunkSize))
			w.Write(bytes.Repeat([]byte("d"), 3*DefaultMinChunkSize))
		case "/short":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "12345")
		case "/long":
			w.Header().Set("Content-Length", "3")
			_, err := io.WriteString(w, "12345")
			werr <- err
			io.WriteString(w, "123")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
			_, err := io.WriteString(w, "body")
			werr <- err
		case "/bigone":
			w.Write([]byte("<html>" + strings.Repeat(" ", 3*DefaultMinChunkSize)))
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			io.WriteString(w, "ok")
		}
	})})
	type want struct {
		status        int
		contentLength int64
		chunked, keep bool
		body          string
	}
	tests := []struct {
		req  string
		want want
	}{
		{"GET /declared HTTP/1.1\r\nHost: x\r\n\r\n", want{200, 3 * DefaultMinChunkSize, false, true, strings.Repeat("d", 3*DefaultMinChunkSize)}},
		{"GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n", want{204, 0, false, true, ""}},
		{"GET /bigone HTTP/1.1\r\nHost: x\r\n\r\n", want{200, -1, true, true, "<html>" + strings.Repeat(" ", 3*DefaultMinChunkSize)}},
		{"GET /close HTTP/1.1\r\nHost: x\r\n\r\n", want{200, 3, false, false, "bye"}},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", want{200, 2, false, false, "ok"}},
		{"GET /long HTTP/1.1\r\nHost: x\r\n\r\n", want{200, 3, false, true, "123"}},
	}
	for _, tt := range tests {
		resp, body, c, br := roundTrip(t, s, tt.req, "GET")
		got := want{resp.StatusCode, resp.ContentLength, len(resp.TransferEncoding) > 0, !resp.Close, body}
		if got != tt.want {
			t.Errorf("%q: got %+v, want %+v", strings.SplitN(tt.req, "\r", 2)[0], got, tt.want)
			continue
		}
		if strings.Contains(tt.req, "/bigone") && resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("one big write: Content-Type %q", resp.Header.Get("Content-Type"))
		}
		if strings.Contains(tt.req, "/long") {
			if err := recv(t, werr, "the handler"); !errors.Is(err, http.ErrContentLength) {
				t.Errorf("writing beyond Content-Length: %v", err)
			}
		}
		if strings.Contains(tt.req, "/nocontent") {
			if resp.Header.Get("Content-Length") != "" || resp.Header.Get("Content-Type") != "" {
				t.Errorf("204 with %v", resp.Header)
			}
			if err := recv(t, werr, "the handler"); !errors.Is(err, http.ErrBodyNotAllowed) {
				t.Errorf("writing a 204's body: %v", err)
			}
		}
		if got.keep {
			expectOpen(t, c, br)
		} else {
			expectClosed(t, c, br)
		}
	}
	// A body shorter than its declared length: the client is told by the close.
	c := s.dial(t)
	write(t, c, "GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
	raw, _ := io.ReadAll(c)
	if !bytes.HasSuffix(raw, []byte("\r\n\r\n12345")) || !bytes.Contains(raw, []byte("Content-Length: 10\r\n")) {
		t.Errorf("short body: %q", raw)
	}
	// DisableKeepAlives.
	s2 := serve(t, &Server{DisableKeepAlives: true, Handler: okHandler})
	resp, _, c2, br2 := roundTrip(t, s2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if !resp.Close {
		t.Errorf("DisableKeepAlives: no Connection: close")
	}
	expectClosed(t, c2, br2)
}
