package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFailed is wrapped by the error Run returns when an echoed byte did not
// match or a connection failed during the run.
var ErrFailed = errors.New("loadgen: run failed")

// Result is what one run measured. Only messages whose echo was read back
// and verified inside the measured window count.
type Result struct {
	Addr     string        `json:"addr"`
	Conns    int           `json:"conns"`
	Size     int           `json:"size"`
	Inflight int           `json:"inflight"`
	Window   time.Duration `json:"window_ns"` // length of the measured window
	Msgs     int64         `json:"msgs"`      // messages echoed and verified in the window
	Bytes    int64         `json:"bytes"`     // Msgs × Size
	// MsgsPerSec and MBPerSec are Msgs and Bytes (10^6 bytes) per second of
	// Window; one message is one round trip, its bytes counted once.
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	Latency    Latency `json:"latency"`
	// Mismatches counts connections that received a byte different from
	// the one sent; Errors counts connections that failed (dial, read,
	// write, or the server closing) before the window ended.
	Mismatches int64  `json:"mismatches"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
}

// Failed reports whether the run saw a mismatch or an error.
func (r *Result) Failed() bool { return r.Mismatches > 0 || r.Errors > 0 }

// String formats r for people, on a few lines.
func (r *Result) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %d conns × %d B, %d in flight, %v measured\n",
		r.Addr, r.Conns, r.Size, r.Inflight, r.Window)
	fmt.Fprintf(&b, "  %d msgs  %.0f msgs/s  %.2f MB/s\n", r.Msgs, r.MsgsPerSec, r.MBPerSec)
	l := r.Latency
	fmt.Fprintf(&b, "  rtt mean %v  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n",
		l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	fmt.Fprintf(&b, "  mismatches %d  errors %d", r.Mismatches, r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, "  first error: %s", r.FirstError)
	}
	b.WriteByte('\n')
	return b.String()
}

// Run opens cfg.Conns connections to cfg.Addr, drives them for the warm-up
// and the measured window, closes them and returns what it measured.
//
// The error is nil on success; it wraps ErrConfig for a bad cfg, ErrFailed
// when any byte mismatched or any connection failed (the Result is then
// filled in too), or ctx's error when ctx ended first. Run leaves no
// goroutine or connection behind.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg}
	res := &Result{Addr: cfg.Addr, Conns: cfg.Conns, Size: cfg.Size, Inflight: cfg.Inflight}

	conns, err := r.dialAll(ctx)
	if err != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		res.Errors = 1
		res.FirstError = err.Error()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("%w: %v", ErrFailed, err)
	}

	shards := min(cfg.Conns, 4*runtime.GOMAXPROCS(0))
	r.hist = newShardedHist(shards)
	t0 := time.Now()
	r.start = t0.Add(cfg.Warmup)
	r.end = r.start.Add(cfg.Duration)

	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			w := &worker{run: r, conn: c, id: i, rec: r.hist.recorder(i)}
			w.loop()
			w.rec.flush()
			r.msgs.Add(w.msgs)
		}()
	}

	// Cancellation: cut every connection short; the workers see a deadline.
	stop := make(chan struct{})
	cancelled := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			r.cancelled.Store(true)
			for _, c := range conns {
				c.SetDeadline(time.Now())
			}
		case <-stop:
		}
		close(cancelled)
	}()

	if r.sleepUntil(ctx, r.start) && cfg.OnPhase != nil {
		cfg.OnPhase(MeasureStart)
	}
	if r.sleepUntil(ctx, r.end) && cfg.OnPhase != nil {
		cfg.OnPhase(MeasureEnd)
	}
	wg.Wait()
	close(stop)
	<-cancelled

	res.Window = cfg.Duration
	res.Msgs = r.msgs.Load()
	res.Bytes = res.Msgs * int64(cfg.Size)
	secs := cfg.Duration.Seconds()
	res.MsgsPerSec = float64(res.Msgs) / secs
	res.MBPerSec = float64(res.Bytes) / secs / 1e6
	res.Latency = Summarize(r.hist.merged())
	res.Mismatches = r.mismatches.Load()
	res.Errors = r.errors.Load()
	if p := r.firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.Failed() {
		return res, fmt.Errorf("%w: %d mismatches, %d errors; first: %s",
			ErrFailed, res.Mismatches, res.Errors, res.FirstError)
	}
	return res, nil
}

// run is the state shared by the workers of one Run.
type run struct {
	cfg        Config
	start, end time.Time
	hist       *shardedHist
	msgs       atomic.Int64
	mismatches atomic.Int64
	errors     atomic.Int64
	firstErr   atomic.Pointer[string]
	cancelled  atomic.Bool
}

// sleepUntil waits for t; it reports false if ctx ended first.
func (r *run) sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *run) fail(counter *atomic.Int64, err error) {
	counter.Add(1)
	s := err.Error()
	r.firstErr.CompareAndSwap(nil, &s)
}

// dialAll opens cfg.Conns connections, cfg.DialConcurrency at a time. On
// error the slice holds the connections opened so far (others nil).
func (r *run) dialAll(ctx context.Context) ([]net.Conn, error) {
	conns := make([]net.Conn, r.cfg.Conns)
	d := net.Dialer{Timeout: r.cfg.DialTimeout}
	sem := make(chan struct{}, r.cfg.DialConcurrency)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range conns {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := d.DialContext(ctx, "tcp", r.cfg.Addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("dial %d: %w", i, err)
				}
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return conns, first
}

// patternPeriod is the number of distinct messages per connection; message
// k is pattern[k%patternPeriod:][:size]. It is prime and not a divisor of
// 256, so neighbouring messages differ in every byte.
const patternPeriod = 251

// pattern returns the byte pattern of connection id, long enough for every
// message of size bytes.
func pattern(id, size int) []byte {
	p := make([]byte, size+patternPeriod)
	for i := range p {
		p[i] = byte(i*7 + id*13 + 1)
	}
	return p
}

// worker drives one connection.
type worker struct {
	run  *run
	conn net.Conn
	id   int
	rec  *recorder
	msgs int64 // counted messages
}

func (w *worker) loop() {
	w.conn.SetDeadline(w.run.end)
	if w.run.cfg.Inflight == 1 {
		w.requestResponse()
	} else {
		w.pipelined()
	}
}

// requestResponse writes one message, reads its echo, checks and times it.
func (w *worker) requestResponse() {
	size := w.run.cfg.Size
	pat := pattern(w.id, size)
	in := make([]byte, size)
	for k := 0; ; k++ {
		msg := pat[k%patternPeriod:][:size]
		sent := time.Now()
		if _, err := w.conn.Write(msg); err != nil {
			w.ioError("write", err)
			return
		}
		now, ok := w.readCheck(in, msg)
		if !ok {
			return
		}
		w.count(sent, now)
	}
}

// pipelined keeps Inflight messages in flight: a writer goroutine sends
// while this one reads; the window channel carries each message's send time
// and bounds how far the writer runs ahead.
func (w *worker) pipelined() {
	size := w.run.cfg.Size
	pat := pattern(w.id, size)
	window := make(chan time.Time, w.run.cfg.Inflight)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; ; k++ {
			select {
			case window <- time.Now():
			case <-done:
				return
			}
			if _, err := w.conn.Write(pat[k%patternPeriod:][:size]); err != nil {
				w.ioError("write", err)
				// Wake the reader, which would otherwise wait for an echo
				// of a message never sent.
				w.conn.SetReadDeadline(time.Now())
				return
			}
		}
	}()
	in := make([]byte, size)
	for k := 0; ; k++ {
		now, ok := w.readCheck(in, pat[k%patternPeriod:][:size])
		if !ok {
			break
		}
		// The send time went into the window before the write started, so
		// it is there by the time the echo has been read.
		w.count(<-window, now)
	}
	// Unblock a writer stuck in Write or in the window, then wait for it.
	w.conn.SetWriteDeadline(time.Now())
	close(done)
	wg.Wait()
}

// readCheck reads one echo into in and compares it with want. It returns
// the time the read completed and whether to go on.
func (w *worker) readCheck(in, want []byte) (time.Time, bool) {
	if _, err := io.ReadFull(w.conn, in); err != nil {
		w.ioError("read", err)
		return time.Time{}, false
	}
	now := time.Now()
	if !bytes.Equal(in, want) {
		i := 0
		for in[i] == want[i] {
			i++
		}
		w.run.fail(&w.run.mismatches, fmt.Errorf("conn %d: byte %d of a message: got %#02x, want %#02x",
			w.id, i, in[i], want[i]))
		return now, false
	}
	return now, true
}

// count counts a verified message sent at sent and received at now if it
// completed inside the measured window.
func (w *worker) count(sent, now time.Time) {
	if !now.Before(w.run.start) && now.Before(w.run.end) {
		w.msgs++
		w.rec.add(now.Sub(sent))
	}
}

// ioError records err unless it is the end of the window or a cancel.
func (w *worker) ioError(op string, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) || w.run.cancelled.Load() {
		return
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("server closed the connection")
	}
	w.run.fail(&w.run.errors, fmt.Errorf("conn %d: %s: %w", w.id, op, err))
}
