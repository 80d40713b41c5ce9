package greensync_test

import (
	"errors"
	"testing"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

func TestEvent(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		body func(t *testing.T, h *hub.Hub, e *greensync.Event[int])
	}{
		{"send then wait", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			if err := e.Send(7); err != nil {
				t.Fatal(err)
			}
			if v, err := e.Wait(); v != 7 || err != nil {
				t.Fatalf("Wait = %d, %v", v, err)
			}
			if !e.Ready() {
				t.Fatal("not Ready after Send")
			}
		}},
		{"many waiters, woken in order", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			var order []int
			for i := range 3 {
				greenthread.SpawnN(h, func() {
					v, err := e.Wait()
					if v != 42 || err != nil {
						t.Errorf("waiter %d: %d, %v", i, v, err)
					}
					order = append(order, i)
				})
			}
			greenthread.Yield(h)
			if e.Waiting() != 3 {
				t.Fatalf("Waiting = %d", e.Waiting())
			}
			e.Send(42)
			greenthread.Yield(h)
			if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
				t.Fatalf("order %v", order)
			}
		}},
		{"send error", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			th := greenthread.Spawn(h, func() (int, error) { return e.Wait() })
			greenthread.Yield(h)
			e.SendError(boom)
			if _, err := th.Wait(); err != boom {
				t.Fatalf("Wait err = %v", err)
			}
		}},
		{"sent twice is an error", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			e.Send(1)
			if err := e.Send(2); !errors.Is(err, greensync.ErrAlreadySent) {
				t.Fatalf("second Send = %v", err)
			}
			if err := e.SendError(boom); !errors.Is(err, greensync.ErrAlreadySent) {
				t.Fatalf("SendError after Send = %v", err)
			}
			if v, _ := e.Wait(); v != 1 {
				t.Fatalf("value %d, want the first", v)
			}
		}},
		{"reset", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			if err := e.Reset(); !errors.Is(err, greensync.ErrNotSent) {
				t.Fatalf("Reset of fresh event = %v", err)
			}
			e.Send(1)
			if err := e.Reset(); err != nil {
				t.Fatal(err)
			}
			if e.Ready() {
				t.Fatal("Ready after Reset")
			}
			if err := e.Send(2); err != nil {
				t.Fatalf("Send after Reset = %v", err)
			}
		}},
		{"waiter keeps the value sent even if reset before it runs", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			th := greenthread.Spawn(h, func() (int, error) { return e.Wait() })
			greenthread.Yield(h)
			e.Send(5)
			e.Reset()
			if v, err := th.Wait(); v != 5 || err != nil {
				t.Fatalf("Wait = %d, %v", v, err)
			}
		}},
		{"killed waiter leaves the list", func(t *testing.T, h *hub.Hub, e *greensync.Event[int]) {
			th := greenthread.Spawn(h, func() (int, error) { return e.Wait() })
			greenthread.Yield(h)
			th.Kill()
			if e.Waiting() != 0 {
				t.Fatalf("Waiting = %d after kill", e.Waiting())
			}
			if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
				t.Fatalf("err %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				tt.body(t, h, greensync.NewEvent[int](h))
				return nil
			}, hubtest.Virtual())

		})
	}
}

func TestOutsideHub(t *testing.T) {
	h := hub.New()
	e := greensync.NewEvent[int](h)
	q := greensync.NewQueue[int](h, 1)
	s := greensync.NewSemaphore(h, 1)
	ready := make(chan struct{})
	done := make(chan error)
	unref := h.Ref() // this goroutine will wake main: no deadlock
	go func() {
		done <- h.Run(func() error {
			close(ready)
			_, err := e.Wait()
			return err
		})
	}()
	<-ready
	checks := []struct {
		name string
		err  error
	}{
		{"Event.Send", e.Send(1)},
		{"Event.Wait", func() error { _, err := e.Wait(); return err }()},
		{"Queue.Put", q.Put(1)},
		{"Queue.TryGet", func() error { _, err := q.TryGet(); return err }()},
		{"Semaphore.Acquire", s.Acquire()},
		{"Semaphore.Release", s.Release()},
	}
	for _, c := range checks {
		if !errors.Is(c.err, hub.ErrOutside) {
			t.Errorf("%s from a goroutine = %v, want ErrOutside", c.name, c.err)
		}
	}
	if err := greensync.Go(h, func() { e.Send(0) }); err != nil {
		t.Fatal(err)
	}
	unref()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
