package hub_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// barrier lets the hubs of a group wait for each other, so that they all
// run at once (a hub that ended frees its OS thread for the next one).
type barrier struct {
	n     atomic.Int32
	all   int32
	ready chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{all: int32(n), ready: make(chan struct{})} }

// wait parks the calling green thread of h until every hub has called it.
func (b *barrier) wait(h *hub.Hub) error {
	if b.n.Add(1) == b.all {
		close(b.ready)
	}
	_, _, err := greensync.Recv(h, (<-chan struct{})(b.ready))
	return err
}

// TestGroupThreads runs green threads on every hub of a group: each green
// thread stays on its own hub's OS thread across its switches, and no two
// hubs share a thread.
func TestGroupThreads(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(n, " hubs"), func(t *testing.T) {
			g := hub.NewGroup(n)
			if g.Len() != n {
				t.Fatalf("Len %d, want %d", g.Len(), n)
			}
			tids := make([]int, n)
			var moved atomic.Int32
			start, end := newBarrier(n), newBarrier(n)
			err := g.Run(func(h *hub.Hub, i int) error {
				tids[i] = hubtest.Gettid()
				if err := start.wait(h); err != nil {
					return err
				}
				threads := make([]*greenthread.Thread[struct{}], 50)
				for k := range threads {
					threads[k] = greenthread.Spawn(h, func() (struct{}, error) {
						for range 20 {
							if hubtest.Gettid() != tids[i] {
								moved.Add(1)
							}
							if err := greenthread.Yield(h); err != nil {
								return struct{}{}, err
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
				return end.wait(h)
			})
			if err != nil {
				t.Fatal(err)
			}
			if moved.Load() != 0 {
				t.Fatalf("%d steps ran off their hub's thread", moved.Load())
			}
			seen := map[int]bool{}
			for i, tid := range tids {
				if tid == 0 || seen[tid] {
					t.Fatalf("hub %d ran on thread %d, shared or unknown (%v)", i, tid, tids)
				}
				seen[tid] = true
			}
		})
	}
}

// TestGroupNext checks the round robin, and that a plain goroutine can
// reach the hub it picked: its calls run on that hub's thread.
func TestGroupNext(t *testing.T) {
	g := hub.NewGroup(3)
	for i := range 7 {
		if got, want := g.Next(), g.Hub(i%3); got != want {
			t.Fatalf("Next #%d is not hub %d", i, i%3)
		}
	}
	tids := make([]int, 3)
	var started sync.WaitGroup
	started.Add(3)
	done := make(chan struct{})
	callerErr := make(chan error, 1)
	go func() {
		defer close(done)
		started.Wait()
		for k := range 3 {
			h := g.Next() // hub (7+k) % 3
			tid, err := greensync.Call(h, func() (int, error) { return hubtest.Gettid(), nil })
			if want := tids[(7+k)%3]; err != nil || tid != want {
				callerErr <- fmt.Errorf("call %d ran on thread %d, want %d (%v)", k, tid, want, err)
				return
			}
		}
		callerErr <- nil
	}()
	err := g.Run(func(h *hub.Hub, i int) error {
		tids[i] = hubtest.Gettid()
		started.Done()
		_, _, err := greensync.Recv(h, (<-chan struct{})(done))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-callerErr; err != nil {
		t.Fatal(err)
	}
}

// TestCallHub makes green threads of each hub call the next hub and checks
// the answers come from the right thread; then the error cases.
func TestCallHub(t *testing.T) {
	g := hub.NewGroup(2)
	tids := make([]int, 2)
	start, end := newBarrier(2), newBarrier(2)
	err := g.Run(func(h *hub.Hub, i int) error {
		tids[i] = hubtest.Gettid()
		if err := start.wait(h); err != nil {
			return err
		}
		other := g.Hub(1 - i)
		tests := []struct {
			name string
			fn   func() (int, error)
			want func(v int, err error) error
		}{
			{"answer from the other thread", func() (int, error) { return hubtest.Gettid(), nil },
				func(v int, err error) error {
					if err != nil || v != tids[1-i] {
						return fmt.Errorf("ran on thread %d, want %d (%v)", v, tids[1-i], err)
					}
					return nil
				}},
			{"the callee parks", func() (int, error) { return 7, greenthread.Sleep(other, 1) },
				func(v int, err error) error {
					if err != nil || v != 7 {
						return fmt.Errorf("got %d, %v", v, err)
					}
					return nil
				}},
			{"error", func() (int, error) { return 0, hubtest.ErrTest },
				func(_ int, err error) error {
					if !errors.Is(err, hubtest.ErrTest) {
						return fmt.Errorf("error %v", err)
					}
					return nil
				}},
			{"panic", func() (int, error) { panic("boom") },
				func(_ int, err error) error {
					var pe *hub.PanicError
					if !errors.As(err, &pe) {
						return fmt.Errorf("panic came back as %v", err)
					}
					return nil
				}},
		}
		for _, tt := range tests {
			v, err := greensync.CallHub(h, other, tt.fn)
			if werr := tt.want(v, err); werr != nil {
				return fmt.Errorf("hub %d, %s: %w", i, tt.name, werr)
			}
		}
		// A Timeout interrupts a call that takes too long; the hub goes on.
		to, _ := greensync.StartTimeout(h, 1)
		_, err := greensync.CallHub(h, other, func() (int, error) { return 0, greenthread.Sleep(other, 50e6) })
		to.Cancel()
		if !errors.Is(err, greensync.ErrTimeout) {
			return fmt.Errorf("hub %d: interrupted call: %v", i, err)
		}
		return end.wait(h)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCallHubStopped(t *testing.T) {
	stopped := hub.New()
	if err := stopped.Run(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	h := hub.New()
	err := h.Run(func() error {
		_, err := greensync.CallHub(h, stopped, func() (int, error) { return 1, nil })
		if !errors.Is(err, hub.ErrStopped) {
			return fmt.Errorf("call to a stopped hub: %v", err)
		}
		_, err = greensync.CallHub(h, h, func() (int, error) { return 2, nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := greensync.CallHub(h, stopped, func() (int, error) { return 1, nil }); err == nil {
		t.Fatal("CallHub from a plain goroutine succeeded")
	}
}

// ExampleGroup runs two hubs, each on its own OS thread; each asks the
// other for its index, and waits for the other's question before it ends.
func ExampleGroup() {
	g := hub.NewGroup(2)
	answers := make([]int, 2)
	asked := []chan struct{}{make(chan struct{}), make(chan struct{})}
	err := g.Run(func(h *hub.Hub, i int) error {
		v, err := greensync.CallHub(h, g.Hub(1-i), func() (int, error) {
			close(asked[1-i])
			return 1 - i, nil
		})
		answers[i] = v
		if err != nil {
			return err
		}
		_, _, err = greensync.Recv(h, (<-chan struct{})(asked[i]))
		return err
	})
	fmt.Println(answers, err)
	// Output: [1 0] <nil>
}

// TestCallerHub checks that each hub's green threads see their own hub, a
// plain goroutine none, and that greensync.Call refuses a green thread of
// another hub (it would stop that hub's thread).
func TestCallerHub(t *testing.T) {
	if hub.CallerHub() != nil {
		t.Fatal("a plain goroutine is on a hub")
	}
	g := hub.NewGroup(2)
	start, end := newBarrier(2), newBarrier(2)
	err := g.Run(func(h *hub.Hub, i int) error {
		if err := start.wait(h); err != nil {
			return err
		}
		if got := hub.CallerHub(); got != h {
			return fmt.Errorf("hub %d: CallerHub is another hub", i)
		}
		if _, err := greensync.Call(g.Hub(1-i), func() (int, error) { return 0, nil }); !errors.Is(err, greensync.ErrOnHub) {
			return fmt.Errorf("hub %d: Call into the other hub: %v, want ErrOnHub", i, err)
		}
		return end.wait(h)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupOf groups hubs made one by one (each with its own options): the
// group runs exactly those, in order.
func TestGroupOf(t *testing.T) {
	hubs := []*hub.Hub{hub.New(hubtest.Virtual()), hub.New(hubtest.Virtual())}
	g := hub.GroupOf(hubs...)
	ran := make([]*hub.Hub, len(hubs))
	if err := g.Run(func(h *hub.Hub, i int) error {
		ran[i] = h
		return greenthread.Sleep(h, time.Hour) // each on its own virtual clock
	}); err != nil {
		t.Fatal(err)
	}
	for i, h := range hubs {
		if g.Hub(i) != h || ran[i] != h {
			t.Fatalf("hub %d of the group is not the one given", i)
		}
	}
}
