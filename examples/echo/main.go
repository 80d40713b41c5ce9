// Command echo is greenhub's echo server, the project's main job: the seed
// program of eventlet's documentation in Go. It listens, runs one green
// thread per accepted connection — at most -pool at once, further accepts
// wait for a free slot, as with eventlet's GreenPool(10000) and spawn_n —
// that reads up to 64 KiB into its buffer and writes it back, until EOF.
//
//	go run ./examples/echo -addr 127.0.0.1:6000
//
// SIGINT or SIGTERM stops accepting, gives the handlers -drain to finish,
// closes the connections that are left and exits 0. -hubs is reserved for
// running one hub per core; only 1 is accepted for now.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run is the program; it returns the exit status.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:6000", "TCP address to listen on")
	pool := fs.Int("pool", 10000, "most connections served at once; further accepts wait")
	hubs := fs.Int("hubs", 1, "hubs (OS threads) to run; reserved: only 1 for now")
	drain := fs.Duration("drain", 5*time.Second, "on SIGINT/SIGTERM, how long handlers may finish before their connections are closed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	switch {
	case *hubs != 1:
		logger.Error("echo: -hubs is reserved for multi-core use; only 1 is supported for now", "hubs", *hubs)
		return 2
	case *pool < 1:
		logger.Error("echo: -pool must be at least 1", "pool", *pool)
		return 2
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	h := hub.New(hub.WithLogger(logger))
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", *addr)
		if err != nil {
			return err
		}
		lim := &limiter{h: h, max: *pool}
		srv := &netio.Server{Handler: handle, Spawn: lim.spawn}
		logger.Info("echo: listening", "addr", l.Addr().String(), "pool", *pool)

		// Signals reach the hub through its door: a goroutine waits for
		// one and submits the stop.
		quit := make(chan struct{})
		defer close(quit)
		go func() {
			select {
			case sig := <-sigs:
				h.Submit(func() {
					logger.Info("echo: signal received; no longer accepting", "signal", sig.String())
					srv.Stop()
					lim.close() // an accept loop waiting for a slot gives up
				})
			case <-quit:
			}
		}()

		if err := srv.Serve(l); err != nil {
			logger.Error("echo: accept failed", "err", err)
			return err
		}
		logger.Info("echo: draining", "connections", srv.Active(), "drain", drain.String())
		if ok, _ := srv.Wait(*drain); !ok {
			n := srv.CloseConns()
			logger.Warn("echo: drain period over; closed the remaining connections", "closed", n)
			srv.Wait(*drain)
		}
		logger.Info("echo: shutdown complete")
		return nil
	})
	if err != nil {
		logger.Error("echo: exiting", "err", err)
		return 1
	}
	return 0
}

// handle echoes one connection until EOF through a 64 KiB buffer of its
// own. A read error other than EOF (a reset, the drain's close) ends it
// too; the Server closes the connection.
func handle(c *netio.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				slog.Debug("echo: connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
	}
}

// limiter bounds the handlers running at once: a counting semaphore on the
// hub. spawn is only called by Serve's accept loop, which parks while the
// count is at the limit, so connections wait in the kernel's backlog.
type limiter struct {
	h       *hub.Hub
	n, max  int
	waiting *hub.G
	closed  bool
}

var (
	poolFull      = hub.Block("echo pool full")
	errPoolClosed = errors.New("echo: shutting down")
)

// close makes spawn fail from now on, waking a caller that waits.
func (l *limiter) close() {
	l.closed = true
	if l.waiting != nil {
		l.h.Ready(l.waiting, errPoolClosed)
	}
}

func (l *limiter) spawn(fn func()) error {
	for l.n >= l.max {
		if l.closed {
			return errPoolClosed
		}
		l.waiting = l.h.Current()
		err := l.h.Park(poolFull)
		l.waiting = nil
		if err != nil {
			return fmt.Errorf("echo: waiting for a pool slot: %w", err)
		}
	}
	l.n++
	_, err := l.h.Spawn(func() error { fn(); return nil }, func(*hub.G) {
		l.n--
		if l.waiting != nil {
			l.h.Ready(l.waiting, nil)
		}
	})
	if err != nil {
		l.n--
	}
	return err
}
