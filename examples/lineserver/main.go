// Command lineserver is the server that docs/guide.md builds: a line
// protocol over TCP, each line answered with itself in upper case. It is
// the smallest complete greenhub server — a listener, a bounded pool of
// green threads, a handler, and a graceful stop on SIGINT or SIGTERM:
//
//	go run ./examples/lineserver -addr 127.0.0.1:7000
//	printf 'hello\nworld\n' | nc -q1 127.0.0.1 7000
//
// On SIGINT or SIGTERM it stops accepting, lets the connections it serves
// finish for up to -drain, closes the ones left and exits 0; a second
// signal closes them at once. -trace FILE writes a Chrome trace of the run
// (see docs/tutorial).
//
// The signals reach a green thread through greensync.NotifySignal, so the
// stop runs on the hub's thread. The first thing most people try — a
// goroutine reading a signal.Notify channel and calling Stop — does not
// work: a plain goroutine may not touch the hub's objects, and Stop
// returns an error that errors.Is hub.ErrOutside (see
// TestStopFromGoroutine).
package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// config is the command line.
type config struct {
	addr  string
	pool  int
	drain time.Duration
}

// run is the program; it returns the exit status.
func run(args []string, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("lineserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:7000", "TCP address to listen on")
	fs.IntVar(&cfg.pool, "pool", 1000, "most connections served at once; further accepts wait")
	fs.DurationVar(&cfg.drain, "drain", 5*time.Second, "on SIGINT/SIGTERM, how long connections may finish before they are closed (0: no limit)")
	trace := tracing.Register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || cfg.pool < 1 || cfg.drain < 0 {
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	opts, err := trace.Start(1)
	if err != nil {
		log.Error("lineserver: exiting", "err", err)
		return 1
	}
	h := hub.New(append(opts, hub.WithLogger(log))...)
	err = h.Run(func() error { return serve(h, cfg, log) })
	if err := errors.Join(err, trace.Close()); err != nil {
		log.Error("lineserver: exiting", "err", err)
		return 1
	}
	return 0
}

// serve is the server's main green thread: it listens, serves until a
// signal comes, then drains.
func serve(h *hub.Hub, cfg config, log *slog.Logger) error {
	// From here on SIGINT and SIGTERM no longer end the process: they wait
	// for a green thread to take them.
	sigs, err := greensync.NotifySignal(h, syscall.SIGINT, syscall.SIGTERM)
	if err != nil {
		return err
	}
	defer sigs.Stop()

	l, err := netio.Listen(h, "tcp", cfg.addr)
	if err != nil {
		return err
	}
	pool := greenpool.New(h, cfg.pool)
	srv := &netio.Server{Handler: shout, Spawn: pool.SpawnN}

	// The signal watcher is a green thread: Stop runs on the hub's thread.
	// A first signal stops accepting; a second one, during the drain,
	// closes the connections at once.
	greenthread.SpawnN(h, func() {
		for first := true; ; first = false {
			sig, err := sigs.Wait()
			if err != nil {
				return // killed: serve has returned
			}
			if first {
				log.Info("lineserver: stopping", "signal", sig.String())
				srv.Stop()
			} else {
				log.Warn("lineserver: second signal", "closed", srv.CloseConns())
			}
		}
	})

	log.Info("lineserver: listening", "addr", l.Addr().String(), "pool", cfg.pool)
	if err := srv.Serve(l); err != nil {
		return err
	}

	// Serve has returned: no new connections. Let the others finish.
	log.Info("lineserver: draining", "connections", srv.Active(), "drain", cfg.drain.String())
	finished, err := srv.Wait(cfg.drain)
	if err != nil {
		return err
	}
	if !finished {
		log.Warn("lineserver: drain period over", "closed", srv.CloseConns())
	}
	if err := pool.WaitAll(); err != nil {
		return err
	}
	log.Info("lineserver: stopped")
	return nil
}

// shout answers every line it reads on c with the line in upper case,
// until the peer closes (or the drain closes c). Answers are flushed once
// the input read so far is used up, so a burst of lines costs one write.
func shout(c *netio.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	for {
		line, err := r.ReadString('\n')
		w.WriteString(strings.ToUpper(line))
		if r.Buffered() == 0 || err != nil {
			if w.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
