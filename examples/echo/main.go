// Command echo is greenhub's echo server, the project's main job: the seed
// program of eventlet's documentation in Go. It listens, runs one green
// thread per accepted connection — at most -pool at once on each hub,
// further accepts wait for a free slot, as with eventlet's GreenPool(10000)
// and spawn_n — that reads up to 64 KiB and writes it back, until EOF.
//
//	go run ./examples/echo -addr 127.0.0.1:6000
//	go run ./examples/echo -hubs 0                   # one hub per CPU
//	go run ./examples/echo -hubs 2 -spread handoff   # hub 0 deals connections to both
//	go run ./examples/echo -workers 2 -hubs 2        # 2 processes of 2 hubs each
//	go run ./examples/echo -hubs 2 -trace echo.json  # a Chrome trace of the run
//
// SIGINT or SIGTERM stops accepting, gives the handlers -drain to finish,
// closes the connections that are left and exits 0; a second SIGINT or
// SIGTERM during the drain closes them at once and exits 1.
//
// # Structure
//
// The server is a service.Service, echoService, run by service.Launch:
// with -workers 1 a ServiceLauncher runs it on a hub in this process; with
// -workers N a ProcessLauncher runs it in N worker processes (this program,
// executed again) and supervises them. The launcher owns the signals: the
// first SIGINT or SIGTERM calls Stop(true), a second one Stop(false).
//
// Start(h) runs on the launcher's hub, hub 0. With -hubs N > 1 it starts
// hubs 1..N-1 as a hub.Group (each on its own locked OS thread) and waits
// until every hub is ready. Each hub has a hubServer: its own 64 KiB read
// buffer shared by its handlers (see handle), its own connections, and
// either its own listener or the connections hub 0 deals it, as -spread
// says:
//
//   - reuseport (the default): every hub accepts on its own listening
//     socket, with SO_REUSEPORT, so the kernel spreads the connections by
//     a hash of their addresses; each hub spawns its handlers into its own
//     greenpool of -pool.
//   - handoff: hub 0 alone accepts, and deals the connections to the hubs
//     (itself included) in turn with netio.Listener.AcceptTo, one door
//     crossing per connection. Hub 0 keeps the pools' count: it takes a
//     slot of a hub (the next in turn with one free) before each accept,
//     and the hub gives it back through hub 0's door when the handler ends.
//
// -pool is per hub, as each hub were an eventlet process with its own
// GreenPool, rather than split among the hubs: the kernel's hash does not
// split connections evenly (56/44 for 100 connections over two hubs is
// usual), so with a pool of -pool/N per hub 10,000 connections overflowed
// one hub's half and waited while the other had room.
//
// Stop runs on hub 0 and reaches the other hubs with greensync.CallHub: it
// stops every hub's accepting first, then waits for the connections of
// every hub (bounded by -drain, after which it closes them), then ends the
// group. Wait returns once the group's hubs have all returned.
//
// With -workers N > 1 every accepting hub of every worker opens its own
// SO_REUSEPORT listener on the port (with -spread handoff, hub 0 of each
// worker), as gnet's event loops do, and the kernel spreads the
// connections over all of them by hash. The parent holds the address: it
// binds a socket with SO_REUSEPORT and never listens on it
// (examples/internal/reserve), so the port is chosen once (-addr :0 works),
// stays this user's while workers restart, and takes no connection; the
// workers inherit it (LaunchService's files) to learn the port. The
// alternative, one listening socket opened by the parent and accepted on by
// every hub (netio.FileListener), keeps connections queued while no worker
// runs, but the hubs then race for each connection and the first to wake
// takes a burst of them: 100 connections split 79/21 between two workers,
// and 47/25/19/9 over two workers of two hubs, where per-hub listeners
// split them as a hash does (44/56). The price of per-hub listeners: a
// listener that closes (a worker retired by SIGHUP, or one that crashed)
// resets the connections queued on it, unless Linux's
// net.ipv4.tcp_migrate_req=1 moves them to a sibling (a SIGHUP retires
// the old workers only once their replacements listen: their Start has
// returned and they told the parent). On macOS SO_REUSEPORT does not spread
// connections (FreeBSD has SO_REUSEPORT_LB for that): there, use -spread
// handoff within one process.
//
// With the defaults (-hubs 1 -workers 1) the program is the plain one-hub
// server it always was: one hub, one listener without SO_REUSEPORT, a
// greenpool of -pool.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/examples/internal/reserve"
	"github.com/greenhub/greenhub/examples/internal/tracing"
	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
	"github.com/greenhub/greenhub/service"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// The ways connections reach the hubs (-spread).
