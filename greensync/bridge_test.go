package greensync_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// serve runs a hub in a goroutine until the returned stop is called; its
// main green thread just waits.
func serve(t *testing.T) (h *hub.Hub, stop func()) {
	t.Helper()
	h = hub.New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- h.Run(func() error {
			err := greensync.WaitContext(h, ctx)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		})
	}()
	return h, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// TestCallStress: 8 goroutines × 10,000 Calls, every result right.
func TestCallStress(t *testing.T) {
	goroutines, calls := 8, 10000
	if testing.Short() {
		calls = 1000
	}
	h, stop := serve(t)
	defer stop()
	q := greensync.NewQueue[int](h, 0)
	// A green consumer echoes through a rendezvous queue, so Calls also
	// block inside the hub.
	greensync.Go(h, func() {
		for {
			v, err := q.Get()
			if err != nil {
				return
			}
			_ = v
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				want := g*calls + i
				v, err := greensync.Call(h, func() (int, error) {
					if i%16 == 0 {
						if err := q.Put(want); err != nil {
							return 0, err
						}
					}
					return want * 2, nil
				})
				if err != nil || v != want*2 {
					errs <- errors.New("wrong result")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCall(t *testing.T) {
	boom := errors.New("boom")
	t.Run("error and panic", func(t *testing.T) {
		h, stop := serve(t)
		defer stop()
		if _, err := greensync.Call(h, func() (int, error) { return 0, boom }); err != boom {
			t.Fatalf("Call error = %v", err)
		}
		_, err := greensync.Call(h, func() (int, error) { panic("oops") })
		var pe *hub.PanicError
		if !errors.As(err, &pe) || pe.Value != "oops" {
			t.Fatalf("Call panic = %v", err)
		}
		if _, err := greensync.Call(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Millisecond) }); err != nil {
			t.Fatalf("blocking Call = %v", err)
		}
	})
	t.Run("before Run and after stop", func(t *testing.T) {
		h := hub.New()
		// Go before Run returns at once: its function is queued in the
		// door and runs once the hub starts.
		goRan := make(chan int, 1)
		if err := greensync.Go(h, func() { goRan <- 2 }); err != nil {
			t.Fatalf("Go before Run = %v", err)
		}
		// Call blocks its goroutine; made before or while Run starts, it
		// must come back either way.
		res := make(chan int)
		go func() {
			v, _ := greensync.Call(h, func() (int, error) { return 1, nil })
			res <- v
		}()
		err := hubtest.Run(t, h, func() error {
			v, _, err := greensync.Recv(h, res)
			if v != 1 {
				t.Errorf("Call made around Run's start returned %d", v)
			}
			if v, _, _ := greensync.Recv(h, goRan); v != 2 {
				t.Errorf("Go queued before Run: got %d", v)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := greensync.Call(h, func() (int, error) { return 0, nil }); !errors.Is(err, hub.ErrStopped) {
			t.Fatalf("Call after stop = %v", err)
		}
		if err := greensync.Go(h, func() {}); !errors.Is(err, hub.ErrStopped) {
			t.Fatalf("Go after stop = %v", err)
		}
	})
	t.Run("on the hub thread", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			if _, err := greensync.Call(h, func() (int, error) { return 0, nil }); !errors.Is(err, greensync.ErrOnHub) {
				t.Fatalf("Call on hub = %v", err)
			}
			if err := greensync.Go(h, func() {}); !errors.Is(err, greensync.ErrOnHub) {
				t.Fatalf("Go on hub = %v", err)
			}
			return nil
		}, hubtest.Virtual())

	})
	t.Run("killed by shutdown", func(t *testing.T) {
		h := hub.New()
		started := make(chan struct{})
		res := make(chan error)
		go func() {
			_, err := greensync.Call(h, func() (int, error) {
				close(started)
				return 0, greenthread.Sleep(h, time.Hour)
			})
			res <- err
		}()
		err := h.Run(func() error {
			_, _, err := greensync.Recv(h, started)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-res; !errors.Is(err, hub.ErrKilled) {
			t.Fatalf("Call killed by shutdown = %v", err)
		}
	})
}

func TestGo(t *testing.T) {
	h, stop := serve(t)
	defer stop()
	got := make(chan int, 3)
	for i := range 3 {
		if err := greensync.Go(h, func() { greenthread.Yield(h); got <- i }); err != nil {
			t.Fatal(err)
		}
	}
	sum := <-got + <-got + <-got
	if sum != 3 {
		t.Fatalf("sum %d", sum)
	}
}

func TestChanBridges(t *testing.T) {
	t.Run("recv and send with goroutines", func(t *testing.T) {
		in, out := make(chan int), make(chan int)
		go func() {
			for i := range 100 {
				in <- i
			}
			close(in)
		}()
		var got []int
		done := make(chan struct{})
		go func() {
			for v := range out {
				got = append(got, v)
			}
			close(done)
		}()
		hubtest.Main(t, func(h *hub.Hub) error {
			for {
				v, ok, err := greensync.Recv(h, in)
				if err != nil {
					return err
				}
				if !ok {
					close(out)
					return nil
				}
				if err := greensync.Send(h, out, v*v); err != nil {
					return err
				}
			}
		}, hubtest.Virtual())

		<-done
		if len(got) != 100 || got[99] != 99*99 {
			t.Fatalf("got %d values", len(got))
		}
	})
	t.Run("hub keeps running while a green thread waits on a channel", func(t *testing.T) {
		ch := make(chan int)
		hubtest.Main(t, func(h *hub.Hub) error {
			th := greenthread.Spawn(h, func() (int, error) {
				v, _, err := greensync.Recv(h, ch)
				return v, err
			})
			for i := range 3 {
				greenthread.Sleep(h, ms)
				_ = i
			}
			go func() { ch <- 5 }()
			v, err := th.Wait()
			if v != 5 || err != nil {
				t.Fatalf("Recv = %d, %v", v, err)
			}
			return nil
		}, hubtest.Virtual())

	})
	t.Run("timeout and kill leave no goroutine", func(t *testing.T) {
		ch := make(chan int)
		hubtest.Main(t, func(h *hub.Hub) error {
			_, err := greensync.WithTimeout(h, 5*ms, func() (int, error) {
				v, _, err := greensync.Recv(h, ch)
				return v, err
			})
			if !errors.Is(err, greensync.ErrTimeout) {
				t.Fatalf("Recv under timeout = %v", err)
			}
			_, err = greensync.WithTimeout(h, 5*ms, func() (int, error) { return 0, greensync.Send(h, ch, 1) })
			if !errors.Is(err, greensync.ErrTimeout) {
				t.Fatalf("Send under timeout = %v", err)
			}
			th := greenthread.Spawn(h, func() (int, error) {
				v, _, err := greensync.Recv(h, ch)
				return v, err
			})
			greenthread.Yield(h)
			th.Kill()
			if _, err := th.Wait(); !errors.Is(err, hub.ErrKilled) {
				t.Fatalf("killed Recv = %v", err)
			}
			return nil
		}, hubtest.Virtual())

		// goleak in TestMain checks no helper goroutine survived.
	})
	t.Run("waitgroup", func(t *testing.T) {
		var wg sync.WaitGroup
		wg.Add(1)
		hubtest.Main(t, func(h *hub.Hub) error {
			parked := make(chan struct{})
			go func() {
				<-parked
				wg.Done()
			}()
			// A callback runs only once this green thread has parked in
			// WaitGroup: then the counter drops.
			h.Raw().AfterFunc(0, func() { close(parked) })
			if err := greensync.WaitGroup(h, &wg); err != nil {
				return err
			}
			select {
			case <-parked:
			default:
				t.Error("WaitGroup returned before the green thread parked")
			}
			return nil
		}, hubtest.Virtual())

	})
}
