// Command echo is greenhub's echo server, the project's main job: the seed
// program of eventlet's documentation in Go. It listens, runs one green
// thread per accepted connection — at most -pool at once, further accepts
// wait for a free slot, as with eventlet's GreenPool(10000) and spawn_n —
// that reads up to 64 KiB and writes it back, until EOF.
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
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/greenpool"
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
		handlers := greenpool.New(h, *pool)
		buf := make([]byte, 64<<10) // shared by all handlers: see handle
		srv := &netio.Server{Handler: func(c *netio.Conn) { handle(c, buf) }, Spawn: handlers.SpawnN}
		acceptLoop := h.Raw().Current()
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
					if handlers.Waiting() > 0 {
						// The accept loop waits for a free slot: wake it.
						h.Raw().Interrupt(acceptLoop, errStopping)
					}
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

// handle echoes one connection until EOF. It reads into buf, a 64 KiB
// buffer shared by every connection of the hub: Read never holds it while
// parked, and TryWrite writes from it without parking, so one buffer serves
// all connections and an idle connection costs only its green thread. What
// a slow reader leaves unwritten is copied out before the blocking Write. A
// read error other than EOF (a reset, the drain's close) ends the handler;
// the Server closes the connection.
func handle(c *netio.Conn, buf []byte) {
	for {
		n, err := c.Read(buf)
		if n > 0 {
			w, werr := c.TryWrite(buf[:n])
			if werr == nil && w < n {
				_, werr = c.Write(append([]byte(nil), buf[w:n]...))
			}
			if werr != nil {
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

// errStopping interrupts an accept loop that waits for a pool slot when a
// signal stops the server.
var errStopping = errors.New("echo: stopping")
