// Command hello is the HTTP benchmark's server on greenhttp, small enough to
// read in one screen. Every server of the comparison serves these routes:
//
//	GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
//	POST /echo        200, the request body (chunked ones too)
//	GET  /stream?n=N  200, N chunks of 1 KiB, each flushed
//
// go run ./examples/hello -addr 127.0.0.1:8080; SIGINT or SIGTERM drains.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "TCP address to listen on")
	pool := fs.Int("pool", greenhttp.DefaultPoolSize, "most connections served at once")
	if err := fs.Parse(args); err != nil || *pool < 1 {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	h := hub.New(hub.WithLogger(logger))
	srv := &greenhttp.Server{Handler: routes()}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", *addr)
		if err != nil {
			return err
		}
		srv.Pool = greenpool.New(h, *pool)
		logger.Info("hello: listening", "addr", l.Addr().String())
		// A signal stops the server from its own goroutine (Shutdown runs
		// on the hub); main waits for the drain to end before returning,
		// since Run kills what is left when main returns.
		drained := make(chan error, 1)
		go func() {
			<-sigs
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			drained <- srv.Shutdown(ctx)
		}()
		if err := srv.Serve(l); !errors.Is(err, greenhttp.ErrServerClosed) {
			return err
		}
		err, _, rerr := greensync.Recv(h, drained)
		return errors.Join(err, rerr)
	})
	if err != nil {
		logger.Error("hello: exiting", "err", err)
		return 1
	}
	return 0
}

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		chunk := make([]byte, 1024)
		for i := range chunk {
			chunk[i] = 'a' + byte(i%26)
		}
		for range n {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
		}
	})
	return mux
}
