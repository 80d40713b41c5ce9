package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chunkedBody hides its length, so the client sends it chunked.
type chunkedBody struct{ io.Reader }

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	big := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	tests := []struct {
		name     string
		method   string
		path     string
		body     io.Reader
		wantCode int
		wantBody []byte
		wantType string
	}{
		{name: "hello", method: "GET", path: "/hello", wantCode: 200, wantBody: []byte("Hello, World!"), wantType: "text/plain"},
		{name: "echo", method: "POST", path: "/echo", body: strings.NewReader("ping"), wantCode: 200, wantBody: []byte("ping")},
		{name: "echo empty", method: "POST", path: "/echo", body: strings.NewReader(""), wantCode: 200, wantBody: []byte{}},
		{name: "echo chunked", method: "POST", path: "/echo", body: chunkedBody{bytes.NewReader(big)}, wantCode: 200, wantBody: big},
		{name: "stream 3", method: "GET", path: "/stream?n=3", wantCode: 200, wantBody: bytes.Repeat([]byte("x"), 3072)},
		{name: "stream 0", method: "GET", path: "/stream?n=0", wantCode: 200, wantBody: []byte{}},
		{name: "stream bad n", method: "GET", path: "/stream?n=x", wantCode: 400},
		{name: "stream negative n", method: "GET", path: "/stream?n=-1", wantCode: 400},
		{name: "hello by POST", method: "POST", path: "/hello", body: strings.NewReader(""), wantCode: 405},
		{name: "unknown route", method: "GET", path: "/nope", wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.wantCode, got)
			}
			if tt.wantBody != nil && !bytes.Equal(got, tt.wantBody) {
				t.Errorf("body is %d bytes %.40q…, want %d bytes %.40q…", len(got), got, len(tt.wantBody), tt.wantBody)
			}
			if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.wantType)
			}
		})
	}
}

// TestStreamFlushesEachChunk reads /stream?n=3 off the wire: each 1 KiB
// chunk must be a chunk of its own (a flush each), not coalesced by the
// response's buffer.
func TestStreamFlushesEachChunk(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /stream?n=3 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
	// resp.Body would decode the chunks; read them raw from br instead.
	var sizes []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		size := strings.TrimSpace(line)
		sizes = append(sizes, size)
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil {
			t.Fatalf("chunk size line %q", line)
		}
		if _, err := io.CopyN(io.Discard, br, n+2); err != nil { // data and CRLF
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if got := strings.Join(sizes, " "); got != "400 400 400 0" {
		t.Errorf("chunk sizes (hex) %s, want 400 400 400 0", got)
	}
}
