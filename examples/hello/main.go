// Command hello is the HTTP benchmark's server on greenhttp, small enough to
// read in one screen. Every server of the comparison serves these routes:
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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/examples/internal/reserve"
	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
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
		index, inherited, isWorker := service.Worker()
		switch {
		case isWorker && len(inherited) == 1:
			var err error
			svc.log = logger.With("worker", index)
			if svc.addr, err = reserve.Addr(inherited[0], *addr); err != nil {
				svc.log.Error("hello: the parent's socket", "err", err)
				return service.ExitNoRespawn
			}
		case isWorker:
			logger.Error("hello: a worker needs the parent's socket", "files", len(inherited))
			return service.ExitNoRespawn
		default:
			f, at, err := reserve.Reserve(*addr)
			if err != nil {
				logger.Error("hello: exiting", "err", err)
				return 1
			}
			defer f.Close()
			files = []*os.File{f}
			logger.Info("hello: listening", "addr", at, "workers", *workers, "hubs", *hubs)
		}
	}
	l, err := service.Launch(svc, *workers, service.Options{
		Logger:       svc.log,
		DrainTimeout: drainTimeout,
		HubOptions:   []hub.Option{hub.WithLogger(svc.log)},
	}, files...)
	if err != nil {
		logger.Error("hello: exiting", "err", err)
		return 1
	}
	status := l.Wait()
	svc.shutdown()
	return status
}

// helloService serves the routes with one greenhttp.Server per hub. Its
// methods run on hub 0, the launcher's.
type helloService struct {
	addr                string // hub 0's: -addr, or in a worker the parent's
	pool, hubs, workers int
	log                 *slog.Logger
	cur                 *helloRun
}

// helloRun is one Start of the service.
type helloRun struct {
	h0      *hub.Hub
	hubs    []*hub.Hub
	servers []*greenhttp.Server

	group       *hub.Group    // hubs 1..N-1
	groupErr    error         // the group's Run result, set before groupExited closes
	groupExited chan struct{} // closed when the group's Run has returned
	end         chan struct{} // closed to end the group's hubs
	ended       bool

	stopping bool
	cancel   context.CancelFunc // ends a graceful Shutdown
	err      error              // a Serve that failed
	done     *greensync.Event[struct{}]
}

// Start listens and serves on every hub.
func (s *helloService) Start(h *hub.Hub) error {
	n := s.hubs
	r := &helloRun{h0: h, hubs: []*hub.Hub{h}, servers: make([]*greenhttp.Server, n),
		end: make(chan struct{}), done: greensync.NewEvent[struct{}](h)}
	s.cur = r
	l0, err := s.listen(h, s.addr)
	if err != nil {
		r.finish()
		return err
	}
	r.servers[0] = s.server(h)
	if n > 1 {
		addr := l0.Addr().String()
		if host, _, _ := net.SplitHostPort(s.addr); host == "" {
			_, port, _ := net.SplitHostPort(addr)
			addr = ":" + port // a wildcard stays a wildcard
		}
		r.group = hub.NewGroup(n-1, hub.WithLogger(s.log))
		r.hubs = append(r.hubs, r.group.Hubs()...)
		for i := 1; i < n; i++ {
			r.servers[i] = s.server(r.hubs[i])
		}
		ready := make(chan error, n-1)
		r.groupExited = make(chan struct{})
		go func() {
			defer close(r.groupExited)
			r.groupErr = r.group.Run(func(h *hub.Hub, i int) error {
				l, err := s.listen(h, addr)
				ready <- err
				if err == nil {
					r.serve(r.servers[i+1], l)
				}
				greensync.Recv(h, r.end) // until the service ends
				return nil
			})
		}()
		var errs []error
		for range n - 1 {
			err, _, rerr := greensync.Recv(h, ready)
			errs = append(errs, err, rerr)
		}
		if err := errors.Join(errs...); err != nil {
			l0.Close()
			r.onHubs(func(srv *greenhttp.Server) error { return srv.Close() })
			r.finish()
			return err
		}
	}
	greenthread.SpawnN(h, func() { r.serve(r.servers[0], l0) })
	s.log.Info("hello: listening", "addr", l0.Addr().String(), "hubs", n)
	return nil
}

