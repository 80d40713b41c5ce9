package greensync

import (
	"errors"
	"sync"

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
	_, err := h.Raw().Token()
	return err == nil || errors.Is(err, hub.ErrNotGreen)
}

// Call runs fn in a new green thread of h and blocks the calling goroutine
// — never the hub — until fn returns, then returns its result; fn may
// block as green threads do. Use it to reach greensync objects and netio
// sockets from ordinary goroutine code. It may be called before Run (fn
// runs once the hub starts). If the hub has stopped, or stops before fn
// could run, the error matches hub.ErrStopped; if fn's green thread is
// killed (the hub shutting down), it matches hub.ErrKilled; a panic in fn
// is a *hub.PanicError. Called on the hub's thread it returns ErrOnHub.
func Call[T any](h *hub.Hub, fn func() (T, error)) (T, error) {
	var zero T
	if onHubThread(h) {
		return zero, ErrOnHub
	}
	c := &call[T]{fn: fn, done: make(chan struct{})}
	if err := h.Submit(c.start(h)); err != nil {
		return zero, wrapOp("call", err)
	}
	<-c.done
	return c.v, c.err
}

type call[T any] struct {
	fn   func() (T, error)
	v    T
	err  error
	done chan struct{}
}

func (c *call[T]) start(h *hub.Hub) func() {
	return func() {
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
	err := h.Submit(func() {
		h.Raw().Spawn(func() error { fn(); return nil }, logPanic)
	})
	if err != nil {
		return wrapOp("go", err)
	}
	return nil
}

func logPanic(g *hub.G) {
	var p *hub.PanicError
	if errors.As(g.Err(), &p) {
		g.Hub().Raw().Logger().Error("greensync: green thread panicked", "g", g.String(), "panic", p.Value, "stack", string(p.Stack))
	}
}

// chanOp is one Recv or Send in flight: a helper goroutine does the
// channel operation and reports through the hub's door. The goroutine
// writes v, ok, did and panicked before it submits its report; the hub
// reads them after (the door orders the two). The other fields are the hub
// thread's.
type chanOp[T any] struct {
	cancel   chan struct{}
	stopped  bool   // cancel is closed
	g        *hub.G // the green thread, while it waits for the report
	done     bool   // the goroutine has reported
	did      bool   // the channel operation happened
	v        T
	ok       bool
	panicked any
}

func newChanOp[T any]() *chanOp[T] { return &chanOp[T]{cancel: make(chan struct{})} }

// report is what the helper goroutine submits to the hub.
func (op *chanOp[T]) report(h *hub.Hub) func() {
	return func() {
		op.done = true
		if op.g != nil {
			h.Raw().Ready(op.g, nil)
		}
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
// next blocking call. A kill stops the goroutine and unwinds at once.
func (op *chanOp[T]) await(h *hub.Hub, g *hub.G, why hub.Reason) (err error) {
	op.g = g
	defer func() {
		op.g = nil
		if !op.done {
			op.stop() // killed: the goroutine must not hang
		}
	}()
	for !op.done {
		if perr := h.Raw().Park(why); perr != nil && err == nil {
			err = perr
			op.stop()
		}
	}
	if op.did && err != nil {
		h.Raw().Interrupt(g, err)
		err = nil
	}
	return err
}

// Recv receives from ch in the calling green thread without blocking the
// hub: v, ok as from "v, ok := <-ch". A value ready at once is taken
// without leaving the hub's thread; otherwise a helper goroutine waits on
// ch and hands the value over through the hub's door. If a Timeout or a
// context ends the wait, Recv returns its error and took no value (should
// the goroutine have taken one in that instant, Recv returns the value and
// the error comes at the next blocking call instead). A kill ends the
// goroutine too: nothing outlives the call.
func Recv[T any](h *hub.Hub, ch <-chan T) (v T, ok bool, err error) {
	select {
	case v, ok = <-ch:
		return v, ok, nil
	default:
	}
	g, err := green(h, "chan receive")
	if err != nil {
		return v, false, err
	}
	op := newChanOp[T]()
	cancel, report := op.cancel, op.report(h)
	go func() {
		select {
		case op.v, op.ok = <-ch:
			op.did = true
		case <-cancel:
		}
		h.Submit(report)
	}()
	if err := op.await(h, g, reasonRecv); err != nil {
		return v, false, err
	}
	return op.v, op.ok, nil
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
	cancel, report := op.cancel, op.report(h)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				op.panicked = r
			}
			h.Submit(report)
		}()
		select {
		case ch <- v:
			op.did = true
		case <-cancel:
		}
	}()
	err = op.await(h, g, reasonSend)
	if op.panicked != nil {
		panic(op.panicked)
	}
	return err
}

// WaitGroup blocks the calling green thread until wg's counter is zero,
// without blocking the hub: a helper goroutine calls wg.Wait and wakes the
// green thread through the door. A Timeout or a context ends the green
// thread's wait early; the goroutine itself lives until wg.Wait returns,
// since a WaitGroup wait cannot be abandoned.
func WaitGroup(h *hub.Hub, wg *sync.WaitGroup) error {
	tok, err := h.Raw().Token()
	if err != nil {
		return wrapOp("waitgroup", err)
	}
	go func() {
		wg.Wait()
		h.Raw().SubmitReady(tok, nil)
	}()
	return h.Raw().Park(reasonWG)
}
