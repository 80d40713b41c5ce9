package greenthread

import (
	"errors"
	"fmt"

	"github.com/greenhub/greenhub/hub"
)

var (
	// ErrDead is returned by a switch (or throw) to a greenlet that has
	// ended and whose ancestors have all ended too, up to the hub loop: a
	// dead green thread, say. Otherwise a switch to a dead greenlet goes to
	// its first live ancestor (greenlet's rule), and ErrDead is not
	// returned.
	ErrDead = errors.New("greenthread: switch to a dead greenlet with no live ancestor")
	// ErrZeroGreenlet is returned by a switch or throw to the zero
	// Greenlet.
	ErrZeroGreenlet = errors.New("greenthread: switch to the zero Greenlet")
)

// Greenlet is greenlet's greenlet on a greenhub hub: a coroutine that runs
// only when switched to. Its function receives the value of the first
// switch into it; when it returns, its result goes to its parent — the
// parent's pending Switch returns it — as greenlet does. A Greenlet is a
// small value; two Greenlets are equal when they are the same greenlet.
//
// Green threads are greenlets too (with the hub as parent): Current returns
// the caller as a Greenlet, so a spawned green thread can be switched back
// to by the greenlets it switched into.
type Greenlet struct {
	g *hub.G
}

// NewGreenlet creates a greenlet that will run fn (greenlet.greenlet(run,
// parent)). A zero parent means the caller.
func NewGreenlet(h *hub.Hub, fn func(arg any) (any, error), parent Greenlet) (Greenlet, error) {
	g, err := h.Raw().NewGreenlet(fn, parent.g, nil)
	if err != nil {
		return Greenlet{}, fmt.Errorf("greenthread: new greenlet: %w", err)
	}
	return Greenlet{g: g}, nil
}

// Current returns the calling green thread or greenlet, or the zero
// Greenlet if the caller is not one of h's.
func Current(h *hub.Hub) Greenlet { return Greenlet{g: h.Raw().Current()} }

// G returns the hub's record of the greenlet.
func (gl Greenlet) G() *hub.G { return gl.g }

// Dead reports whether the greenlet's function has returned (or it was
// killed).
func (gl Greenlet) Dead() bool { return gl.g.Dead() }

// Parent returns the greenlet that receives the result when this one
// ends; for a green thread, the hub loop.
func (gl Greenlet) Parent() Greenlet { return Greenlet{g: gl.g.Parent()} }

// SetParent changes the parent; a cycle is refused.
func (gl Greenlet) SetParent(p Greenlet) error { return gl.g.SetParent(p.g) }

// Switch suspends the caller and runs gl, handing it v: the first switch
// into a greenlet passes v to its function, later ones make gl's own
// pending Switch return v. Switch returns when something switches back to
// the caller, with the value (and error) handed over then. Switching to a
// dead greenlet switches to its parent instead (the first live ancestor),
// with v, as greenlet does; when there is none short of the hub loop (a
// dead green thread's parent) Switch returns ErrDead. Switching to the zero
// Greenlet returns ErrZeroGreenlet; to a greenlet of another hub, or from
// outside a green thread, an error that errors.Is hub.ErrOutside.
func (gl Greenlet) Switch(v any) (any, error) {
	if gl.g == nil {
		return nil, ErrZeroGreenlet
	}
	v, err := gl.g.Hub().Raw().Switch(gl.g, v)
	if err != nil {
		return v, switchError(gl, err)
	}
	return v, nil
}

// switchError explains a failed switch; errors from the target's side
// (Throw, a greenlet's failure) pass unchanged. The hub refuses a dead
// target (hub.ErrNotSwitchable) only when no ancestor short of the hub loop
// lives: that is ErrDead.
func switchError(gl Greenlet, err error) error {
	switch {
	case errors.Is(err, hub.ErrNotSwitchable) && gl.g.Dead():
		return ErrDead
	case errors.Is(err, hub.ErrOutside), errors.Is(err, hub.ErrNotGreen), errors.Is(err, hub.ErrStopped):
		return fmt.Errorf("greenthread: switch to %s: %w", gl.g, err)
	}
	return err
}

// Throw switches to gl and makes its pending Switch return err (greenlet's
// throw); a nil err is ErrKilled (GreenletExit). A greenlet that has not
// started dies without running, and Throw returns err (nil for ErrKilled).
// Throwing into a dead greenlet raises err in its first live ancestor, as
// Switch goes there; ErrDead if there is none short of the hub loop.
func (gl Greenlet) Throw(err error) (any, error) {
	if gl.g == nil {
		return nil, ErrZeroGreenlet
	}
	v, terr := gl.g.Hub().Raw().Throw(gl.g, err)
	if terr != nil && terr != err {
		return v, switchError(gl, terr)
	}
	return v, terr
}
