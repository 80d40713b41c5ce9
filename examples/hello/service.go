package main

// The service that runs the routes on -hubs hubs and -workers processes.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// helloService serves the routes with one greenhttp.Server per hub. Its
// methods run on hub 0, the launcher's.
type helloService struct {
	addr                string // hub 0's: -addr, or in a worker the parent's
	pool, hubs, workers int
	log                 *slog.Logger
	hubOpts             []hub.Option // every hub's: the logger, the -trace tracer
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
		r.group = hub.NewGroup(n-1, s.hubOpts...)
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
