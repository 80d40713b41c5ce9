package greenthread_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// TestLocalIsolation gives each of 10,000 green threads its own value,
// through switches, with and without an initializer.
func TestLocalIsolation(t *testing.T) {
	const n = 10_000
	id := greenthread.NewLocal[int](nil)
	inits := 0
	name := greenthread.NewLocal(func() string { inits++; return "unnamed" })
	hubtest.Main(t, func(h *hub.Hub) error {
		threads := make([]*greenthread.Thread[struct{}], n)
		for i := range threads {
			threads[i] = greenthread.Spawn(h, func() (struct{}, error) {
				if v, err := id.Get(h); err != nil || v != 0 {
					return struct{}{}, fmt.Errorf("thread %d: first Get %d, %v; want the zero value", i, v, err)
				}
				if err := id.Set(h, i); err != nil {
					return struct{}{}, err
				}
				for k := range 3 {
					if err := greenthread.Yield(h); err != nil {
						return struct{}{}, err
					}
					if v, _ := id.Get(h); v != i {
						return struct{}{}, fmt.Errorf("thread %d sees %d after %d switches", i, v, k+1)
					}
					if s, _ := name.Get(h); s != "unnamed" {
						return struct{}{}, fmt.Errorf("thread %d: initializer's value %q", i, s)
					}
				}
				if i%2 == 0 {
					if err := id.Delete(h); err != nil {
						return struct{}{}, err
					}
					if v, _ := id.Get(h); v != 0 {
						return struct{}{}, fmt.Errorf("thread %d: %d after Delete", i, v)
					}
				}
				return struct{}{}, nil
			})
		}
		for _, th := range threads {
			if _, err := th.Wait(); err != nil {
				return err
			}
		}
		if v, _ := id.Get(h); v != 0 {
			return fmt.Errorf("main sees %d", v)
		}
		return nil
	})
	if inits != n {
		t.Fatalf("the initializer ran %d times for %d green threads", inits, n)
	}
}

type payload struct{ b [1 << 10]byte }

// TestLocalFreedOnExit: a green thread's values become garbage when it ends,
// normally or killed (its deferred calls still see them), even though the
// Thread handles that keep the green threads' records are still held.
func TestLocalFreedOnExit(t *testing.T) {
	const n = 1000
	data := greenthread.NewLocal[*payload](nil)
	var refs []weak.Pointer[payload]
	var threads []*greenthread.Thread[struct{}]
	var sawInDefer int
	hubtest.Main(t, func(h *hub.Hub) error {
		for i := range n {
			threads = append(threads, greenthread.Spawn(h, func() (struct{}, error) {
				p := &payload{} // made here: the Thread's function must not keep it
				refs = append(refs, weak.Make(p))
				if err := data.Set(h, p); err != nil {
					return struct{}{}, err
				}
				defer func() {
					if v, err := data.Get(h); err == nil && v == p {
						sawInDefer++
					}
				}()
				if i%2 == 1 {
					return struct{}{}, greenthread.Sleep(h, time.Hour) // killed below
				}
				return struct{}{}, greenthread.Yield(h)
			}))
		}
		if err := greenthread.Yield(h); err != nil {
			return err
		}
		for i, th := range threads {
			if i%2 == 1 {
				if err := th.Kill(); err != nil {
					return err
				}
			} else if _, err := th.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
	if sawInDefer != n {
		t.Fatalf("%d of %d deferred calls saw their value", sawInDefer, n)
	}
	runtime.GC()
	runtime.GC()
	live := 0
	for _, r := range refs {
		if r.Value() != nil {
			live++
		}
	}
	runtime.KeepAlive(threads)
	if live != 0 {
		t.Fatalf("%d of %d values outlived their green threads", live, n)
	}
}

// TestLocalCallers: Get, Set and Delete are for green threads; other
// callers get the hub's caller errors.
func TestLocalCallers(t *testing.T) {
	l := greenthread.NewLocal(func() int { return 7 })
	h := hub.New()
	var fromCallback error
	hubtest.MustRun(t, h, func() error {
		done := make(chan struct{})
		h.Submit(func() {
			_, fromCallback = l.Get(h)
			close(done)
		})
		return greenthread.Sleep(h, time.Millisecond)
	})
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"hub callback", fromCallback, hub.ErrNotGreen},
		{"Get after the run", func() error { _, err := l.Get(h); return err }(), hub.ErrStopped},
		{"Set after the run", l.Set(h, 1), hub.ErrStopped},
		{"Delete after the run", l.Delete(h), hub.ErrStopped},
		{"Get before the run", func() error { _, err := l.Get(hub.New()); return err }(), hub.ErrNotStarted},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

// Local holds a value per green thread: here each request handler's id.
func ExampleLocal() {
	requestID := greenthread.NewLocal(func() string { return "-" })
	h := hub.New()
	h.Run(func() error {
		logf := func(msg string) {
			id, _ := requestID.Get(h)
			fmt.Printf("[%s] %s\n", id, msg)
		}
		var threads []*greenthread.Thread[struct{}]
		for _, id := range []string{"req-1", "req-2"} {
			threads = append(threads, greenthread.Spawn(h, func() (struct{}, error) {
				requestID.Set(h, id)
				logf("start")
				greenthread.Yield(h) // the other request runs meanwhile
				logf("done")
				return struct{}{}, nil
			}))
		}
		for _, th := range threads {
			th.Wait()
		}
		logf("main")
		return nil
	})
	// Output:
	// [req-1] start
	// [req-2] start
	// [req-1] done
	// [req-2] done
	// [-] main
}
