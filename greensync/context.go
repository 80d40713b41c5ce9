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
// polling, and the hub sleeps in its poller meanwhile.
func WaitContext(h *hub.Hub, ctx context.Context) error {
	tok, err := h.Raw().Token()
	if err != nil {
		return wrapOp("wait context", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { h.Raw().SubmitReady(tok, nil) })
	defer stop()
	if err := h.Raw().Park(reasonContext); err != nil {
		return err
	}
	return ctx.Err()
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
	stop := context.AfterFunc(ctx, func() {
		h.Submit(func() {
			if b.active {
				b.err = &ctxError{err: ctx.Err()}
				h.Raw().Interrupt(g, b.err)
			}
		})
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
