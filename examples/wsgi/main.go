// Command wsgi is Glance's API server on greenhttp: a small image registry
// served the way Glance's Server.start serves its WSGI app,
// eventlet.wsgi.server(sock, app, custom_pool=GreenPool(1000)).
//
//	GET    /v2/images            the images: {"images": [...]}
//	POST   /v2/images            {"name": "..."} → 201, a new record, status "queued"
//	GET    /v2/images/{id}       the record; 404 if unknown
//	PUT    /v2/images/{id}/file  the image's data, streamed to a file → 200, status "active";
//	                             409 if already uploaded, 413 past -max-image
//	GET    /v2/images/{id}/file  the data, with Content-Length (204 while none was uploaded)
//	DELETE /v2/images/{id}       the record and its file → 204
//
// A record is {"id", "name", "size", "checksum" (hex SHA-256), "status",
// "created_at"}; size and checksum are null until the data is uploaded.
//
//	go run ./examples/wsgi -addr 127.0.0.1:8080
//	go run ./examples/wsgi -trace wsgi.json   # and a Chrome trace of the run
//
// The records live in memory; the data lives in files under -data (by
// default a new temporary directory, removed at exit). Handlers run on the
// hub's thread and never block it: every file operation goes through
// h.Offload (eventlet's tpool), in buffers of 64 KiB.
//
// eventlet.wsgi.server's options are flags, mapped to greenhttp.Server's
// fields: -keepalive (DisableKeepAlives), -socket-timeout (IdleTimeout),
// -header-timeout (ReadHeaderTimeout), -url-length-limit (MaxURLLength),
// -max-header-bytes (MaxHeaderBytes), -minimum-chunk-size (MinChunkSize),
// -access-log (AccessLog: slog text on stderr); a timeout of 0 means none.
//
// SIGINT or SIGTERM stops accepting and lets the requests in flight finish
// (uploads included) for up to -drain; then the connections left are closed
// and the program exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// config is the command line.
type config struct {
	addr     string
	pool     int
	data     string
	maxImage int64
	drain    time.Duration

	// eventlet.wsgi.server's options.
	keepalive      bool
	socketTimeout  time.Duration
	headerTimeout  time.Duration
	urlLengthLimit int
	maxHeaderBytes int
	minChunkSize   int
	accessLog      bool

	trace *tracing.Trace
}

// parseFlags reads the command line; errors are written to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wsgi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "TCP address to listen on")
	fs.IntVar(&c.pool, "pool", greenhttp.DefaultPoolSize, "most connections served at once (eventlet's custom_pool=GreenPool(n)); further accepts wait")
	fs.StringVar(&c.data, "data", "", "directory for the images' data (default: a new temporary directory, removed at exit)")
	fs.Int64Var(&c.maxImage, "max-image", 1<<30, "largest image in bytes (413 beyond it)")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "on SIGINT/SIGTERM, how long requests in flight may finish before their connections are closed")
	fs.BoolVar(&c.keepalive, "keepalive", true, "keep connections open between requests (eventlet's keepalive)")
	fs.DurationVar(&c.socketTimeout, "socket-timeout", greenhttp.DefaultIdleTimeout, "how long a keep-alive connection may wait for its next request (eventlet's socket_timeout); 0 means no limit")
	fs.DurationVar(&c.headerTimeout, "header-timeout", greenhttp.DefaultReadHeaderTimeout, "how long a request's line and headers may take to arrive; 0 means no limit")
	fs.IntVar(&c.urlLengthLimit, "url-length-limit", greenhttp.DefaultMaxURLLength, "longest request target (414 beyond it; eventlet's url_length_limit)")
	fs.IntVar(&c.maxHeaderBytes, "max-header-bytes", greenhttp.DefaultMaxHeaderBytes, "largest request line and headers together (431 beyond it)")
	fs.IntVar(&c.minChunkSize, "minimum-chunk-size", greenhttp.DefaultMinChunkSize, "smallest chunk of a streamed response (eventlet's minimum_chunk_size)")
	fs.BoolVar(&c.accessLog, "access-log", true, "log every request to stderr (eventlet's log)")
	c.trace = tracing.Register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	for _, v := range []struct {
		name string
		ok   bool
	}{
		{"-pool must be at least 1", c.pool >= 1},
		{"-max-image must be at least 1", c.maxImage >= 1},
		{"-drain must not be negative", c.drain >= 0},
		{"-socket-timeout must not be negative", c.socketTimeout >= 0},
		{"-header-timeout must not be negative", c.headerTimeout >= 0},
		{"-url-length-limit must be at least 1", c.urlLengthLimit >= 1},
		{"-max-header-bytes must be at least 1", c.maxHeaderBytes >= 1},
		{"-minimum-chunk-size must be at least 1", c.minChunkSize >= 1},
	} {
		if !v.ok {
			bad = append(bad, v.name)
		}
	}
	if len(bad) > 0 {
		err := errors.New("wsgi: " + strings.Join(bad, "; "))
		fmt.Fprintln(stderr, err)
		return c, err
	}
	return c, nil
}

