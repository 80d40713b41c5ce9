package greensync

import "github.com/greenhub/greenhub/hub"

var reasonCrossHub = hub.Block("cross-hub call")

// CallHub runs fn in a new green thread of another hub, target, and parks the
// calling green thread of h until fn returns, then returns its result: the
// green-thread form of Call, for hubs of one process (a hub.Group) handing
// work to each other. Both hubs keep running meanwhile. fn's panic is a
// *hub.PanicError; if target has stopped, or stops before fn ends, the error
// matches hub.ErrStopped or hub.ErrKilled. An interrupt of the caller (a
// Timeout, a kill) returns at once with its error; fn goes on to its end on
// target and its result is dropped. target == h runs fn directly.
//
// The caller must be a green thread of h; from a plain goroutine use Call.
func CallHub[T any](h, target *hub.Hub, fn func() (T, error)) (T, error) {
	var zero T
	r := h.Raw()
	if _, err := r.Green(); err != nil {
		return zero, wrapOp("call hub", err)
	}
	if target == h {
		return fn()
	}
	tok, err := r.Token()
	if err != nil {
		return zero, wrapOp("call hub", err)
	}
	c := &crossCall[T]{fn: fn, back: r, tok: tok}
	unref := h.Ref() // the answer comes through h's door
	defer unref()
	if err := target.Submit(c.start(target)); err != nil {
		return zero, wrapOp("call hub", err)
	}
	if err := r.Park(reasonCrossHub); err != nil {
		return zero, err
	}
	return c.v, c.err
}

// crossCall is one CallHub: fn runs on the target hub, and its end wakes the
// caller's park through the caller's hub's door. v and err are written on
// the target's thread before SubmitReady and read by the caller after its
// park returns: the door orders them.
type crossCall[T any] struct {
	fn   func() (T, error)
	v    T
	err  error
	back hub.Raw
	tok  hub.WakeToken
}

func (c *crossCall[T]) start(target *hub.Hub) func() {
	return func() {
		if _, err := target.Raw().Spawn(c.run, c.exit); err != nil {
			c.err = wrapOp("call hub", err)
			c.back.SubmitReady(c.tok, nil)
		}
	}
}

func (c *crossCall[T]) run() error {
	v, err := c.fn()
	c.v = v
	return err
}

func (c *crossCall[T]) exit(g *hub.G) {
	c.err = g.Err()
	c.back.SubmitReady(c.tok, nil) // a caller gone (interrupted) makes the token stale
}