const (
	spreadReusePort = "reuseport"
	spreadHandoff   = "handoff"
)

// config is the command line.
type config struct {
	addr    string
	pool    int
	hubs    int // resolved: at least 1
	workers int
	spread  string
	drain   time.Duration // <= 0: no limit
	trace   *tracing.Trace
}

// parseFlags parses args; an error has been reported on stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:6000", "TCP address to listen on")
	fs.IntVar(&c.pool, "pool", 10000, "most connections each hub serves at once; further accepts wait")
	fs.IntVar(&c.hubs, "hubs", 1, "hubs (OS threads) per process; 0 = one per CPU")
	fs.IntVar(&c.workers, "workers", 1, "processes: more than 1 runs that many worker processes of -hubs hubs each, on the same port")
	fs.StringVar(&c.spread, "spread", spreadReusePort, "how connections reach the hubs: reuseport (a listener per hub) or handoff (hub 0 accepts and deals them out)")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "on SIGINT/SIGTERM, how long handlers may finish before their connections are closed (0: no limit)")
	c.trace = tracing.Register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	bad := func(format string, a ...any) (config, error) {
		err := fmt.Errorf("echo: "+format, a...)
		fmt.Fprintln(stderr, err)
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected arguments %q", fs.Args())
	case c.pool < 1:
		return bad("-pool %d: must be at least 1", c.pool)
	case c.hubs < 0:
		return bad("-hubs %d: must be at least 0 (0: one per CPU)", c.hubs)
	case c.workers < 1:
		return bad("-workers %d: must be at least 1", c.workers)
	case c.spread != spreadReusePort && c.spread != spreadHandoff:
		return bad("-spread %q: want %s or %s", c.spread, spreadReusePort, spreadHandoff)
	}
	if c.hubs == 0 {
		c.hubs = runtime.NumCPU()
	}
	return c, nil
}

// run is the program; it returns the exit status.
func run(args []string, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	svc := &echoService{cfg: cfg, log: logger, addr: cfg.addr}
	var files []*os.File
	if cfg.workers > 1 {
		role, err := reserve.Workers(cfg.addr)
		if err != nil {
			logger.Error("echo: exiting", "err", err)
			return exitStatus(err)
		}
		defer role.Close()
		svc.addr, files = role.Addr, role.Files
		if role.Worker {
			svc.log = logger.With("worker", role.Index)
		} else {
			logger.Info("echo: listening", "addr", role.Addr, "workers", cfg.workers, "hubs", cfg.hubs, "spread", cfg.spread)
		}
	}

	traceOpts, err := cfg.trace.Start(cfg.workers)
	if err != nil {
		logger.Error("echo: exiting", "err", err)
		return 1
	}
	defer cfg.trace.Close() // on the early returns; Close after Wait reports its error
	svc.hubOpts = append(traceOpts, hub.WithLogger(svc.log))
	opts := service.Options{
		Logger:       svc.log,
		DrainTimeout: launcherDrain(cfg.drain),
		HubOptions:   svc.hubOpts,
	}
	l, err := service.Launch(svc, cfg.workers, opts, files...)
	if err != nil {
		logger.Error("echo: exiting", "err", err)
		return 1
	}
	status := l.Wait()
	svc.shutdown()
	if err := cfg.trace.Close(); err != nil {
		logger.Error("echo: writing the trace", "err", err)
		return max(status, 1) // a trace cut short is a failure
	}
	return status
}

