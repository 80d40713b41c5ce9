package greenhttp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// helloHandler is the benchmark's GET /hello.
var helloHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "Hello, World!")
})

// benchHello sends b.N keep-alive GET /hello requests, one at a time, over
// one raw connection to addr. The client allocates nothing per request, so
// -benchmem's allocs/op are the server's.
func benchHello(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")
	br := bufio.NewReader(c)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if err := readHello(br); err != nil {
			b.Fatal(err)
		}
	}
}

// readHello reads one response with a Content-Length body without
// allocating.
func readHello(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 0 {
		return errors.New("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}

// BenchmarkHelloGreenhttp is one keep-alive hello-world request on a
// greenhttp server; its baseline is BenchmarkHelloNetHTTP, the same
// request on net/http in the same run.
func BenchmarkHelloGreenhttp(b *testing.B) {
	s := serve(b, &Server{Handler: helloHandler})
	benchHello(b, s.addr)
}

// BenchmarkHelloNetHTTP is BenchmarkHelloGreenhttp's baseline: net/http's
// Server.
func BenchmarkHelloNetHTTP(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: helloHandler}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	defer func() { srv.Close(); <-done }()
	benchHello(b, l.Addr().String())
}
