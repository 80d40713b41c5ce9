package study

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
	"github.com/greenhub/greenhub/timeline"
)

// The executors, by the names the command line and the results use.
const (
	// Hub is oslo.messaging's eventlet executor: one hub, a green thread
	// per message from a greenpool.Pool of ServeConfig.Pool, the
	// downstream calls through netio.
	Hub = "hub"
	// Goroutines starts a goroutine per message, with no bound.
	Goroutines = "goroutines"
	// Pool is oslo.messaging's threading executor: a fixed pool of
	// ServeConfig.Pool goroutines fed by a queue.
	Pool = "pool"
	// Hubs is Hub on each of ServeConfig.Hubs hubs (a hub.Group, one per
	// core by default), each reading its share of the connections with its
	// own greenpool of ServeConfig.Pool: oslo's eventlet executor in one
	// worker process per core.
	Hubs = "hubs"
	// Eventlet and PyThreads are the Python peers (bench/peers/oslo_executor.py,
	// run by Config.Python): oslo's eventlet executor written with eventlet
	// (green threads from a GreenPool, green sockets) and its threading
	// executor (a ThreadPoolExecutor of OS threads under the GIL, blocking
	// sockets).
	Eventlet  = "eventlet"
	PyThreads = "pythreads"
)

// PythonExecutors are the Python peers, in the order of the report.
var PythonExecutors = []string{Eventlet, PyThreads}

// pythonMode is the peer script's -executor for each Python peer.
var pythonMode = map[string]string{Eventlet: "eventlet", PyThreads: "threading"}

// GoExecutors are the executors written in Go, in the order of the report.
var GoExecutors = []string{Hub, Hubs, Goroutines, Pool}

// ServeConfig is what an executor is told: which one it is, where the
// producer and the downstream server listen, and its sizes.
type ServeConfig struct {
	Executor   string
	Producer   string // the producer's address; the executor dials Conns connections to it
	Conns      int
	Downstream string // the downstream server's address
	Pool       int    // the pool's size (Hub, Pool; per hub for Hubs)
	Hubs       int    // the number of hubs for Hubs
	// Trace, for Hub and Hubs, is a file to write a Chrome trace of the
	// hubs to (package timeline); "" traces nothing.
	Trace string
}

func (c *ServeConfig) validate() error {
	switch {
	case c.Executor != Hub && c.Executor != Hubs && c.Executor != Goroutines && c.Executor != Pool:
		return fmt.Errorf("study: unknown executor %q", c.Executor)
	case c.Producer == "" || c.Downstream == "":
		return errors.New("study: no producer or downstream address")
	case c.Conns < 1 || c.Pool < 1 || c.Hubs < 1:
		return fmt.Errorf("study: need conns, pool and hubs >= 1 (have %d, %d, %d)", c.Conns, c.Pool, c.Hubs)
	case c.Executor == Hubs && c.Conns < c.Hubs:
		return fmt.Errorf("study: %d connections for %d hubs: each hub needs one", c.Conns, c.Hubs)
	case c.Trace != "" && c.Executor != Hub && c.Executor != Hubs:
		return fmt.Errorf("study: executor %q runs no hub to trace", c.Executor)
	}
	return nil
}

// Serve runs the executor cfg names: it dials cfg.Conns connections to the
// producer, handles every Request that arrives on them and returns once
// the producer has closed them all and every handler has ended. A handler
// spins for the Request's Work, calls the downstream server with its Wait,
// and writes a Reply with the Request's ID and payload. failures counts the
// handlers that could not finish (a downstream call or a reply that
// failed). Serve blocks; any goroutine may call it.
func Serve(cfg ServeConfig, spin Spinner, failures *atomic.Int64) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	var opts []hub.Option
	if cfg.Trace != "" {
		tr, err := timeline.Create(cfg.Trace)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, tr.Close()) }()
		opts = append(opts, hub.WithTracer(tr))
	}
	x := &handler{spin: spin, failures: failures}
	switch cfg.Executor {
	case Hub:
		h := hub.New(opts...)
		return h.Run(func() error { return serveOnHub(h, cfg, x, 0, 1) })
	case Hubs:
		return hub.NewGroup(cfg.Hubs, opts...).Run(func(h *hub.Hub, i int) error {
			return serveOnHub(h, cfg, x, i, cfg.Hubs)
		})
	case Goroutines:
		return serveGoroutines(cfg, x, 0)
	default:
		return serveGoroutines(cfg, x, cfg.Pool)
	}
}

