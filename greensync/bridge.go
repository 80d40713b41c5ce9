package greensync

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/greenhub/greenhub/hub"
)

var (
	reasonRecv = hub.Block("chan receive")
	reasonSend = hub.Block("chan send")
	reasonWG   = hub.Block("waitgroup")
)

// onHubThread reports whether the caller is h's own thread, where a
// goroutine-style wait would stop the hub.
func onHubThread(h *hub.Hub) bool {
	_, err := h.Raw().Caller()
	return err == nil
}

// Call runs fn in a new green thread of h and blocks the calling goroutine
// — never the hub — until fn returns, then returns its result; fn may
// block as green threads do. Use it to reach greensync objects and netio
// sockets from ordinary goroutine code. It may be called before Run (fn
// runs once the hub starts). If the hub has stopped, or stops before fn
// could run, the error matches hub.ErrStopped; if fn's green thread is
// killed (the hub shutting down), it matches hub.ErrKilled; a panic in fn
// is a *hub.PanicError. Called on the hub's thread — or on another hub's,
// whose green threads it would all stop — it returns ErrOnHub (use
// CallHub between hubs).
func Call[T any](h *hub.Hub, fn func() (T, error)) (T, error) {
	var zero T
	if onHubThread(h) {
		return zero, ErrOnHub
	}
	if hub.CallerHub() != nil {
		return zero, fmt.Errorf("%w (another hub's: use CallHub)", ErrOnHub)
	}
	c := &call[T]{fn: fn, done: make(chan struct{}), unref: h.Ref()}
	if err := h.Submit(c.start(h)); err != nil {
		c.unref()
		return zero, wrapOp("call", err)
	}
	<-c.done
	return c.v, c.err
}

type call[T any] struct {
	fn    func() (T, error)
	v     T
	err   error
	done  chan struct{}
	unref func() // the caller's reference on the hub, until start runs
}

func (c *call[T]) start(h *hub.Hub) func() {
	return func() {
		c.unref() // from here the green thread keeps the hub busy
		_, err := h.Raw().Spawn(c.run, c.exit)
		if err != nil {
			c.err = wrapOp("call", err)
			close(c.done)
		}
	}
}

func (c *call[T]) run() error {
	v, err := c.fn()
	c.v = v
	return err
}

func (c *call[T]) exit(g *hub.G) {
	c.err = g.Err()
	close(c.done)
}

// Go starts fn in a new green thread of h from any goroutine and returns
// without waiting: fire-and-forget, eventlet's spawn_n across the door. It
// returns an error matching hub.ErrStopped if the hub has stopped; if the
// hub stops after Go returned but before fn started, fn never runs. A
// panic in fn is logged by the hub. Called on the hub's thread it returns
// ErrOnHub (use greenthread.SpawnN there).
func Go(h *hub.Hub, fn func()) error {
	if onHubThread(h) {
		return ErrOnHub
	}
	unref := h.Ref()
	err := h.Submit(func() {
		unref()
		h.Raw().Spawn(func() error { fn(); return nil }, nil) // a panic goes to the hub's panic handler
	})
	if err != nil {
		unref()
		return wrapOp("go", err)
	}
	return nil
}

// chanOp is one Recv or Send in flight: a helper goroutine does the
// channel operation and reports through the hub's door. The goroutine
// writes v, ok, did and panicked before it submits its report; the hub
// reads them after (the door orders the two). The other fields are the hub
// thread's.
type chanOp[T any] struct {
	cancel    chan struct{}
	stopped   bool   // cancel is closed
	g         *hub.G // the green thread, while it waits for the report
	done      bool   // the goroutine has reported
	abandoned bool   // the green thread was killed before the report
	did       bool   // the channel operation happened
	v         T
	ok        bool
	panicked  any
	// giveBack, for a Recv, returns a value taken for a green thread that
	// was killed before it could return it (see recvSide).
	giveBack func(op *chanOp[T])
}

func newChanOp[T any]() *chanOp[T] { return &chanOp[T]{cancel: make(chan struct{})} }

