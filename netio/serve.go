package netio

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// SpawnFunc starts fn in a new green thread, perhaps after waiting for
// room (a pool that is full parks the caller: eventlet's GreenPool.spawn_n).
// greenthread.SpawnN bound to a hub fits, as does a pool's SpawnN method
// value. It returns an error if fn will not run.
type SpawnFunc func(fn func()) error

// Server is eventlet's serve: it accepts connections on a Listener and
// runs Handler in a green thread per connection, started through Spawn.
// When Handler returns, the connection is closed.
//
// Serve runs in a green thread; Stop, Wait, CloseConns and Active are
// for the same hub's green threads (Stop and CloseConns also for hub
// callbacks).
type Server struct {
	// Handler serves one connection. It may keep c, but c is closed when
	// Handler returns.
	Handler func(c *Conn)
	// Spawn starts each Handler; nil means a plain green thread per
	// connection (the hub's Spawn), with no limit.
	Spawn SpawnFunc

	h       *hub.Hub
	l       *Listener
	stopped bool
	conns   map[*Conn]struct{}
	waiters hub.WaitQueue[struct{}] // in Wait
}

// ErrServerStopped is returned by Serve on a Server that was stopped
// before Serve started.
var ErrServerStopped = errors.New("netio: server stopped")

// Serve runs srv on l with handler and spawn (nil: a green thread per
// connection): a shorthand for (&Server{Handler: handler, Spawn:
// spawn}).Serve(l).
func Serve(l *Listener, handler func(*Conn), spawn SpawnFunc) error {
	srv := &Server{Handler: handler, Spawn: spawn}
	return srv.Serve(l)
}

// Serve accepts connections on l until Stop is called or l is closed, and
// returns nil then (eventlet's StopServe); any other accept error ends it
// and is returned. Stopping does not touch the connections being served:
// Wait for their handlers, CloseConns to cut them off. Running out of file
// descriptors does not end Serve (see Listener).
func (srv *Server) Serve(l *Listener) error {
	srv.h = l.fd.h
	if srv.stopped {
		l.Close()
		return ErrServerStopped
	}
	srv.l = l
	if srv.conns == nil {
		srv.conns = make(map[*Conn]struct{})
	}
	for {
		c, err := l.AcceptConn()
		if err != nil {
			if srv.stopped || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		srv.conns[c] = struct{}{}
		run := func() {
			defer srv.done(c)
			srv.Handler(c)
		}
		if srv.Spawn != nil {
			err = srv.Spawn(run)
		} else {
			_, err = srv.h.Raw().Spawn(func() error { run(); return nil }, nil) // a panic goes to the hub's panic handler
		}
		if err != nil {
			srv.done(c)
			if srv.stopped {
				return nil
			}
			return err
		}
	}
}

func (srv *Server) done(c *Conn) {
	c.Close()
	delete(srv.conns, c)
	if len(srv.conns) == 0 {
		srv.waiters.WakeAll(struct{}{})
	}
}

// Stop stops accepting: it closes the listener, and Serve returns nil.
// Handlers go on. Stopping twice does nothing. Called from a goroutine
// that is not on the hub's thread, it returns an error that errors.Is
// hub.ErrOutside and changes nothing; before Serve, a caller on no hub's
// thread gets hub.ErrOutside too.
func (srv *Server) Stop() error {
	if srv.h != nil {
		if _, err := srv.h.Raw().Caller(); err != nil {
			return err
		}
	} else if hub.CallerHub() == nil {
		return fmt.Errorf("netio: server Stop: %w", hub.ErrOutside)
	}
	if srv.stopped {
		return nil
	}
	srv.stopped = true
	if srv.l == nil {
		return nil
	}
	if err := srv.l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Active returns how many connections are being served.
func (srv *Server) Active() int { return len(srv.conns) }

var waitReason = hub.Block("netio server drain")

// errWaitOver is what Wait's timer wakes it with.
var errWaitOver = errors.New("netio: server wait timed out")

// Wait parks the calling green thread until no connection is being served
// or d has passed (d <= 0: no limit), and reports whether all handlers
// finished.
func (srv *Server) Wait(d time.Duration) (bool, error) {
	if len(srv.conns) == 0 {
		return true, nil
	}
	r := srv.h.Raw()
	g, err := r.Green()
	if err != nil {
		return false, err
	}
	if d > 0 {
		tok, _ := r.Token()
		t := r.AfterFunc(d, func() { r.ReadyToken(tok, errWaitOver) })
		defer r.CancelTimer(t)
	}
	_, err = srv.waiters.Await(g, waitReason)
	if err == errWaitOver {
		err = nil
	}
	return len(srv.conns) == 0, err
}

// CloseConns closes every connection being served: handlers parked in
// Read or Write wake with net.ErrClosed. It returns how many it closed.
func (srv *Server) CloseConns() int {
	n := 0
	for c := range srv.conns {
		if c.Close() == nil {
			n++
		}
	}
	return n
}
