package greenthread_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// Switch hands values both ways; a greenlet's return value goes to its
// parent's pending Switch.
func TestGreenletSwitchValues(t *testing.T) {
	h := hub.New()
	var log []any
	hubtest.MustRun(t, h, func() error {
		main := greenthread.Current(h)
		gl, err := greenthread.NewGreenlet(h, func(arg any) (any, error) {
			log = append(log, arg) // the first switch's value
			v, err := main.Switch("to main 1")
			if err != nil {
				return nil, err
			}
			log = append(log, v)
			return "returned", nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		if gl.Parent() != main {
			t.Errorf("parent of a greenlet made with a zero parent is not its creator")
		}
		v, err := gl.Switch("to gl 1")
		log = append(log, v, err)
		v, err = gl.Switch("to gl 2")
		log = append(log, v, err)
		if !gl.Dead() {
			t.Errorf("greenlet not dead after its function returned")
		}
		return nil
	})
	want := []any{"to gl 1", "to main 1", nil, "to gl 2", "returned", nil}
	if !slices.Equal(log, want) {
		t.Errorf("log %v, want %v", log, want)
	}
}

// The result goes to the parent even when another greenlet switched in
// last, and SetParent redirects it; a cycle is refused.
func TestGreenletParent(t *testing.T) {
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		main := greenthread.Current(h)
		var a, b greenthread.Greenlet
		var fromB any
		a, _ = greenthread.NewGreenlet(h, func(any) (any, error) {
			fromB, _ = b.Switch(nil) // b ends; its result goes to its parent, a
			return nil, nil
		}, greenthread.Greenlet{})
		b, _ = greenthread.NewGreenlet(h, func(any) (any, error) { return "b's result", nil }, greenthread.Greenlet{})
		if err := b.SetParent(a); err != nil {
			return err
		}
		if err := a.SetParent(b); err == nil {
			t.Errorf("SetParent making a cycle succeeded")
		}
		if err := a.SetParent(a); err == nil {
			t.Errorf("SetParent to itself succeeded")
		}
		if a.Parent() != main || b.Parent() != a {
			t.Errorf("parents changed by refused SetParent calls")
		}
		v, err := a.Switch(nil)
		if v != nil || err != nil {
			t.Errorf("a's result reached main as %v, %v", v, err)
		}
		if fromB != "b's result" {
			t.Errorf("a's switch into b returned %v, want b's result", fromB)
		}
		if !a.Dead() || !b.Dead() {
			t.Errorf("dead: a %v, b %v", a.Dead(), b.Dead())
		}
		return nil
	})
}

// Throw raises an error at the target's pending Switch; into a greenlet
// that has not started, it kills it.
func TestGreenletThrow(t *testing.T) {
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		main := greenthread.Current(h)
		var caught error
		gl, _ := greenthread.NewGreenlet(h, func(any) (any, error) {
			_, caught = main.Switch("ready")
			return "handled", caught
		}, greenthread.Greenlet{})
		if v, _ := gl.Switch(nil); v != "ready" {
			t.Errorf("first switch returned %v", v)
		}
		v, err := gl.Throw(errTest)
		if !errors.Is(caught, errTest) {
			t.Errorf("the greenlet's Switch returned %v, want errTest", caught)
		}
		if v != "handled" || !errors.Is(err, errTest) {
			t.Errorf("Throw = %v, %v; want the greenlet's result and error", v, err)
		}

		ran := false
		fresh, _ := greenthread.NewGreenlet(h, func(any) (any, error) { ran = true; return nil, nil }, greenthread.Greenlet{})
		if _, err := fresh.Throw(nil); err != nil {
			t.Errorf("Throw(nil) into a fresh greenlet = %v, want nil (GreenletExit)", err)
		}
		if ran || !fresh.Dead() {
			t.Errorf("a greenlet killed before it started: ran %v, dead %v", ran, fresh.Dead())
		}
		if _, err := (greenthread.Greenlet{}).Throw(errTest); !errors.Is(err, greenthread.ErrZeroGreenlet) {
			t.Errorf("Throw into the zero Greenlet = %v, want ErrZeroGreenlet", err)
		}
		return nil
	})
}

// Switching to the zero Greenlet returns ErrZeroGreenlet; to a greenlet of
// another running hub, an error that errors.Is hub.ErrOutside. (Switching
// to a dead greenlet: TestRegressionSwitchToDeadGoesToParent.)
func TestGreenletSwitchErrors(t *testing.T) {
	other := hub.New()
	foreign := make(chan greenthread.Greenlet, 1)
	release := make(chan struct{})
	otherDone := make(chan error, 1)
	go func() {
		otherDone <- other.Run(func() error {
			gl, err := greenthread.NewGreenlet(other, func(v any) (any, error) { return v, nil }, greenthread.Greenlet{})
			if err != nil {
				return err
			}
			foreign <- gl
			return other.Offload(func() { <-release })
		})
	}()
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		if _, err := (greenthread.Greenlet{}).Switch(nil); !errors.Is(err, greenthread.ErrZeroGreenlet) {
			t.Errorf("switch to the zero Greenlet = %v, want ErrZeroGreenlet", err)
		}
		var fg greenthread.Greenlet
		if err := h.Offload(func() { fg = <-foreign }); err != nil {
			return err
		}
		if _, err := fg.Switch("across"); !errors.Is(err, hub.ErrOutside) {
			t.Errorf("switch across hubs = %v, want an error wrapping hub.ErrOutside", err)
		}
		if err := fg.SetParent(greenthread.Current(h)); !errors.Is(err, hub.ErrOtherHub) {
			t.Errorf("SetParent across hubs = %v, want ErrOtherHub", err)
		}
		close(release)
		return nil
	})
	if err := <-otherDone; err != nil {
		t.Errorf("other hub: %v", err)
	}
}

// A green thread is a greenlet too: a greenlet it switched into can switch
// back to it with greenthread.Current.
func TestGreenThreadIsAGreenlet(t *testing.T) {
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		th := greenthread.Spawn(h, func() (string, error) {
			me := greenthread.Current(h)
			gl, err := greenthread.NewGreenlet(h, func(any) (any, error) {
				return me.Switch("from greenlet")
			}, greenthread.Greenlet{})
			if err != nil {
				return "", err
			}
			v, err := gl.Switch(nil)
			s, _ := v.(string)
			return s, err
		})
		if v, err := th.Wait(); v != "from greenlet" || err != nil {
			t.Errorf("Wait = %q, %v", v, err)
		}
		return nil
	})
}
