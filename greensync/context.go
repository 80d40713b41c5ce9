package greensync

import (
	"context"

	"github.com/greenhub/greenhub/hub"
)

var reasonContext = hub.Block("context done")

// WaitContext blocks the calling green thread until ctx is done and returns
// ctx.Err(), the green-thread form of <-ctx.Done(). It returns earlier with
// the error of a Timeout or an interrupt. The cancellation reaches the hub
// through its thread-safe door (context.AfterFunc and SubmitReady): no
// polling, and the hub sleeps in its poller meanwhile. While the
// cancellation may still come, the wait holds a reference on the hub
// (Hub.Ref), so that Run does not take it for a deadlock; a context that
// can never be done (context.Background) holds none.
func WaitContext(h *hub.Hub, ctx context.Context) error {
	if _, err := green(h, "wait context"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tok, _ := h.Raw().Token()
	stop := afterDone(h, ctx, func() { h.Raw().ReadyToken(tok, nil) })
	defer stop()
	if err := h.Raw().Park(reasonContext); err != nil {
		return err
	}
	return ctx.Err()
}

// afterDone arranges for f to run on h's thread, as a hub callback, once
// ctx is done (context.AfterFunc, then Submit), and holds a reference on h
// (Hub.Ref) until either f has reached the hub or the returned stop has
// made sure it never will. A ctx that is never done takes no reference.
func afterDone(h *hub.Hub, ctx context.Context, f func()) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	unref := h.Ref()
	stopAfter := context.AfterFunc(ctx, func() {
		err := h.Submit(func() {
			unref()
			f()
		})
		if err != nil {
			unref()
		}
	})
	return func() {
		if stopAfter() {
			unref() // the callback will never run
		}
	}
}

// ctxError is the interrupt a context's cancellation raises into a green
// thread: a value of its own, so that withdrawing it cannot withdraw
// someone else's, matching the context's error with errors.Is.
type ctxError struct{ err error }

func (e *ctxError) Error() string { return "greensync: " + e.err.Error() }
func (e *ctxError) Unwrap() error { return e.err }

// ctxBinding is one WithContext call, touched on the hub's thread only.
type ctxBinding struct {
	active bool
	err    *ctxError
}

// WithContext runs fn in the calling green thread bound to ctx: if ctx is
// done while fn blocks (in Get, Acquire, Sleep, a read…), that blocking
// call returns an error matching ctx.Err() and WithContext returns
// ctx.Err() itself. If ctx is done already fn does not run. The
// cancellation comes in through the hub's door (context.AfterFunc, then
// Submit and Interrupt), never by polling; when fn returns, the binding is
// undone and an undelivered cancellation withdrawn.
func WithContext[T any](h *hub.Hub, ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	g, err := green(h, "with context")
	if err != nil {
		return zero, err
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	b := &ctxBinding{active: true}
	stop := afterDone(h, ctx, func() {
		if b.active {
			b.err = &ctxError{err: ctx.Err()}
			h.Raw().Interrupt(g, b.err)
		}
	})
	defer func() {
		stop()
		b.active = false
		if b.err != nil {
			h.Raw().ClearInterrupt(g, b.err)
		}
	}()
	v, err := fn()
	if b.err != nil && err == error(b.err) {
		err = b.err.err
	}
	return v, err
}