// exitStatus is the status of a program that could not start: a worker
// that cannot recover is not to be respawned.
func exitStatus(err error) int {
	if errors.Is(err, service.ErrNoRespawn) {
		return service.ExitNoRespawn
	}
	return 1
}

// launcherDrain is the launcher's drain bound: the service bounds its own
// drain by -drain and then closes the connections left (a clean exit, 0);
// the launcher forces the stop (exit 1) only if that has not ended the
// service a moment later.
func launcherDrain(drain time.Duration) time.Duration {
	if drain <= 0 {
		return -1 // no bound
	}
	return drain + drainGrace
}

// drainGrace is what the launcher's drain bound adds to -drain.
const drainGrace = 2 * time.Second

// echoService is the echo server as a service.Service (see the package
// comment). Its methods run on hub 0, the launcher's; each Start makes a
// new echoRun, so that a restart (SIGHUP in a single process) starts afresh.
type echoService struct {
	cfg     config
	log     *slog.Logger
	addr    string       // hub 0's address: -addr, or in a worker the parent's
	hubOpts []hub.Option // every hub's: the logger, the -trace tracer

	cur *echoRun
}

// echoRun is one Start of the service: its hubs and their state.
type echoRun struct {
	svc  *echoService
	h0   *hub.Hub
	hubs []*hubServer // hubs[0] is h0's

	group       *hub.Group    // hubs 1..N-1; nil with one hub
	groupErr    error         // the group's Run result, set before groupExited closes
	groupExited chan struct{} // closed when the group's Run has returned
	end         chan struct{} // closed to end the group's hubs
	ended       bool

	slots *greensync.Semaphore // handoff: the slots of all the hubs' pools, on hub 0

	stopping  bool
	finishing bool
	err       error // why the service failed, if it did
	done      *greensync.Event[struct{}]
}

// Start starts the hubs and their accepting (see the package comment).
func (s *echoService) Start(h *hub.Hub) error {
	cfg := s.cfg
	r := &echoRun{svc: s, h0: h, done: greensync.NewEvent[struct{}](h), end: make(chan struct{})}
	s.cur = r
	n := cfg.hubs
	r.hubs = make([]*hubServer, n)
	r.hubs[0] = newHubServer(r, h, 0)
	l0, err := s.listen(h, 0, s.addr)
	if err != nil {
		r.abort()
		return err
	}
	r.hubs[0].l = l0
	if n > 1 {
		// The other hubs listen where hub 0 does (-addr may say :0); a
		// wildcard stays a wildcard.
		addr := l0.Addr().String()
		if host, _, _ := net.SplitHostPort(s.addr); host == "" {
			_, port, _ := net.SplitHostPort(addr)
			addr = ":" + port
		}

		r.group = hub.NewGroup(n-1, s.hubOpts...)
		for i := 1; i < n; i++ {
			r.hubs[i] = newHubServer(r, r.group.Hub(i-1), i)
		}
		ready := make(chan error, n-1)
		r.groupExited = make(chan struct{})
		go func() {
			defer close(r.groupExited)
			r.groupErr = r.group.Run(func(h *hub.Hub, i int) error { return r.hubMain(h, i+1, addr, ready) })
		}()
		var errs []error
		for range n - 1 {
			err, _, rerr := greensync.Recv(h, ready)
			errs = append(errs, err, rerr)
		}
		if err := errors.Join(errs...); err != nil {
			r.abort()
			return err
		}
	}
	if cfg.spread == spreadHandoff && n > 1 {
		r.slots = greensync.NewSemaphore(h, n*cfg.pool)
	} else {
		r.hubs[0].pool = greenpool.New(h, cfg.pool)
	}
	greenthread.SpawnN(h, func() {
		var err error
		if r.slots != nil {
			greenthread.Current(h).G().SetName("deal")
			err = r.deal()
		} else {
			greenthread.Current(h).G().SetName("accept")
			err = r.hubs[0].acceptLoop()
		}
		if err != nil {
			r.failed(err)
		}
	})
	attrs := []any{"addr", l0.Addr().String(), "pool", cfg.pool, "hubs", n}
	if n > 1 {
		attrs = append(attrs, "spread", cfg.spread)
	}
	s.log.Info("echo: listening", attrs...)
	return nil
}

