package hub

import (
	"errors"
	"fmt"
)

var (
	// ErrOutside is returned when a method that must run on the hub's
	// thread is called from another goroutine: not the hub loop and not the
	// green thread the hub is running. The hub is left untouched.
	ErrOutside = errors.New("hub: called from outside the hub's green threads")
	// ErrNotGreen is returned when a blocking call is made from a hub
	// callback (a timer function or a function passed to Submit): there is
	// no green thread to suspend, and blocking the loop would stop the hub.
	ErrNotGreen = errors.New("hub: blocking call from a hub callback, not a green thread")
	// ErrStopped is returned by calls on a hub that is not running and will
	// not run again: Submit after Run has returned, Spawn during shutdown.
	ErrStopped = errors.New("hub: stopped")
	// ErrNotStarted is returned by calls that need a running hub before
	// Run has been called.
	ErrNotStarted = errors.New("hub: not running")
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("hub: Run called twice")
	// ErrKilled is the error of a green thread that was killed (eventlet's
	// GreenletExit): Wait reports it, errors.Is matches it.
	ErrKilled = errors.New("hub: green thread killed")
	// ErrNotSwitchable is returned by Switch when the target cannot be
	// switched to: it is dead, queued to run, or blocked in the hub on
	// something other than a switch.
	ErrNotSwitchable = errors.New("hub: switch target is not waiting in a switch")
	// ErrOtherHub is returned when a green thread of one hub is handed to
	// another hub.
	ErrOtherHub = errors.New("hub: green thread belongs to another hub")
	// ErrBusy is returned when a second green thread tries to wait for the
	// same readiness of a file descriptor (eventlet's "second simultaneous
	// read").
	ErrBusy = errors.New("hub: another green thread is already waiting on this file descriptor")
	// ErrDeadlock is what Run returns (wrapped, with a dump of every
	// green thread and what it waits on) when nothing can ever wake any
	// green thread again: none is ready, no timer is pending, no fd has a
	// waiter, no offloaded call or door item is in flight and no goroutine
	// holds a reference (Hub.Ref). eventlet sleeps forever there.
	ErrDeadlock = errors.New("hub: deadlock: every green thread is blocked and nothing can wake one")
	// ErrBadFD is returned by Register for a negative file descriptor.
	ErrBadFD = errors.New("hub: bad file descriptor")
	// ErrCycle is returned by G.SetParent when the new parent would make
	// the parent chain a cycle.
	ErrCycle = errors.New("hub: parent would make a cycle")
)

// PanicError is the error of a green thread whose function panicked. The
// hub recovered the panic; Value is what was passed to panic and Stack the
// panicking goroutine's stack at the time.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("hub: green thread panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// killSignal is the panic value that unwinds a killed green thread. Only
// the hub raises it; the hub's recover turns it into ErrKilled. It is an
// error that errors.Is ErrKilled, so code that recovers panics can tell a
// kill (and should re-panic it) with errors.Is(r.(error), hub.ErrKilled).
type killSignal struct{}

func (killSignal) Error() string        { return ErrKilled.Error() }
func (killSignal) Is(target error) bool { return target == ErrKilled }

// reportFailure is Raw.ReportFailure.
func (h *Hub) reportFailure(g *G, err error) {
	if err == nil || errors.Is(err, ErrKilled) {
		return
	}
	if h.onFailure != nil {
		h.onFailure(g, err)
		return
	}
	if p, ok := err.(*PanicError); ok {
		h.logger.Error("hub: green thread panicked", "g", g.String(), "panic", p.Value, "stack", string(p.Stack))
		return
	}
	h.logger.Error("hub: green thread failed", "g", g.String(), "err", err)
}