// serveOnHub is hub i of n: it reads connections i, i+n, … of the
// producer, each in its own green thread, and spawns a handler per Request
// into a pool of cfg.Pool (a full pool makes the reader wait, as eventlet's
// spawn_n does). Replies to one connection are written one at a time under
// a green lock. It runs as hub i's main green thread.
func serveOnHub(h *hub.Hub, cfg ServeConfig, x *handler, i, n int) error {
	down := &downstream{dial: func() (net.Conn, error) { return netio.Dial(h, "tcp", cfg.Downstream) }}
	defer down.close()
	pool := greenpool.New(h, cfg.Pool)
	// name names the running green thread's track in a trace, "role n";
	// untraced runs skip it (and box nothing), for a name costs an
	// allocation per message.
	name := func(role string, n int) {
		if cfg.Trace != "" {
			greenthread.Current(h).G().SetName(role + " " + strconv.Itoa(n))
		}
	}
	name("main", i)
	handlers := 0 // spawned on this hub; its green threads alone touch it
	var readers []*greenthread.Thread[struct{}]
	for conn := i; conn < cfg.Conns; conn += n {
		c, err := netio.Dial(h, "tcp", cfg.Producer)
		if err != nil {
			return err
		}
		defer c.Close()
		mu := greensync.NewMutex(h)
		reply := func(b []byte) error {
			mu.Lock()
			defer mu.Unlock()
			_, err := c.Write(b)
			return err
		}
		readers = append(readers, greenthread.Spawn(h, func() (struct{}, error) {
			name("reader", conn)
			return struct{}{}, readRequests(c, func(f Frame) error {
				handlers++
				nth := handlers
				return pool.SpawnN(func() {
					name("handler", nth)
					x.handle(f, down, reply)
				})
			})
		}))
	}
	var errs []error
	for _, t := range readers {
		_, err := t.Wait()
		errs = append(errs, err)
	}
	errs = append(errs, pool.WaitAll())
	return errors.Join(errs...)
}

// serveGoroutines reads each producer connection on its own goroutine and
// runs a handler per Request: on a new goroutine when workers is 0, else
// on one of workers goroutines fed by a queue (futurist's
// ThreadPoolExecutor, under oslo's threading executor). net.Conn's Write
// is safe for concurrent use and writes a whole reply, so replies need no
// lock of their own.
func serveGoroutines(cfg ServeConfig, x *handler, workers int) error {
	down := &downstream{dial: func() (net.Conn, error) { return net.Dial("tcp", cfg.Downstream) }}
	defer down.close()
	var handlers sync.WaitGroup
	var queue chan func()
	if workers > 0 {
		queue = make(chan func(), queueSize)
		handlers.Add(workers)
		for range workers {
			go func() {
				defer handlers.Done()
				for job := range queue {
					job()
				}
			}()
		}
	}
	conns := make([]net.Conn, 0, cfg.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range cfg.Conns {
		c, err := net.Dial("tcp", cfg.Producer)
		if err != nil {
			if queue != nil {
				close(queue)
			}
			handlers.Wait()
			return err
		}
		conns = append(conns, c)
	}
	errs := make([]error, len(conns))
	var readers sync.WaitGroup
	readers.Add(len(conns))
	for i, c := range conns {
		reply := func(b []byte) error { _, err := c.Write(b); return err }
		go func() {
			defer readers.Done()
			errs[i] = readRequests(c, func(f Frame) error {
				job := func() { x.handle(f, down, reply) }
				if queue != nil {
					queue <- job
					return nil
				}
				handlers.Add(1)
				go func() {
					defer handlers.Done()
					job()
				}()
				return nil
			})
		}()
	}
	readers.Wait()
	if queue != nil {
		close(queue)
	}
	handlers.Wait()
	return errors.Join(errs...)
}

// queueSize bounds the Pool executor's queue. The producer keeps at most
// its in-flight count of messages outstanding, so the queue is never the
// limit below that count; above it the reader waits, and messages wait in
// the socket as they do for the hub's reader at a full pool.
const queueSize = 4096

// readRequests reads Requests from c and passes each to dispatch until c
// ends (nil) or fails. Every Request gets its own payload.
func readRequests(c net.Conn, dispatch func(Frame) error) error {
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		f, err := ReadFrame(br, nil)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("study: read request: %w", err)
		}
		if f.Kind != Request {
			return fmt.Errorf("study: %w: %v where a request was expected", ErrFrame, f.Kind)
		}
		if err := dispatch(f); err != nil {
			return err
		}
	}
}

