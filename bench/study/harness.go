package study

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/greenhub/greenhub/bench/loadgen"
)

// The harness is the executor's surroundings, in the process that runs the
// study: the producer, which plays the message broker, and the downstream
// server, which plays the database or the service a handler calls. Both
// are plain goroutines on blocking stdlib net, as bench/loadgen is.

// downstreamServer answers every Call after its Wait, on a goroutine per
// connection, so it takes any number of calls at once: it is never the
// limit. It records how late each answer leaves (the time from reading the
// Call to writing the Result, less the Wait): the proof, in every cell's
// results, that the executor did not wait on it.
type downstreamServer struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	late  *hdrhistogram.Histogram
}

func startDownstream() (*downstreamServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &downstreamServer{ln: ln, conns: map[net.Conn]struct{}{}, late: loadgen.NewHistogram()}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *downstreamServer) addr() string { return s.ln.Addr().String() }

func (s *downstreamServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *downstreamServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var buf [HeaderSize]byte
	for {
		f, err := ReadFrame(c, buf[:0])
		if err != nil || f.Kind != Call {
			return
		}
		start := time.Now()
		wait := time.Duration(f.Wait) * time.Microsecond
		if wait > 0 {
			time.Sleep(wait)
		}
		out := AppendFrame(buf[:0], Frame{Kind: Result, ID: f.ID})
		late := time.Since(start) - wait
		s.mu.Lock()
		loadgen.Record(s.late, late)
		s.mu.Unlock()
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// close stops the server and returns the lateness of its answers.
func (s *downstreamServer) close() loadgen.Latency {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return loadgen.Summarize(s.late)
}

// load is the producer's side of the connections an executor dialled: it
// keeps a number of Requests in flight on each, records each Reply's
// latency (from just before the Request's write to the Reply's read) while
// measuring, and checks that every Request is answered once.
type load struct {
	flows     []*flow
	measuring atomic.Bool
	stop      chan struct{}
	writers   sync.WaitGroup
	readers   sync.WaitGroup
	epoch     time.Time
}

// A flow is one connection of a load: its writer sends a Request whenever
// one of its slots is free, its reader frees the slot when the Reply comes.
// A Request's ID is its slot in the low 32 bits and the flow's count of
// Requests in the high ones, so a duplicated or invented Reply is caught.
type flow struct {
	c     net.Conn
	free  chan uint32
	sent  []atomic.Int64  // per slot: nanoseconds since the load's epoch
	ids   []atomic.Uint64 // per slot: the ID in flight
	out   atomic.Int64    // Requests sent and not answered
	fin   atomic.Bool     // the writer has stopped
	hist  *hdrhistogram.Histogram
	msgs  int64 // Replies counted while measuring
	err   error
	extra int64 // Replies with no Request in flight
}

// startLoad keeps inflight Requests of work, wait and a payload of size
// bytes in flight over conns, split as evenly as it goes.
func startLoad(conns []net.Conn, inflight int, work, wait time.Duration, size int) *load {
	l := &load{stop: make(chan struct{}), epoch: time.Now()}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i, c := range conns {
		k := inflight / len(conns)
		if i < inflight%len(conns) {
			k++
		}
		f := &flow{c: c, free: make(chan uint32, k), sent: make([]atomic.Int64, k),
			ids: make([]atomic.Uint64, k), hist: loadgen.NewHistogram()}
		for s := range k {
			f.free <- uint32(s)
		}
		l.flows = append(l.flows, f)
		if k == 0 {
			f.fin.Store(true)
			continue
		}
		l.writers.Add(1)
		go l.write(f, Frame{Kind: Request, Work: uint32(work / time.Microsecond), Wait: uint32(wait / time.Microsecond), Payload: payload})
		l.readers.Add(1)
		go l.read(f)
	}
	return l
}

func (l *load) write(f *flow, req Frame) {
	defer l.writers.Done()
	buf := make([]byte, 0, HeaderSize+len(req.Payload))
	for n := uint64(1); ; n++ {
		var slot uint32
		select {
		case <-l.stop:
			return
		case slot = <-f.free:
		}
		req.ID = n<<32 | uint64(slot)
		f.ids[slot].Store(req.ID)
		f.out.Add(1)
		f.sent[slot].Store(int64(time.Since(l.epoch)))
		if _, err := f.c.Write(AppendFrame(buf[:0], req)); err != nil {
			f.out.Add(-1)
			return // the reader sees the connection fail too
		}
	}
}

func (l *load) read(f *flow) {
	defer l.readers.Done()
	br := bufio.NewReaderSize(f.c, 64<<10)
	for {
		r, err := ReadFrame(br, nil)
		if err != nil {
			if f.fin.Load() && f.out.Load() == 0 {
				return // drained; the deadline or the close ended the read
			}
			f.err = fmt.Errorf("study: read reply: %w", err)
			return
		}
		slot := uint32(r.ID)
		if r.Kind != Reply || int(slot) >= len(f.ids) || f.ids[slot].Swap(0) != r.ID {
			f.extra++
			f.err = fmt.Errorf("study: %w: unexpected %v %#x", ErrFrame, r.Kind, r.ID)
			return
		}
		rtt := time.Since(l.epoch) - time.Duration(f.sent[slot].Load())
		if l.measuring.Load() {
			loadgen.Record(f.hist, rtt)
			f.msgs++
		}
		f.free <- slot
		if f.out.Add(-1) == 0 && f.fin.Load() {
			return
		}
	}
}

// finish stops sending, waits up to drain for the Replies still owed, and
// closes the connections. It returns the first failure and how many
// Requests were left unanswered.
func (l *load) finish(drain time.Duration) (unanswered int64, err error) {
	close(l.stop)
	l.writers.Wait()
	for _, f := range l.flows {
		f.fin.Store(true)
		if f.out.Load() == 0 {
			f.c.SetReadDeadline(time.Now()) // wake a reader waiting for nothing
		} else {
			f.c.SetReadDeadline(time.Now().Add(drain))
		}
	}
	l.readers.Wait()
	var errs []error
	for _, f := range l.flows {
		unanswered += f.out.Load()
		if f.err != nil {
			errs = append(errs, f.err)
		}
		f.c.Close()
	}
	return unanswered, errors.Join(errs...)
}

// result merges the flows' counts and histograms; call it after finish.
func (l *load) result() (msgs int64, lat loadgen.Latency) {
	h := loadgen.NewHistogram()
	for _, f := range l.flows {
		msgs += f.msgs
		h.Merge(f.hist)
	}
	return msgs, loadgen.Summarize(h)
}

// acceptN accepts n connections from ln, failing after timeout or when
// died is closed (the executor exited first).
func acceptN(ln net.Listener, n int, timeout time.Duration, died <-chan struct{}) ([]net.Conn, error) {
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, n)
	go func() {
		defer close(ch)
		for range n {
			c, err := ln.Accept()
			ch <- accepted{c, err}
			if err != nil {
				return
			}
		}
	}()
	var conns []net.Conn
	fail := func(err error) ([]net.Conn, error) {
		ln.Close() // ends the accepting goroutine
		for _, c := range conns {
			c.Close()
		}
		for a := range ch {
			if a.c != nil {
				a.c.Close()
			}
		}
		return nil, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(conns) < n {
		select {
		case a := <-ch:
			if a.err != nil {
				return fail(a.err)
			}
			conns = append(conns, a.c)
		case <-timer.C:
			return fail(fmt.Errorf("study: %d of %d connections after %v", len(conns), n, timeout))
		case <-died:
			return fail(errors.New("study: the executor exited before it connected"))
		}
	}
	return conns, nil
}
