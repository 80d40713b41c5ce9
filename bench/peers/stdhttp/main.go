// Command stdhttp is the net/http server the HTTP comparison measures
// greenhub's greenhttp against: http.Server with its goroutine per
// connection, serving the three routes every server of the comparison
// serves:
//
//	GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
//	POST /echo        200, the request body back (chunked request bodies too)
//	GET  /stream?n=N  200, N chunks of 1 KiB, each flushed
//
// Set GOMAXPROCS in its environment to compare one thread with many:
//
//	GOMAXPROCS=1 go run ./bench/peers/stdhttp -addr 127.0.0.1:8081
//
// It exits 0 on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen `address` (loopback)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stdhttp:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		os.Exit(0)
	}()
	if err := http.Serve(ln, handler()); err != nil {
		fmt.Fprintln(os.Stderr, "stdhttp:", err)
		os.Exit(1)
	}
}

var (
	hello = []byte("Hello, World!")
	chunk = bytes.Repeat([]byte("x"), 1024)
)

// maxStream bounds /stream's n, so a typo cannot stream for ever.
const maxStream = 1 << 20

// handler serves the comparison's three routes.
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{"13"}
		w.Write(hello)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > maxStream {
			http.Error(w, "want /stream?n=N with 0 <= N <= 1048576", http.StatusBadRequest)
			return
		}
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		rc := http.NewResponseController(w)
		for range n {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
	return mux
}