// listen returns a hub's listener: with SO_REUSEPORT when there are several.
func (s *helloService) listen(h *hub.Hub, addr string) (*netio.Listener, error) {
	lc := netio.ListenConfig{ReusePort: s.hubs > 1 || s.workers > 1}
	return lc.Listen(h, "tcp", addr)
}

// server returns a hub's server, with its own pool.
func (s *helloService) server(h *hub.Hub) *greenhttp.Server {
	return &greenhttp.Server{Handler: routes(), Pool: greenpool.New(h, s.pool)}
}

// serve runs srv on l until it is shut down; any other end stops the
// service. On srv's hub.
func (r *helloRun) serve(srv *greenhttp.Server, l *netio.Listener) {
	err := srv.Serve(l)
	if errors.Is(err, greenhttp.ErrServerClosed) {
		return
	}
	r.h0.Submit(func() {
		r.err = errors.Join(r.err, err)
		if !r.stopping {
			greenthread.SpawnN(r.h0, func() { r.stop(false) })
		}
	})
}

// Stop shuts every hub's server down: gracefully (greenhttp's Shutdown,
// which the launcher bounds), or at once (Close).
func (s *helloService) Stop(graceful bool) error {
	if s.cur == nil {
		return nil
	}
	return s.cur.stop(graceful)
}

func (r *helloRun) stop(graceful bool) error {
	first := !r.stopping
	r.stopping = true
	var err error
	if graceful {
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		err = r.onHubs(func(srv *greenhttp.Server) error { return srv.Shutdown(ctx) })
		if errors.Is(err, context.Canceled) {
			err = nil // a forced stop took over
		}
	} else {
		if r.cancel != nil {
			r.cancel()
		}
		r.onHubs(func(srv *greenhttp.Server) error { return srv.Close() })
		if !first {
			return nil // the graceful stop under way ends the service
		}
	}
	r.finish()
	return err
}

// onHubs runs f on every hub's server at once, each on its own hub (a
// server's Shutdown called from another hub's green thread would block
// that hub's thread), and waits for them all.
func (r *helloRun) onHubs(f func(srv *greenhttp.Server) error) error {
	calls := make([]*greenthread.Thread[struct{}], len(r.hubs))
	for i, h := range r.hubs {
		srv := r.servers[i]
		calls[i] = greenthread.Spawn(r.h0, func() (struct{}, error) {
			return greensync.CallHub(r.h0, h, func() (struct{}, error) { return struct{}{}, f(srv) })
		})
	}
	var errs []error
	for i, c := range calls {
		if _, err := c.Wait(); err != nil && !errors.Is(err, hub.ErrStopped) {
			errs = append(errs, fmt.Errorf("hub %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// finish ends the group's hubs and marks the service done.
func (r *helloRun) finish() {
	if !r.ended {
		r.ended = true
		close(r.end)
		if r.groupExited != nil {
			greensync.Recv(r.h0, r.groupExited)
			r.err = errors.Join(r.err, r.groupErr)
		}
		r.done.Send(struct{}{})
	}
	r.done.Wait()
}

// Wait waits until the service has ended.
func (s *helloService) Wait() error {
	if s.cur == nil {
		return nil
	}
	if _, err := s.cur.done.Wait(); err != nil {
		return err
	}
	return s.cur.err
}

// Reset does nothing.
func (s *helloService) Reset() error { return nil }

// shutdown makes sure the group's hubs end once the launcher is done; the
// main goroutine calls it after the launcher's Wait.
func (s *helloService) shutdown() {
	if r := s.cur; r != nil && r.group != nil {
		if !r.ended {
			r.ended = true
			close(r.end)
		}
		<-r.groupExited
	}
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
