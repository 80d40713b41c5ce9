package greenhttp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// Defaults for the zero fields of a Server.
const (
	// DefaultPoolSize is the pool a Server makes when Pool is nil: Glance's
	// GreenPool(1000).
	DefaultPoolSize = 1000
	// DefaultReadHeaderTimeout bounds the wait for a request's headers, from
	// the connection's accept or the end of the previous response's idle wait.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout bounds the wait for the next request on a keep-alive
	// connection, so idle clients cannot hold the pool's slots for ever.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxURLLength is eventlet's url_length_limit.
	DefaultMaxURLLength = 8192
	// DefaultMaxHeaderBytes is eventlet's MAX_TOTAL_HEADER_SIZE: the request
	// line and headers together.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMinChunkSize is eventlet's minimum_chunk_size: streamed body
	// bytes are gathered into chunks of at least this size unless the
	// handler flushes.
	DefaultMinChunkSize = 4096
	// DefaultMaxDrainBytes is how much of a request body the handler left
	// unread the server reads and discards to keep the connection; a longer
	// remainder closes it instead (net/http's 256 KiB).
	DefaultMaxDrainBytes = 256 << 10
)

// ErrServerClosed is what Serve returns after Shutdown or Close:
// http.ErrServerClosed, for code that checks for net/http's.
var ErrServerClosed = http.ErrServerClosed

// errClientGone is the cause of a request context cancelled because the
// client closed or reset the connection.
var errClientGone = errors.New("greenhttp: client closed the connection")

// Server serves HTTP/1.1 on a hub: eventlet.wsgi.server for an http.Handler.
// The zero value serves http.DefaultServeMux with the defaults above. Fields
// must not change once serving has begun.
type Server struct {
	// Addr is the address ListenAndServe listens on (":http" or ":https"
	// when empty).
	Addr string
	// Handler serves the requests; nil means http.DefaultServeMux.
	Handler http.Handler
	// Pool runs the connections' green threads (eventlet's custom_pool):
	// at most Pool.Size connections are served at once, and Accept waits for
	// a free slot. nil means a pool of DefaultPoolSize on the listener's hub.
	Pool *greenpool.Pool
	// TLSConfig is used by ServeTLS and ListenAndServeTLS (cloned; the
	// certificate files given to them are added).
	TLSConfig *tls.Config

	// DisableKeepAlives answers every request with Connection: close
	// (eventlet's keepalive=False).
	DisableKeepAlives bool
	// ReadHeaderTimeout bounds reading a request's line and headers, from
	// its first byte (or, for a connection's first request, from the accept).
	// 0 means DefaultReadHeaderTimeout; negative means none.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, from its
	// first byte. 0 means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request's
	// headers. 0 means none.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request of a keep-alive
	// connection (eventlet's socket_timeout for an idle connection).
	// 0 means DefaultIdleTimeout; negative means none.
	IdleTimeout time.Duration
	// MaxURLLength limits the request target (414 URI Too Long beyond it);
	// eventlet's url_length_limit. 0 means DefaultMaxURLLength.
	MaxURLLength int
	// MaxHeaderBytes limits the request line and headers (431 Request
	// Header Fields Too Large beyond it). 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MinChunkSize is eventlet's minimum_chunk_size: a streamed response
	// goes out in chunks of at least this many bytes unless the handler
	// flushes. It is also the buffer that lets a response of up to this
	// size carry a Content-Length. 0 means DefaultMinChunkSize.
	MinChunkSize int
	// MaxDrainBytes is how much of an unread request body is discarded to
	// keep the connection alive. 0 means DefaultMaxDrainBytes; negative
	// means always close.
	MaxDrainBytes int64

	// AccessLog, if set, gets one Info record per request with eventlet's
	// log_format fields: client, date, request, status, size, duration.
	AccessLog *slog.Logger
	// ErrorLog gets handler panics and connection errors; nil means the
	// hub's logger.
	ErrorLog *slog.Logger
	// BaseContext returns the base of every request context for a listener;
	// nil means context.Background.
	BaseContext func(net.Listener) context.Context

	h     *hub.Hub
	hubp  atomic.Pointer[hub.Hub] // h, for Shutdown and Close from other goroutines
	pool  *greenpool.Pool
	date  dateCache
	limit limits

	listeners    map[net.Listener]*hub.G // each with the green thread serving it
	conns        map[*conn]struct{}
	shuttingDown bool
	stopped      atomic.Bool             // Shutdown or Close was called, maybe before the first Serve
	drained      hub.WaitQueue[struct{}] // Shutdown's wait for the last conn
}

// limits are the Server's fields with defaults applied, fixed at the first
// Serve.
type limits struct {
	readHeader, read, write, idle time.Duration
	maxURL, maxHeader, chunk      int
	maxDrain                      int64
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	if v < 0 {
		return 0
	}
	return v
}

