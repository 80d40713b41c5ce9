// Command hello is the HTTP benchmark's server on greenhttp: the routes
// (routes, at the end of this file) fit in one screen; service.go runs them
// on several hubs and processes. Every server of the comparison serves these
// routes:
//
//	GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
//	POST /echo        200, the request body (chunked ones too)
//	GET  /stream?n=N  200, N chunks of 1 KiB, each flushed
//
// go run ./examples/hello -addr 127.0.0.1:8080; SIGINT or SIGTERM drains
// (for up to 5s, then the connections left are closed and the exit status
// is 1); a second one closes them at once.
//
// -hubs N runs N hubs (0: one per CPU), each with its own greenhttp.Server,
// greenpool (of -pool: the pool is per hub) and SO_REUSEPORT listener, so that
// the kernel spreads the connections among them; -workers N runs N worker
// processes of -hubs hubs each, whose every hub has its own SO_REUSEPORT
// listener on the port the parent holds (see examples/echo, whose structure
// this is: a service.Service started by service.Launch, hub 0 the
// launcher's, hubs 1..N-1 a hub.Group reached with greensync.CallHub).
// -trace FILE writes a Chrome trace of every hub's run (each worker its
// own, FILE.w<index>).
package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/examples/internal/reserve"
	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// drainTimeout bounds the graceful stop (the launcher's drain bound).
const drainTimeout = 5 * time.Second

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "TCP address to listen on")
	pool := fs.Int("pool", greenhttp.DefaultPoolSize, "most connections each hub serves at once")
	hubs := fs.Int("hubs", 1, "hubs (OS threads) per process, each with its own server and SO_REUSEPORT listener; 0 = one per CPU")
	workers := fs.Int("workers", 1, "processes: more than 1 runs that many worker processes of -hubs hubs each")
	trace := tracing.Register(fs)
	if err := fs.Parse(args); err != nil || *pool < 1 || *hubs < 0 || *workers < 1 || fs.NArg() > 0 {
		return 2
	}
	if *hubs == 0 {
		*hubs = runtime.NumCPU()
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	svc := &helloService{addr: *addr, pool: *pool, hubs: *hubs, workers: *workers, log: logger}
	var files []*os.File
	if *workers > 1 {
		role, err := reserve.Workers(*addr)
		if err != nil {
			logger.Error("hello: exiting", "err", err)
			if errors.Is(err, service.ErrNoRespawn) {
				return service.ExitNoRespawn
			}
			return 1
		}
		defer role.Close()
		svc.addr, files = role.Addr, role.Files
		if role.Worker {
			svc.log = logger.With("worker", role.Index)
		} else {
			logger.Info("hello: listening", "addr", role.Addr, "workers", *workers, "hubs", *hubs)
		}
	}
	traceOpts, err := trace.Start(*workers)
	if err != nil {
		logger.Error("hello: exiting", "err", err)
		return 1
	}
	defer trace.Close() // on the early returns; Close after Wait reports its error
	svc.hubOpts = append(traceOpts, hub.WithLogger(svc.log))
	l, err := service.Launch(svc, *workers, service.Options{
		Logger:       svc.log,
		DrainTimeout: drainTimeout,
		HubOptions:   svc.hubOpts,
	}, files...)
	if err != nil {
		logger.Error("hello: exiting", "err", err)
		return 1
	}
	status := l.Wait()
	svc.shutdown()
	if err := trace.Close(); err != nil {
		logger.Error("hello: writing the trace", "err", err)
		return max(status, 1) // a trace cut short is a failure
	}
	return status
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
