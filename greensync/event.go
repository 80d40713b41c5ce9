package greensync

import (
	"time"

	"github.com/greenhub/greenhub/hub"
)

var reasonEvent = hub.Block("event wait")

// Event is eventlet's Event: a value (or an error) that any number of green
// threads wait for and one sender delivers. Sending twice without Reset is
// an error. Waiters are woken in the order they began to wait, and each
// gets the value sent when it was woken even if the event is Reset before
// it runs. The zero Event is not usable; make one with NewEvent.
//
// Methods are for the hub's thread: Wait for green threads, the rest also
// for hub callbacks. Called from another goroutine they return an error
// that errors.Is hub.ErrOutside.
type Event[T any] struct {
	h       *hub.Hub
	sent    bool
	v       T
	err     error
	waiters hub.WaitQueue[T]
}

// NewEvent returns an unsent event of h.
func NewEvent[T any](h *hub.Hub) *Event[T] { return &Event[T]{h: h} }

// Send delivers v to every waiter and to every later Wait until Reset. It
// returns ErrAlreadySent if the event was sent already.
func (e *Event[T]) Send(v T) error { return e.send(v, nil) }

// SendError makes the waiters' Wait return err (eventlet's send_exception).
func (e *Event[T]) SendError(err error) error {
	var zero T
	return e.send(zero, err)
}

func (e *Event[T]) send(v T, err error) error {
	if err := onHub(e.h, "event send"); err != nil {
		return err
	}
	if e.sent {
		return ErrAlreadySent
	}
	e.sent, e.v, e.err = true, v, err
	for w := e.waiters.Wake(); w != nil; w = e.waiters.Wake() {
		w.Item, w.Err, w.Granted = v, err, true
	}
	return nil
}

// Wait blocks the calling green thread until the event is sent and returns
// the value and error sent. If it was sent already it returns at once.
func (e *Event[T]) Wait() (T, error) {
	if e.sent {
		return e.v, e.err
	}
	var zero T
	g, err := green(e.h, "event wait")
	if err != nil {
		return zero, err
	}
	return e.waiters.Await(g, reasonEvent)
}

// WaitTimeout is Wait bounded by a Timeout of d: on expiry it returns an
// error that errors.Is ErrTimeout.
func (e *Event[T]) WaitTimeout(d time.Duration) (T, error) {
	return WithTimeout(e.h, d, e.Wait)
}

// Ready reports whether the event has been sent (eventlet's ready).
func (e *Event[T]) Ready() bool { return e.sent }

// Waiting returns the number of green threads waiting.
func (e *Event[T]) Waiting() int { return e.waiters.Len() }

// Reset makes a sent event fresh again, so it can be sent anew. It returns
// ErrNotSent on an event that has not been sent, as eventlet does.
func (e *Event[T]) Reset() error {
	if err := onHub(e.h, "event reset"); err != nil {
		return err
	}
	if !e.sent {
		return ErrNotSent
	}
	var zero T
	e.sent, e.v, e.err = false, zero, nil
	return nil
}