// bind ties srv to h on its first Serve. Hub thread only.
func (srv *Server) bind(h *hub.Hub) error {
	if srv.h != nil {
		if srv.h != h {
			return hub.ErrOtherHub
		}
		return nil
	}
	srv.h = h
	srv.hubp.Store(h)
	srv.pool = srv.Pool
	if srv.pool == nil {
		srv.pool = greenpool.New(h, DefaultPoolSize)
	} else if srv.pool.Hub() != h {
		return hub.ErrOtherHub
	}
	srv.limit = limits{
		readHeader: orDefault(srv.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		read:       orDefault(srv.ReadTimeout, 0),
		write:      orDefault(srv.WriteTimeout, 0),
		idle:       orDefault(srv.IdleTimeout, DefaultIdleTimeout),
		maxURL:     orDefault(srv.MaxURLLength, DefaultMaxURLLength),
		maxHeader:  orDefault(srv.MaxHeaderBytes, DefaultMaxHeaderBytes),
		chunk:      orDefault(srv.MinChunkSize, DefaultMinChunkSize),
		maxDrain:   orDefault(srv.MaxDrainBytes, DefaultMaxDrainBytes),
	}
	srv.listeners = make(map[net.Listener]*hub.G)
	srv.conns = make(map[*conn]struct{})
	return nil
}

// Serve accepts connections on l and serves each in a green thread of the
// pool until Shutdown or Close, then returns ErrServerClosed; another accept
// error ends it and is returned. l is closed on return. The caller must be a
// green thread of l's hub.
func (srv *Server) Serve(l *netio.Listener) error {
	return srv.serve(l, nil)
}

// ServeTLS is Serve with TLS: each connection is wrapped with
// netio.TLSServer and its handshake done in its green thread, bounded by the
// header timeout. certFile and keyFile, if not empty, hold a certificate and
// its key in PEM, added to TLSConfig's (they are read on the hub's offload
// pool); TLSConfig's NextProtos defaults to http/1.1.
func (srv *Server) ServeTLS(l *netio.Listener, certFile, keyFile string) error {
	h := l.Hub()
	config, err := srv.tlsConfig(h, certFile, keyFile)
	if err != nil {
		l.Close()
		return err
	}
	return srv.serve(l, config)
}

// ListenAndServe listens on srv.Addr (":http" when empty) on h and serves.
// The caller must be a green thread of h.
func (srv *Server) ListenAndServe(h *hub.Hub) error {
	l, err := netio.Listen(h, "tcp", orAddr(srv.Addr, ":http"))
	if err != nil {
		return err
	}
	return srv.Serve(l)
}

// ListenAndServeTLS listens on srv.Addr (":https" when empty) on h and
// serves TLS as ServeTLS does.
func (srv *Server) ListenAndServeTLS(h *hub.Hub, certFile, keyFile string) error {
	l, err := netio.Listen(h, "tcp", orAddr(srv.Addr, ":https"))
	if err != nil {
		return err
	}
	return srv.ServeTLS(l, certFile, keyFile)
}

func orAddr(addr, def string) string {
	if addr == "" {
		return def
	}
	return addr
}

func (srv *Server) tlsConfig(h *hub.Hub, certFile, keyFile string) (*tls.Config, error) {
	config := &tls.Config{}
	if srv.TLSConfig != nil {
		config = srv.TLSConfig.Clone()
	}
	if len(config.NextProtos) == 0 {
		config.NextProtos = []string{"http/1.1"}
	}
	if certFile != "" || keyFile != "" {
		var cert tls.Certificate
		var err error
		if oerr := h.Offload(func() { cert, err = tls.LoadX509KeyPair(certFile, keyFile) }); oerr != nil {
			return nil, oerr
		}
		if err != nil {
			return nil, err
		}
		config.Certificates = append(config.Certificates, cert)
	}
	if len(config.Certificates) == 0 && config.GetCertificate == nil && config.GetConfigForClient == nil {
		return nil, errors.New("greenhttp: ServeTLS needs a certificate: certFile and keyFile, or TLSConfig.Certificates or GetCertificate")
	}
	return config, nil
}

func (srv *Server) serve(l *netio.Listener, tlsConfig *tls.Config) error {
	defer l.Close()
	h := l.Hub()
	g, err := h.Raw().Green()
	if err != nil {
		return err
	}
	if err := srv.bind(h); err != nil {
		return err
	}
	if srv.shuttingDown || srv.stopped.Load() {
		srv.shuttingDown = true
		return ErrServerClosed
	}
	base := context.Background()
	if srv.BaseContext != nil {
		if base = srv.BaseContext(l); base == nil {
			panic("greenhttp: BaseContext returned a nil context")
		}
	}
	srv.listeners[l] = g
	defer delete(srv.listeners, l)
	for {
		nc, err := l.AcceptConn()
		if err != nil {
			if srv.shuttingDown {
				return ErrServerClosed
			}
			return err
		}
		if srv.shuttingDown {
			nc.Close()
			return ErrServerClosed
		}
		c := srv.newConn(nc, base, tlsConfig)
		if err := srv.pool.SpawnN(c.serve); err != nil {
			c.close()
			srv.forget(c)
			if srv.shuttingDown {
				return ErrServerClosed
			}
			return err
		}
	}
}

// forget takes c off the server's books and wakes a Shutdown waiting for the
// last connection. Hub thread only.
func (srv *Server) forget(c *conn) {
	delete(srv.conns, c)
	if srv.shuttingDown && len(srv.conns) == 0 {
		srv.drained.WakeAll(struct{}{})
	}
}

// Shutdown stops the server gracefully, as net/http's: it closes the
// listeners, closes the connections idle between requests, and waits until
// the connections serving a request have answered it (each then closes),
// or ctx is done, when it returns ctx's error and leaves those connections
// to Close. Serve returns ErrServerClosed at once. Hijacked connections are
// not tracked. As with net/http, the program must not end when Serve
// returns: Run kills the green threads still serving once its main returns,
// so main waits for Shutdown to return (see examples/hello).
//
// Any goroutine may call it: a green thread of the server's hub, or of
// another hub of the process, waits parked (greensync.CallHub); another
// goroutine (a signal handler's) waits for the hub to finish it. A hub
// callback gets hub.ErrNotGreen.
func (srv *Server) Shutdown(ctx context.Context) error {
	return srv.onHub(func() error {
		srv.shuttingDown = true
		srv.closeListeners()
		for c := range srv.conns {
			if c.state == stateIdle {
				c.close()
			}
		}
		if len(srv.conns) == 0 {
			return nil
		}
		g, err := srv.h.Raw().Green()
		if err != nil {
			return err
		}
		_, err = greensync.WithContext(srv.h, ctx, func() (struct{}, error) {
			for len(srv.conns) > 0 {
				if _, err := srv.drained.Await(g, hub.Block("greenhttp shutdown")); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		return err
	})
}

// Close stops the server at once: it closes the listeners and every
// connection, cancelling the contexts of the requests being served with
// ErrServerClosed as cause. Handlers parked on their connection wake with
// net.ErrClosed. Any goroutine may call it (see Shutdown).
func (srv *Server) Close() error {
	err := srv.onHub(func() error {
		srv.shuttingDown = true
		srv.closeListeners()
		for c := range srv.conns {
			c.cancel(ErrServerClosed)
			c.close()
		}
		return nil
	})
	if errors.Is(err, hub.ErrKilled) {
		return nil // the hub was ending, and the server with it
	}
	return err
}

// closeListeners closes the listeners and wakes the Serve loops that wait
// for a pool slot rather than in Accept.
func (srv *Server) closeListeners() {
	r := srv.h.Raw()
	for l, g := range srv.listeners {
		l.Close()
		if srv.pool.Waiting() > 0 {
			r.Interrupt(g, ErrServerClosed)
		}
	}
}

// onHub runs fn on the server's hub: directly from its thread, parked in
// greensync.CallHub from a green thread of another hub (a hub.Group's),
// through greensync.Call from any other goroutine. A server that never
// served has nothing to stop.
func (srv *Server) onHub(fn func() error) error {
	srv.stopped.Store(true) // a Serve yet to bind returns ErrServerClosed
	h := srv.hub()
	if h == nil {
		return nil
	}
	call := func() (struct{}, error) { return struct{}{}, fn() }
	var err error
	switch from := hub.CallerHub(); from {
	case h:
		return fn()
	case nil:
		_, err = greensync.Call(h, call)
	default:
		_, err = greensync.CallHub(from, h, call)
	}
	if errors.Is(err, hub.ErrStopped) {
		return nil // the hub ended, and the server with it
	}
	return err
}

// hub returns the hub srv is bound to, or nil before the first Serve (which,
// seeing stopped, then returns ErrServerClosed at once, as net/http's).
func (srv *Server) hub() *hub.Hub { return srv.hubp.Load() }

// ActiveConns returns how many connections the server is serving (idle ones
// included). Hub thread only.
func (srv *Server) ActiveConns() int { return len(srv.conns) }

// logger returns where errors go.
func (srv *Server) logger() *slog.Logger {
	if srv.ErrorLog != nil {
		return srv.ErrorLog
	}
	return srv.h.Raw().Logger()
}