// start runs the channel operation in a helper goroutine that holds a
// reference on the hub (Hub.Ref) until its report has run there.
func (op *chanOp[T]) start(h *hub.Hub, do func(cancel <-chan struct{})) {
	unref := h.Ref()
	cancel := op.cancel
	report := func() {
		unref()
		op.done = true
		if op.abandoned {
			op.lost()
			return
		}
		if op.g != nil {
			h.Raw().Ready(op.g, nil)
		}
	}
	go func() {
		defer func() {
			if h.Submit(report) != nil {
				unref() // the hub has stopped: nobody is left to wait
			}
		}()
		do(cancel)
	}()
}

// lost runs on the hub's thread when both the report is in and the green
// thread was killed: a value received must not vanish with it.
func (op *chanOp[T]) lost() {
	if op.did && op.giveBack != nil {
		op.giveBack(op)
	}
}

func (op *chanOp[T]) stop() {
	if !op.stopped {
		op.stopped = true
		close(op.cancel)
	}
}

// await parks until the helper goroutine has reported. If the green thread
// is woken by something else first (a Timeout, a context, an interrupt),
// it tells the goroutine to give up and still waits for its report — a
// select returns at once — so an operation that did happen is never lost:
// then await reports it and raises the error again at the green thread's
// next blocking call. A kill stops the goroutine and unwinds at once; what
// the goroutine received all the same is given back (lost).
func (op *chanOp[T]) await(h *hub.Hub, g *hub.G, why hub.Reason) (err error) {
	op.g = g
	returned := false
	defer func() {
		op.g = nil
		if returned {
			return
		}
		// Killed.
		if op.done {
			op.lost()
			return
		}
		op.abandoned = true
		op.stop() // the goroutine must not hang; its report calls lost
	}()
	for !op.done {
		if perr := h.Raw().Park(why); perr != nil && err == nil {
			err = perr
			op.stop()
		}
	}
	returned = true
	if op.did && err != nil {
		h.Raw().Interrupt(g, err)
		err = nil
	}
	return err
}

// recvKey names a channel received from on a hub.
type recvKey struct {
	h  *hub.Hub
	ch any
}

// recvSide is what the green receivers of one channel on one hub share
// while some are in flight or values wait for them: the Recv calls whose
// helpers wait on the channel, and the values helpers took for green
// threads killed before they could return them (oldest first). The next
// Recv of the channel gets those first; when one is given back, the
// helpers in flight are told to give up so that their green threads look
// again. The map is shared by every hub (under recvs.mu); a recvSide's
// fields are touched on its hub's thread only.
type recvSide struct {
	ops    []interface{ stop() }
	spares []any
}

var recvs struct {
	mu     sync.Mutex
	sides  map[recvKey]*recvSide
	spares atomic.Int64 // values given back, on every hub: Recv's fast check
}

func recvSideOf(k recvKey, create bool) *recvSide {
	recvs.mu.Lock()
	defer recvs.mu.Unlock()
	s := recvs.sides[k]
	if s == nil && create {
		if recvs.sides == nil {
			recvs.sides = map[recvKey]*recvSide{}
		}
		s = &recvSide{}
		recvs.sides[k] = s
	}
	return s
}

// tidy forgets s once nothing is in flight and nothing waits in it.
func (s *recvSide) tidy(k recvKey) {
	if len(s.ops) == 0 && len(s.spares) == 0 {
		recvs.mu.Lock()
		delete(recvs.sides, k)
		recvs.mu.Unlock()
	}
}

// takeSpare returns the oldest value given back for ch on h, if any.
func takeSpare[T any](k recvKey) (v T, found bool) {
	if recvs.spares.Load() == 0 {
		return v, false
	}
	s := recvSideOf(k, false)
	if s == nil || len(s.spares) == 0 {
		return v, false
	}
	v = s.spares[0].(T)
	s.spares[0] = nil
	s.spares = s.spares[1:]
	recvs.spares.Add(-1)
	s.tidy(k)
	return v, true
}