// listen returns hub i's listener: none for a handoff target, an
// SO_REUSEPORT one when several hubs or workers each have one, a plain one
// otherwise.
func (s *echoService) listen(h *hub.Hub, i int, addr string) (*netio.Listener, error) {
	switch {
	case i > 0 && s.cfg.spread == spreadHandoff:
		return nil, nil // a handoff target: hub 0 deals it connections
	case s.cfg.workers > 1 || (s.cfg.hubs > 1 && s.cfg.spread == spreadReusePort):
		lc := netio.ListenConfig{ReusePort: true}
		return lc.Listen(h, "tcp", addr)
	default:
		return netio.Listen(h, "tcp", addr)
	}
}

// hubMain is the first green thread of hub i of the group: it sets the hub
// up, reports on ready, accepts until stopped (reuseport), and keeps the
// hub running until the service ends.
func (r *echoRun) hubMain(h *hub.Hub, i int, addr string, ready chan<- error) error {
	greenthread.Current(h).G().SetName("accept") // or, as a handoff target, the door's waiter
	hs := r.hubs[i]
	l, err := r.svc.listen(h, i, addr)
	if err != nil {
		ready <- fmt.Errorf("hub %d: %w", i, err)
		return nil
	}
	hs.l = l
	if l != nil {
		hs.pool = greenpool.New(h, r.svc.cfg.pool)
	}
	ready <- nil
	if l != nil {
		if err := hs.acceptLoop(); err != nil {
			r.h0.Submit(func() { r.failed(fmt.Errorf("hub %d: %w", i, err)) })
		}
	}
	// Handed connections and Stop's calls come through the door
	// meanwhile; Recv holds a reference, so the wait is no deadlock.
	greensync.Recv(h, r.end)
	return nil
}

