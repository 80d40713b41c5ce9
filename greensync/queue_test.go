package greensync_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// drain takes everything a queue holds without waiting.
func drain[T any](q interface{ TryGet() (T, error) }) []T {
	var out []T
	for {
		v, err := q.TryGet()
		if err != nil {
			return out
		}
		out = append(out, v)
	}
}

func TestQueueOrder(t *testing.T) {
	tests := []struct {
		name string
		make func(h *hub.Hub) interface {
			Put(int) error
			TryGet() (int, error)
		}
		want []int
	}{
		{"fifo", func(h *hub.Hub) interface {
			Put(int) error
			TryGet() (int, error)
		} {
			return greensync.NewQueue[int](h, greensync.Unbounded)
		}, []int{3, 1, 4, 1, 5}},
		{"light", func(h *hub.Hub) interface {
			Put(int) error
			TryGet() (int, error)
		} {
			return greensync.NewLightQueue[int](h, 10)
		}, []int{3, 1, 4, 1, 5}},
		{"lifo", func(h *hub.Hub) interface {
			Put(int) error
			TryGet() (int, error)
		} {
			return greensync.NewLifoQueue[int](h, 0)
		}, []int{5, 1, 4, 1, 3}},
		{"priority", func(h *hub.Hub) interface {
			Put(int) error
			TryGet() (int, error)
		} {
			return greensync.NewPriorityQueue(h, greensync.Unbounded, func(a, b int) bool { return a < b })
		}, []int{1, 1, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				q := tt.make(h)
				if tt.name == "lifo" {

					q.(*greensync.LifoQueue[int]).Resize(greensync.Unbounded)
				}
				for _, v := range []int{3, 1, 4, 1, 5} {
					if err := q.Put(v); err != nil {
						t.Fatal(err)
					}
				}
				if got := drain[int](q); !slices.Equal(got, tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				return nil
			}, hubtest.Virtual())

		})
	}
}

func TestPriorityQueueStable(t *testing.T) {
	type job struct {
		prio int
		name string
	}
	hubtest.Main(t, func(h *hub.Hub) error {
		q := greensync.NewPriorityQueue(h, greensync.Unbounded, func(a, b job) bool { return a.prio < b.prio })
		for _, j := range []job{{2, "a"}, {1, "b"}, {2, "c"}, {1, "d"}, {0, "e"}} {
			q.Put(j)
		}
		var names string
		for _, j := range drain[job](q) {
			names += j.name
		}
		if names != "ebdac" {
			t.Fatalf("order %q, want ebdac", names)
		}
		return nil
	}, hubtest.Virtual())

}