// handler is the work of one message, the same for every executor.
type handler struct {
	spin     Spinner
	failures *atomic.Int64
}

// handle spins for req.Work, calls the downstream server with req.Wait and
// writes the Reply with reply.
func (x *handler) handle(req Frame, down *downstream, reply func([]byte) error) {
	x.spin.Spin(time.Duration(req.Work) * time.Microsecond)
	if err := down.call(req.ID, req.Wait); err != nil {
		x.failures.Add(1)
		return
	}
	b := AppendFrame(make([]byte, 0, HeaderSize+len(req.Payload)), Frame{Kind: Reply, ID: req.ID, Payload: req.Payload})
	if err := reply(b); err != nil {
		x.failures.Add(1)
	}
}

// downstream is a handler's client of the downstream server, which keeps
// idle connections as an HTTP client keeps keep-alive connections: a call
// takes an idle connection or dials a new one, and puts it back after the
// answer, so there are as many connections as calls were ever at once in
// flight. mu is never held across a blocking call, so green threads of one
// hub may share a downstream (the hub's lock rule) as goroutines may.
type downstream struct {
	dial func() (net.Conn, error)

	mu   sync.Mutex
	idle []net.Conn
	all  []net.Conn
}

// call sends a Call with id and wait and reads its Result.
func (d *downstream) call(id uint64, wait uint32) error {
	c, err := d.get()
	if err != nil {
		return err
	}
	var buf [HeaderSize]byte
	if _, err := c.Write(AppendFrame(buf[:0], Frame{Kind: Call, ID: id, Wait: wait})); err != nil {
		return fmt.Errorf("study: downstream call: %w", err)
	}
	f, err := ReadFrame(c, buf[:0])
	if err != nil {
		return fmt.Errorf("study: downstream result: %w", err)
	}
	if f.Kind != Result || f.ID != id {
		return fmt.Errorf("study: %w: downstream answered %v %d to call %d", ErrFrame, f.Kind, f.ID, id)
	}
	d.put(c)
	return nil
}

func (d *downstream) get() (net.Conn, error) {
	d.mu.Lock()
	if n := len(d.idle); n > 0 {
		c := d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		return c, nil
	}
	d.mu.Unlock()
	c, err := d.dial()
	if err != nil {
		return nil, fmt.Errorf("study: dial downstream: %w", err)
	}
	d.mu.Lock()
	d.all = append(d.all, c)
	d.mu.Unlock()
	return c, nil
}

func (d *downstream) put(c net.Conn) {
	d.mu.Lock()
	d.idle = append(d.idle, c)
	d.mu.Unlock()
}

// close closes every connection ever dialled; call it once the handlers
// have ended.
func (d *downstream) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.all {
		c.Close()
	}
	d.all, d.idle = nil, nil
}