// Recv receives from ch in the calling green thread without blocking the
// hub: v, ok as from "v, ok := <-ch". A value ready at once is taken
// without leaving the hub's thread; otherwise a helper goroutine waits on
// ch and hands the value over through the hub's door, holding a reference
// on the hub (Hub.Ref) meanwhile. If a Timeout or a context ends the wait,
// Recv returns its error and took no value (should the goroutine have
// taken one in that instant, Recv returns the value and the error comes at
// the next blocking call instead). A kill ends the goroutine too: nothing
// outlives the call, and a value the goroutine took in that instant is not
// lost but goes to the next Recv of ch on this hub.
func Recv[T any](h *hub.Hub, ch <-chan T) (v T, ok bool, err error) {
	k := recvKey{h, ch}
	if recvs.spares.Load() != 0 && onHubThread(h) {
		if v, found := takeSpare[T](k); found {
			return v, true, nil
		}
	}
	select {
	case v, ok = <-ch:
		return v, ok, nil
	default:
	}
	g, err := green(h, "chan receive")
	if err != nil {
		return v, false, err
	}
	for {
		s := recvSideOf(k, true)
		op := newChanOp[T]()
		op.giveBack = func(op *chanOp[T]) { giveBack(k, op.v, op.ok) }
		s.ops = append(s.ops, op)
		op.start(h, func(cancel <-chan struct{}) {
			select {
			case op.v, op.ok = <-ch:
				op.did = true
			case <-cancel:
			}
		})
		err := func() error {
			defer s.leave(k, op)
			return op.await(h, g, reasonRecv)
		}()
		if op.did {
			// A value given back while this one was on its way came out
			// of ch first: return that, and give this one back after it.
			if sv, found := takeSpare[T](k); found {
				giveBack(k, op.v, op.ok)
				return sv, true, err
			}
			return op.v, op.ok, err
		}
		if err != nil {
			return v, false, err
		}
		// Stopped because a value was given back: take it, or wait anew.
		if v, found := takeSpare[T](k); found {
			return v, true, nil
		}
	}
}

// leave takes op off the list of Recv calls in flight.
func (s *recvSide) leave(k recvKey, op interface{ stop() }) {
	for i, o := range s.ops {
		if o == op {
			last := len(s.ops) - 1
			s.ops[i], s.ops[last] = s.ops[last], nil
			s.ops = s.ops[:last]
			break
		}
	}
	s.tidy(k)
}

// giveBack keeps a value received for a green thread that could not take
// it, for the next Recv of the channel on the hub, and tells the helpers in
// flight to give up so that their green threads take it. A closed channel's
// zero value is no value and is dropped.
func giveBack[T any](k recvKey, v T, ok bool) {
	if !ok {
		return
	}
	s := recvSideOf(k, true)
	s.spares = append(s.spares, v)
	recvs.spares.Add(1)
	for _, op := range s.ops {
		op.stop()
	}
}

// Send sends v on ch from the calling green thread without blocking the
// hub, the way Recv receives. It returns nil once v is sent; if a Timeout
// or a context ends the wait it returns that error and v was not sent
// (unless it went in that instant: then Send returns nil and the error
// comes at the next blocking call). Sending on a closed channel panics, as
// in Go.
func Send[T any](h *hub.Hub, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	default:
	}
	g, err := green(h, "chan send")
	if err != nil {
		return err
	}
	op := newChanOp[T]()
	op.start(h, func(cancel <-chan struct{}) {
		defer func() {
			if r := recover(); r != nil {
				op.panicked = r
			}
		}()
		select {
		case ch <- v:
			op.did = true
		case <-cancel:
		}
	})
	err = op.await(h, g, reasonSend)
	if op.panicked != nil {
		panic(op.panicked)
	}
	return err
}

// WaitGroup blocks the calling green thread until wg's counter is zero,
// without blocking the hub: a helper goroutine calls wg.Wait and wakes the
// green thread through the door, holding a reference on the hub (Hub.Ref)
// until its wake-up has run there. A Timeout or a context ends the green
// thread's wait early; the goroutine itself (and its reference) lives until
// wg.Wait returns, since a WaitGroup wait cannot be abandoned.
func WaitGroup(h *hub.Hub, wg *sync.WaitGroup) error {
	if _, err := green(h, "waitgroup"); err != nil {
		return err
	}
	tok, _ := h.Raw().Token()
	unref := h.Ref()
	go func() {
		wg.Wait()
		err := h.Submit(func() {
			unref()
			h.Raw().ReadyToken(tok, nil)
		})
		if err != nil {
			unref()
		}
	}()
	return h.Raw().Park(reasonWG)
}
