package greenthread_test

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// failure is one call of the hub's panic handler.
type failure struct {
	g   *hub.G
	err error
}

// reporter returns a panic handler option that records what it is given.
func reporter(into *[]failure) hub.Option {
	return hub.WithPanicHandler(func(g *hub.G, err error) { *into = append(*into, failure{g, err}) })
}

// A panic in a linked function used to abort the exit hook: the green
// threads in Wait stayed parked forever and the later links never ran.
// Now the waiters are woken and every link runs, each panic going to the
// hub's panic handler.
func TestRegressionLinkPanicWakesWaiters(t *testing.T) {
	var reported []failure
	var links []string
	var th *greenthread.Thread[int]
	hubtest.Main(t, func(h *hub.Hub) error {
		th = greenthread.Spawn(h, func() (int, error) { return 7, greenthread.Sleep(h, time.Second) })
		th.Link(func(*greenthread.Thread[int]) { links = append(links, "first"); panic("link 1") })
		th.Link(func(*greenthread.Thread[int]) { links = append(links, "second"); panic("link 2") })
		th.Link(func(th *greenthread.Thread[int]) {
			v, err := th.Wait()
			if v != 7 || err != nil {
				t.Errorf("third link: Wait = %d, %v", v, err)
			}
			links = append(links, "third")
		})
		var waiters []*greenthread.Thread[int]
		for range 2 {
			waiters = append(waiters, greenthread.Spawn(h, func() (int, error) { return th.Wait() }))
		}
		if err := greenthread.Yield(h); err != nil { // the waiters park in Wait
			return err
		}
		if v, err := th.Wait(); v != 7 || err != nil {
			t.Errorf("main's Wait = %d, %v", v, err)
		}
		for i, w := range waiters {
			if v, err := w.Wait(); v != 7 || err != nil {
				t.Errorf("waiter %d: %d, %v", i, v, err)
			}
		}
		return nil
	}, hubtest.Virtual(), reporter(&reported))
	if want := []string{"first", "second", "third"}; !slices.Equal(links, want) {
		t.Errorf("links ran %v, want %v", links, want)
	}
	if len(reported) != 2 {
		t.Fatalf("%d failures reported, want the 2 link panics: %v", len(reported), reported)
	}
	for i, f := range reported {
		var pe *hub.PanicError
		if !errors.As(f.err, &pe) || pe.Value != []string{"link 1", "link 2"}[i] || f.g != th.G() {
			t.Errorf("report %d: %v from %v, want the panic of link %d from %v", i, f.err, f.g, i+1, th.G())
		}
	}
}

// A green thread that failed with nobody waiting for it or linked to it
// used to vanish silently. Its failure now goes to the hub's panic handler
// (one policy: SpawnN's panics too, reported once); a kill is no failure,
// and a failure someone observes is theirs.
func TestRegressionUnobservedFailureReported(t *testing.T) {
	var reported []failure
	var want []*hub.G
	hubtest.Main(t, func(h *hub.Hub) error {
		returns := greenthread.Spawn(h, func() (int, error) { return 0, errTest })
		panics := greenthread.Spawn(h, panicky)
		later := greenthread.SpawnAfter(h, time.Millisecond, func() (int, error) { return 0, errTest })
		if err := greenthread.SpawnN(h, func() { panic("spawn_n") }); err != nil {
			return err
		}
		waited := greenthread.Spawn(h, func() (int, error) { return 0, errTest })
		linked := greenthread.Spawn(h, func() (int, error) { return 0, errTest })
		linked.Link(func(*greenthread.Thread[int]) {})
		killed := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Hour) })
		fine := greenthread.Spawn(h, func() (int, error) { return 1, nil })
		if _, err := waited.Wait(); !errors.Is(err, errTest) { // parks before it runs
			t.Errorf("waited: %v", err)
		}
		if err := greenthread.Yield(h); err != nil { // killed is asleep now
			return err
		}
		h.Raw().Kill(killed.G()) // no one waits
		if err := greenthread.Sleep(h, time.Second); err != nil {
			return err
		}
		for _, th := range []*greenthread.Thread[int]{returns, panics, later, linked, killed, fine} {
			if !th.Dead() {
				t.Errorf("%v has not ended", th.G())
			}
		}
		want = []*hub.G{returns.G(), panics.G(), later.G()}
		return nil
	}, hubtest.Virtual(), reporter(&reported))
	if len(reported) != 4 {
		t.Fatalf("%d failures reported, want 4 (returned error, panic, SpawnAfter, SpawnN): %v", len(reported), reported)
	}
	var pe *hub.PanicError
	for _, f := range reported {
		switch {
		case errors.As(f.err, &pe) && pe.Value == "spawn_n":
		case errors.As(f.err, &pe) && errors.Is(f.err, errTest) && f.g == want[1]:
		case errors.Is(f.err, errTest) && (f.g == want[0] || f.g == want[2]):
		default:
			t.Errorf("unexpected report %v from %v", f.err, f.g)
		}
	}

	// With the default policy a SpawnN panic is logged once, with its stack.
	var logs bytes.Buffer
	hubtest.Main(t, func(h *hub.Hub) error {
		if err := greenthread.SpawnN(h, func() { panic("logged once") }); err != nil {
			return err
		}
		return greenthread.Yield(h)
	}, hub.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if n := strings.Count(logs.String(), "logged once"); n != 1 || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("the SpawnN panic was logged %d times, want once with the stack:\n%s", n, logs.String())
	}
}