func TestQueue(t *testing.T) {
	tests := []struct {
		name string
		body func(t *testing.T, h *hub.Hub)
	}{
		{"rendezvous: put waits for a getter", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[string](h, 0)
			if err := q.TryPut("x"); !errors.Is(err, greensync.ErrFull) {
				t.Fatalf("TryPut with no getter = %v", err)
			}
			var putDone bool
			greenthread.SpawnN(h, func() {
				q.Put("hello")
				putDone = true
			})
			greenthread.Yield(h)
			if putDone || q.Putting() != 1 || q.Len() != 0 {
				t.Fatalf("put done %v, Putting %d, Len %d", putDone, q.Putting(), q.Len())
			}
			v, err := q.Get()
			if v != "hello" || err != nil {
				t.Fatalf("Get = %q, %v", v, err)
			}
			greenthread.Yield(h)
			if !putDone {
				t.Fatal("Put still blocked after the Get")
			}
		}},
		{"rendezvous: put hands to a waiting getter", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[string](h, 0)
			th := greenthread.Spawn(h, q.Get)
			greenthread.Yield(h)
			if q.Getting() != 1 {
				t.Fatalf("Getting %d", q.Getting())
			}
			if err := q.TryPut("hi"); err != nil {
				t.Fatalf("TryPut with a getter = %v", err)
			}
			if v, err := th.Wait(); v != "hi" || err != nil {
				t.Fatalf("getter got %q, %v", v, err)
			}
		}},
		{"bounded: put blocks when full, FIFO putters", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 2)
			q.Put(1)
			q.Put(2)
			if !q.Full() {
				t.Fatal("not Full")
			}
			for i := 3; i <= 5; i++ {
				greenthread.SpawnN(h, func() { q.Put(i) })
			}
			greenthread.Yield(h)
			if q.Putting() != 3 || q.Len() != 2 {
				t.Fatalf("Putting %d Len %d", q.Putting(), q.Len())
			}
			var got []int
			for range 5 {
				v, _ := q.Get()
				got = append(got, v)
			}
			if !slices.Equal(got, []int{1, 2, 3, 4, 5}) {
				t.Fatalf("got %v", got)
			}
		}},
		{"getters served in FIFO order", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewLightQueue[int](h, greensync.Unbounded)
			var got [3]int
			for i := range 3 {
				greenthread.SpawnN(h, func() { got[i], _ = q.Get() })
			}
			greenthread.Yield(h)
			for i := range 3 {
				q.Put(10 + i)
			}
			greenthread.Yield(h)
			if got != [3]int{10, 11, 12} {
				t.Fatalf("got %v", got)
			}
		}},
		{"try get on empty", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 1)
			if _, err := q.TryGet(); !errors.Is(err, greensync.ErrEmpty) {
				t.Fatalf("TryGet = %v", err)
			}
			if !q.Empty() || q.Cap() != 1 {
				t.Fatalf("Empty %v Cap %d", q.Empty(), q.Cap())
			}
		}},
		{"join after task done", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, greensync.Unbounded)
			if err := q.Join(); err != nil {
				t.Fatalf("Join on a fresh queue = %v", err)
			}
			var processed []int
			greenthread.SpawnN(h, func() {
				for {
					v, err := q.Get()
					if err != nil {
						return
					}
					greenthread.Sleep(h, ms)
					processed = append(processed, v)
					q.TaskDone()
				}
			})
			for i := range 3 {
				q.Put(i)
			}
			if q.Unfinished() != 3 {
				t.Fatalf("Unfinished %d", q.Unfinished())
			}
			if err := q.Join(); err != nil {
				t.Fatal(err)
			}
			if len(processed) != 3 {
				t.Fatalf("Join returned with %v processed", processed)
			}
			if err := q.TaskDone(); !errors.Is(err, greensync.ErrTaskDone) {
				t.Fatalf("extra TaskDone = %v", err)
			}
		}},
		{"resize lets putters in", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 1)
			q.Put(1)
			for i := 2; i <= 3; i++ {
				greenthread.SpawnN(h, func() { q.Put(i) })
			}
			greenthread.Yield(h)
			q.Resize(3)
			if q.Len() != 3 || q.Putting() != 0 {
				t.Fatalf("Len %d Putting %d after resize", q.Len(), q.Putting())
			}
			q.Resize(1)
			if err := q.TryPut(4); !errors.Is(err, greensync.ErrFull) {
				t.Fatalf("TryPut after shrink = %v", err)
			}
			if got := drain[int](q); !slices.Equal(got, []int{1, 2, 3}) {
				t.Fatalf("got %v", got)
			}
		}},
		{"get and put timeouts", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 1)
			start := h.Now()
			if _, err := q.GetTimeout(3 * ms); !errors.Is(err, greensync.ErrTimeout) {
				t.Fatalf("GetTimeout = %v", err)
			}
			q.Put(1)
			if err := q.PutTimeout(2, 4*ms); !errors.Is(err, greensync.ErrTimeout) {
				t.Fatalf("PutTimeout = %v", err)
			}
			if d := h.Now() - start; d != 7*ms {
				t.Fatalf("took %v, want 7ms", d)
			}
			if q.Getting() != 0 || q.Putting() != 0 || q.Len() != 1 || q.Unfinished() != 1 {
				t.Fatalf("Getting %d Putting %d Len %d Unfinished %d", q.Getting(), q.Putting(), q.Len(), q.Unfinished())
			}
		}},
		{"item handed to a killed getter goes to the next", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 0)
			a := greenthread.Spawn(h, q.Get)
			b := greenthread.Spawn(h, q.Get)
			greenthread.Yield(h)
			q.Put(7) // handed to a, which has not run
			a.Kill()
			if v, err := b.Wait(); v != 7 || err != nil {
				t.Fatalf("b got %d, %v", v, err)
			}
		}},
		{"item handed to a killed getter goes back to the head", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, greensync.Unbounded)
			a := greenthread.Spawn(h, q.Get)
			greenthread.Yield(h)
			q.Put(1)
			q.Put(2)
			a.Kill()
			if got := drain[int](q); !slices.Equal(got, []int{1, 2}) {
				t.Fatalf("got %v", got)
			}
		}},
		{"killed putter leaves nothing behind", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 0)
			p := greenthread.Spawn(h, func() (int, error) { return 0, q.Put(9) })
			greenthread.Yield(h)
			p.Kill()
			if q.Putting() != 0 {
				t.Fatalf("Putting %d", q.Putting())
			}
			if _, err := q.TryGet(); !errors.Is(err, greensync.ErrEmpty) {
				t.Fatalf("TryGet = %v", err)
			}
		}},
		{"hub callback may put but not wait", func(t *testing.T, h *hub.Hub) {
			q := greensync.NewQueue[int](h, 1)
			var errs [2]error
			h.Raw().AfterFunc(ms, func() {
				errs[0] = q.Put(1)
				errs[1] = q.Put(2)
			})
			greenthread.Sleep(h, 2*ms)
			if errs[0] != nil || !errors.Is(errs[1], hub.ErrNotGreen) {
				t.Fatalf("Put from callback: %v, %v", errs[0], errs[1])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error { tt.body(t, h); return nil }, hubtest.Virtual())
		})
	}
}