// deal is hub 0's accept loop with -spread handoff: a free slot in some
// hub's pool, then a connection, handed to the next hub in turn that has
// one.
func (r *echoRun) deal() error {
	hs := r.hubs[0]
	hs.loop = r.h0.Raw().Current()
	slots, pool, n := r.slots, r.svc.cfg.pool, len(r.hubs)
	busy := make([]int, n) // the connections each hub serves, as hub 0 counts them
	for next := 0; ; {
		if err := slots.Acquire(); err != nil {
			if hs.stopped {
				return nil
			}
			return err
		}
		for busy[next] >= pool { // the semaphore says one hub has room
			next = (next + 1) % n
		}
		i, t := next, r.hubs[next]
		next = (next + 1) % n
		busy[i]++
		done := func() { // on hub 0
			busy[i]--
			slots.Release()
		}
		err := hs.l.AcceptTo(t.h, func(c *netio.Conn) {
			t.serve(c)
			if t.h == r.h0 {
				done()
			} else {
				r.h0.Submit(done) // fails only once hub 0 has stopped
			}
		})
		if err != nil {
			done()
			if hs.stopped || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// failed ends the service with err: an accept loop failed. On hub 0.
func (r *echoRun) failed(err error) {
	r.svc.log.Error("echo: accept failed", "err", err)
	r.err = errors.Join(r.err, err)
	if !r.stopping {
		greenthread.SpawnN(r.h0, func() {
			greenthread.Current(r.h0).G().SetName("stop")
			r.stop(false, "accept failed")
		})
	}
}

// Stop stops the service: see stop. The launcher calls it on a signal
// (SIGTERM, SIGINT; SIGHUP in a worker or to restart).
func (s *echoService) Stop(graceful bool) error {
	if s.cur == nil {
		return nil
	}
	s.cur.stop(graceful, "signal received")
	return nil
}

// stop stops accepting on every hub, then, graceful, waits for the
// connections (closing them after -drain) or, not, closes them at once; then
// it ends the hubs. A forced stop may come while a graceful one drains: it
// closes the connections and leaves the ending to the graceful one.
func (r *echoRun) stop(graceful bool, why string) {
	log := r.svc.log
	first := !r.stopping
	r.stopping = true
	if first {
		log.Info("echo: "+why+"; no longer accepting", "graceful", graceful)
		r.onHubs(func(hs *hubServer) int { hs.stop(); return 0 })
	}
	if !graceful {
		n := r.onHubs(func(hs *hubServer) int { return hs.closeConns() })
		log.Warn("echo: forced stop; closed the connections", "closed", n)
		if !first {
			return
		}
	} else {
		drain := r.svc.cfg.drain
		log.Info("echo: draining", "connections", r.onHubs(func(hs *hubServer) int { return len(hs.conns) }), "drain", drain.String())
		if !r.waitAll(drain) {
			n := r.onHubs(func(hs *hubServer) int { return hs.closeConns() })
			log.Warn("echo: drain period over; closed the remaining connections", "closed", n)
			r.waitAll(drain)
		}
	}
	r.finish()
}

// waitAll waits until no hub serves a connection, for at most d (<= 0: no
// limit), and reports whether none does.
func (r *echoRun) waitAll(d time.Duration) bool {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	drained := r.onHubs(func(hs *hubServer) int {
		if hs.wait(deadline) {
			return 1
		}
		return 0
	})
	return drained == len(r.hubs)
}

// onHubs runs f on every hub in turn, on that hub's thread (through
// greensync.CallHub for hubs other than hub 0), and returns the sum of its
// results. A hub that has stopped counts as 0.
func (r *echoRun) onHubs(f func(hs *hubServer) int) int {
	sum := 0
	for _, hs := range r.hubs {
		if hs == nil {
			continue
		}
		v, err := greensync.CallHub(r.h0, hs.h, func() (int, error) { return f(hs), nil })
		if err != nil && !errors.Is(err, hub.ErrStopped) {
			r.svc.log.Warn("echo: cross-hub call failed", "hub", hs.index, "err", err)
		}
		sum += v
	}
	return sum
}

// finish ends the group's hubs, waits for them and marks the service done.
func (r *echoRun) finish() {
	if r.finishing {
		r.done.Wait()
		return
	}
	r.finishing = true
	r.endGroup()
	if r.groupExited != nil {
		greensync.Recv(r.h0, r.groupExited)
		r.err = errors.Join(r.err, r.groupErr)
	}
	served := make([]int, len(r.hubs))
	for i, hs := range r.hubs {
		if hs != nil {
			served[i] = hs.served
		}
	}
	r.svc.log.Info("echo: shutdown complete", "served", fmt.Sprint(served))
	r.done.Send(struct{}{})
}

// abort undoes a Start that failed half-way.
func (r *echoRun) abort() {
	r.stopping = true
	r.onHubs(func(hs *hubServer) int { hs.stop(); return hs.closeConns() })
	r.finishing = true
	r.endGroup()
	if r.groupExited != nil {
		greensync.Recv(r.h0, r.groupExited)
	}
	r.done.Send(struct{}{})
}

func (r *echoRun) endGroup() {
	if !r.ended {
		r.ended = true
		close(r.end)
	}
}

// Wait waits until the service has ended.
func (s *echoService) Wait() error {
	r := s.cur
	if r == nil {
		return nil
	}
	if _, err := r.done.Wait(); err != nil {
		return err
	}
	return r.err
}

// Reset does nothing: the configuration is the command line.
func (s *echoService) Reset() error { return nil }

// shutdown makes sure the group's hubs end once the launcher is done, even
// after a forced stop that did not wait for them. The main goroutine calls
// it after the launcher's Wait, when hub 0 has stopped.
func (s *echoService) shutdown() {
	r := s.cur
	if r == nil || r.group == nil {
		return
	}
	if !r.ended {
		r.ended = true
		close(r.end) // the group's hubs return; their Run kills what is left
	}
	select {
	case <-r.groupExited:
	case <-time.After(5 * time.Second):
		s.log.Warn("echo: hubs still running at exit")
	}
}

// hubServer is one hub's part of the server. Its methods and fields belong
// to its hub's thread.
type hubServer struct {
	r     *echoRun
	h     *hub.Hub
	index int
	buf   []byte          // read buffer shared by the hub's handlers: see handle
	l     *netio.Listener // nil: a handoff target
	pool  *greenpool.Pool // the handlers, when the hub accepts for itself

	conns   map[*netio.Conn]struct{}
	idle    *greensync.Event[struct{}] // after stop: sent when conns is empty
	loop    *hub.G                     // the accept loop
	stopped bool
	served  int
}

func newHubServer(r *echoRun, h *hub.Hub, index int) *hubServer {
	return &hubServer{r: r, h: h, index: index, buf: make([]byte, 64<<10), conns: map[*netio.Conn]struct{}{}}
}

// acceptLoop accepts on the hub's own listener and spawns a handler per
// connection into the hub's pool, until stop.
func (hs *hubServer) acceptLoop() error {
	hs.loop = hs.h.Raw().Current()
	for {
		c, err := hs.l.AcceptConn()
		if err != nil {
			if hs.stopped || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if err := hs.pool.SpawnN(func() { hs.serve(c) }); err != nil {
			c.Close()
			if hs.stopped {
				return nil
			}
			return err
		}
	}
}

// serve runs the handler for c, keeping c in the hub's set meanwhile. It
// names the green thread "conn N", N counting the hub's connections.
func (hs *hubServer) serve(c *netio.Conn) {
	hs.conns[c] = struct{}{}
	hs.served++
	greenthread.Current(hs.h).G().SetName("conn " + strconv.Itoa(hs.served))
	if hs.idle != nil && hs.idle.Ready() {
		hs.idle.Reset() // handed over before the stop, arrived after it
	}
	defer func() {
		c.Close()
		delete(hs.conns, c)
		if len(hs.conns) == 0 && hs.idle != nil && !hs.idle.Ready() {
			hs.idle.Send(struct{}{})
		}
	}()
	handle(c, hs.buf)
}

// stop stops the hub's accepting: its listener is closed, and an accept
// loop waiting for a pool slot is woken.
func (hs *hubServer) stop() {
	if hs.stopped {
		return
	}
	hs.stopped = true
	hs.idle = greensync.NewEvent[struct{}](hs.h)
	if len(hs.conns) == 0 {
		hs.idle.Send(struct{}{})
	}
	if hs.l != nil {
		hs.l.Close()
	}
	waiting := hs.pool != nil && hs.pool.Waiting() > 0
	if hs.index == 0 && hs.r.slots != nil && hs.r.slots.Waiting() > 0 {
		waiting = true // deal waits for a slot
	}
	if waiting {
		hs.h.Raw().Interrupt(hs.loop, errStopping)
	}
}

// wait waits until the hub serves no connection or deadline has passed
// (zero: no limit), and reports whether it serves none.
func (hs *hubServer) wait(deadline time.Time) bool {
	if len(hs.conns) == 0 || hs.idle == nil {
		return len(hs.conns) == 0
	}
	if deadline.IsZero() {
		hs.idle.Wait()
	} else if d := time.Until(deadline); d > 0 {
		hs.idle.WaitTimeout(d)
	}
	return len(hs.conns) == 0
}

// closeConns closes the hub's connections: their handlers wake with
// net.ErrClosed. It returns how many it closed.
func (hs *hubServer) closeConns() int {
	n := 0
	for c := range hs.conns {
		if c.Close() == nil {
			n++
		}
	}
	return n
}

// handle echoes one connection until EOF. It reads into buf, a 64 KiB
// buffer shared by every connection of the hub: Read never holds it while
// parked, and TryWrite writes from it without parking, so one buffer serves
// all connections and an idle connection costs only its green thread. What
// a slow reader leaves unwritten is copied out before the blocking Write. A
// read error other than EOF (a reset, the drain's close) ends the handler;
// the connection is closed when it returns.
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