// Kill under a Timeout used to return nil while its victim was still
// alive: the interrupted wait was ignored. Kill now returns nil only if
// the victim has ended, and the interruption's error otherwise. A victim
// that recovers the kill is killed again at its next blocking point, so
// Kill returns only when it has ended.
func TestRegressionKillUnderTimeout(t *testing.T) {
	errTimeout := errors.New("test: timeout")
	hubtest.Main(t, func(h *hub.Hub) error {
		sleeper := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Hour) })
		if err := greenthread.Yield(h); err != nil {
			return err
		}
		// The Timeout has fired: the killer's next blocking point, Kill's
		// wait, returns it.
		h.Raw().Interrupt(h.Raw().Current(), errTimeout)
		if err := sleeper.Kill(); !errors.Is(err, errTimeout) {
			t.Errorf("Kill under an expired Timeout = %v, want the Timeout's error", err)
		}
		if sleeper.Dead() {
			t.Errorf("the victim ended before Kill's wait: the test does not exercise the interruption")
		}
		if _, err := sleeper.Wait(); !errors.Is(err, greenthread.ErrKilled) {
			t.Errorf("victim: %v, want ErrKilled (the kill stands)", err)
		}
		if err := sleeper.Kill(); err != nil {
			t.Errorf("Kill of the dead = %v", err)
		}
		return nil
	}, hubtest.Virtual())

	t.Run("sticky", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			recovered := 0
			stubborn := greenthread.Spawn(h, func() (int, error) {
				for range 5 {
					func() {
						defer func() {
							if recovered < 3 && recover() != nil {
								recovered++
							}
						}()
						greenthread.Sleep(h, time.Hour)
					}()
				}
				return recovered, nil
			})
			if err := greenthread.Yield(h); err != nil {
				return err
			}
			if err := stubborn.Kill(); err != nil {
				t.Errorf("Kill = %v", err)
			}
			if !stubborn.Dead() {
				t.Errorf("Kill returned nil, the victim is alive")
			}
			if v, err := stubborn.Wait(); !errors.Is(err, greenthread.ErrKilled) || recovered != 3 {
				t.Errorf("victim: %d, %v after %d recoveries; want ErrKilled after 3", v, err, recovered)
			}
			if h.Now() != 0 {
				t.Errorf("the victim slept after recovering the kill (clock at %v)", h.Now())
			}
			return nil
		}, hubtest.Virtual())
	})
}

// Switching to a dead greenlet used to return ErrDead. greenlet's rule:
// the switch goes to the dead greenlet's parent — its first live ancestor
// — carrying the value; a throw raises there. Only when no ancestor short
// of the hub loop lives (a dead green thread) is it ErrDead.
func TestRegressionSwitchToDeadGoesToParent(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		main := greenthread.Current(h)
		var b, c greenthread.Greenlet
		var aGot []any
		// a starts b (parent a), b starts c (parent b); c and b end, a
		// switches back to main and waits.
		a, err := greenthread.NewGreenlet(h, func(any) (any, error) {
			var err error
			b, err = greenthread.NewGreenlet(h, func(any) (any, error) {
				var err error
				c, err = greenthread.NewGreenlet(h, func(any) (any, error) { return "c done", nil }, greenthread.Greenlet{})
				if err != nil {
					return nil, err
				}
				return c.Switch(nil)
			}, greenthread.Greenlet{})
			if err != nil {
				return nil, err
			}
			v, err := b.Switch(nil)
			aGot = append(aGot, v, err)
			v, err = main.Switch("a waits")
			aGot = append(aGot, v, err)
			return "a done", nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		if v, err := a.Switch(nil); v != "a waits" || err != nil {
			return errors.Join(errors.New("setup failed"), err)
		}
		if !b.Dead() || !c.Dead() || c.Parent() != b || b.Parent() != a {
			t.Errorf("setup: b dead %v, c dead %v, parents wrong %v", b.Dead(), c.Dead(), c.Parent() != b || b.Parent() != a)
			return nil
		}
		// c is dead, its parent b too: the switch goes on to a, which
		// receives the value; a's result comes back to main.
		v, err := c.Switch("to dead c")
		if v != "a done" || err != nil {
			t.Errorf("switch to dead c = %v, %v; want a's result", v, err)
		}
		if want := []any{"c done", nil, "to dead c", nil}; !slices.Equal(aGot, want) {
			t.Errorf("a received %v, want %v", aGot, want)
		}

		// A dead greenlet whose parent is the caller: the switch comes
		// straight back with its value; a throw raises in the caller.
		gl, err := greenthread.NewGreenlet(h, func(any) (any, error) { return nil, nil }, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		if _, err := gl.Switch(nil); err != nil || !gl.Dead() {
			return errors.Join(errors.New("gl did not end"), err)
		}
		if v, err := gl.Switch("back"); v != "back" || err != nil {
			t.Errorf("switch to a dead child = %v, %v; want back, nil", v, err)
		}
		if _, err := gl.Throw(errTest); !errors.Is(err, errTest) {
			t.Errorf("throw into a dead child = %v, want errTest raised in the caller", err)
		}

		// A dead green thread: its parent is the hub loop.
		th := greenthread.Spawn(h, func() (greenthread.Greenlet, error) { return greenthread.Current(h), nil })
		dead, err := th.Wait()
		if err != nil {
			return err
		}
		if _, err := dead.Switch(1); !errors.Is(err, greenthread.ErrDead) {
			t.Errorf("switch to a dead green thread = %v, want ErrDead", err)
		}
		return nil
	})
}
