package greenhttp

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"
)

// requestContext is a request's context: cancelled when the handler returns,
// when the server is closed, and when the client goes away. Knowing the last
// takes a green thread reading the connection (the watcher), which starts
// only when someone asks: a call to Done or Err — which deriving a context or
// context.AfterFunc make — from any goroutine.
type requestContext struct {
	context.Context // a cancelCtx: derived contexts attach to it directly
	cancelCause     context.CancelCauseFunc
	w               *response
	asked           atomic.Bool
}

func (rc *requestContext) init(w *response, base context.Context) {
	rc.w = w
	rc.Context, rc.cancelCause = context.WithCancelCause(base)
}

// Done returns the context's channel and starts watching the client.
func (rc *requestContext) Done() <-chan struct{} {
	rc.ask()
	return rc.Context.Done()
}

// Err returns the context's error and starts watching the client.
func (rc *requestContext) Err() error {
	rc.ask()
	return rc.Context.Err()
}

func (rc *requestContext) cancel(cause error) { rc.cancelCause(cause) }

// ask records, once, that someone waits for the context, and has the
// connection watch its client: directly on the hub's thread, through the
// hub's door from another goroutine.
func (rc *requestContext) ask() {
	if rc.asked.Load() || rc.asked.Swap(true) {
		return
	}
	w := rc.w
	c := w.c
	if _, err := c.h.Raw().Caller(); err == nil {
		c.wantWatch(w)
		return
	}
	c.h.Submit(func() { c.wantWatch(w) }) // a stopped hub has no client to watch
}

// wantWatch asks for the watcher on behalf of request w, if it is still
// being served.
func (c *conn) wantWatch(w *response) {
	if c.cur != w {
		return
	}
	w.watch = true
	c.maybeWatch()
}

// maybeWatch starts the watcher when it is wanted and the socket is free to
// read: the body has been read through and nothing more is buffered (bytes
// buffered mean a pipelined request: the client is there).
func (c *conn) maybeWatch() {
	w := c.cur
	if w == nil || !w.watch || !w.body.eof || c.watchG != nil || c.clientGone || c.closed ||
		c.state == stateHijacked || c.br.Buffered() > 0 || c.r.peeked {
		return
	}
	g, err := c.h.Raw().Spawn(c.watchClient, nil)
	if err == nil {
		c.watchG = g
	}
}

// watchClient is the watcher: it reads one byte of the connection. A byte is
// the next request's, kept for the connection's reader; EOF or an error
// means the client has gone, and cancels the request's context.
func (c *conn) watchClient() error {
	var b [1]byte
	n, err := c.nc.Read(b[:])
	c.watchG = nil
	switch {
	case n == 1:
		c.r.peeked, c.r.peekByte = true, b[0]
	case errors.Is(err, errStopWatch):
	default:
		c.clientGone = true
		c.cancel(errClientGone)
	}
	return nil
}

// stopWatch takes the socket back from the watcher, if one runs: it
// interrupts the watcher's read and yields until it has ended (the
// interrupted watcher is ahead in the ready queue).
func (c *conn) stopWatch() {
	if c.watchG == nil {
		return
	}
	r := c.h.Raw()
	r.Interrupt(c.watchG, errStopWatch)
	for c.watchG != nil {
		if err := r.Yield(); err != nil {
			return
		}
	}
}

// dateCache is the Date header's value, formatted at most once a second.
// Hub thread only.
type dateCache struct {
	sec int64
	b   []byte
}

func (d *dateCache) get() []byte {
	now := time.Now()
	if s := now.Unix(); s != d.sec || d.b == nil {
		d.b = now.UTC().AppendFormat(d.b[:0], http.TimeFormat)
		d.sec = s
	}
	return d.b
}