// server is the greenhttp.Server the flags describe. Its Pool is set once
// the hub runs.
func (c config) server(handler http.Handler, logger *slog.Logger) *greenhttp.Server {
	srv := &greenhttp.Server{
		Handler:           handler,
		DisableKeepAlives: !c.keepalive,
		IdleTimeout:       orNone(c.socketTimeout),
		ReadHeaderTimeout: orNone(c.headerTimeout),
		MaxURLLength:      c.urlLengthLimit,
		MaxHeaderBytes:    c.maxHeaderBytes,
		MinChunkSize:      c.minChunkSize,
		ErrorLog:          logger,
	}
	if c.accessLog {
		srv.AccessLog = logger
	}
	return srv
}

// orNone maps a flag's timeout, where 0 means none, to greenhttp's, where 0
// means the default and a negative value none.
func orNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// run is the program; it returns the exit status.
func run(args []string, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	dir := cfg.data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "greenhub-wsgi-"); err != nil {
			logger.Error("wsgi: data directory", "err", err)
			return 1
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		logger.Error("wsgi: data directory", "err", err)
		return 1
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	traceOpts, err := cfg.trace.Start(1)
	if err != nil {
		logger.Error("wsgi: exiting", "err", err)
		return 1
	}
	h := hub.New(append(traceOpts, hub.WithLogger(logger))...)
	reg := newRegistry(h, dir, cfg.maxImage, logger)
	srv := cfg.server(named(h, reg.routes()), logger)
	err = h.Run(func() error {
		greenthread.Current(h).G().SetName("serve") // the trace's lanes are named
		l, err := netio.Listen(h, "tcp", cfg.addr)
		if err != nil {
			return err
		}
		srv.Pool = greenpool.New(h, cfg.pool)
		logger.Info("wsgi: listening", "addr", l.Addr().String(), "data", dir, "pool", cfg.pool)

		// A signal stops the server from its own goroutine (Shutdown runs
		// on the hub); main waits for the drain to end before returning,
		// since Run kills what is left when main returns. The goroutine
		// starts from a green thread, which runs only once Serve has parked
		// in Accept, so its Shutdown can never come before Serve has bound
		// the server to the hub (a Shutdown before that would be lost).
		drained := make(chan error, 1)
		quit := make(chan struct{})
		defer close(quit)
		greenthread.SpawnN(h, func() {
			greenthread.Current(h).G().SetName("signals")
			go func() {
				select {
				case sig := <-sigs:
					drained <- drain(srv, cfg.drain, sig, logger)
				case <-quit:
				}
			}()
		})
		if err := srv.Serve(l); !errors.Is(err, greenhttp.ErrServerClosed) {
			return err
		}
		err, _, rerr := greensync.Recv(h, drained)
		return errors.Join(err, rerr)
	})
	// The hub has ended: the registry is run's alone now.
	reg.removePartial()
	err = errors.Join(err, cfg.trace.Close())
	if err != nil {
		logger.Error("wsgi: exiting", "err", err)
		return 1
	}
	logger.Info("wsgi: shutdown complete")
	return 0
}

// named names the green thread of each request's connection after the
// client ("conn 127.0.0.1:50312"), for the trace's lanes.
func named(h *hub.Hub, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		greenthread.Current(h).G().SetName("conn " + r.RemoteAddr)
		next.ServeHTTP(w, r)
	})
}

// drain stops srv gracefully, for up to d, then closes what is left. It
// runs on the signal's goroutine.
func drain(srv *greenhttp.Server, d time.Duration, sig os.Signal, logger *slog.Logger) error {
	logger.Info("wsgi: signal received; draining", "signal", sig.String(), "drain", d.String())
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("wsgi: drain period over; closing the remaining connections")
		return srv.Close()
	}
	return err
}
