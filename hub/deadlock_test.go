package hub_test

import (
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/sys/unix"
)

// When nothing can ever wake a green thread, Run returns ErrDeadlock with
// a dump naming what each green thread waits on, and unwinds them; while
// something can still wake one, the wait is no deadlock.
func TestDeadlockDetected(t *testing.T) {
	t.Run("deadlock", testDeadlock)
	t.Run("no deadlock", testNoDeadlock)
}

func testDeadlock(t *testing.T) {
	tests := []struct {
		name string
		opts []hub.Option
		// main parks one green thread forever on Block(on); unwound is
		// set by its deferred call.
		main func(h *hub.Hub, unwound *bool) error
		on   string
	}{
		{
			name: "main parks on nothing",
			main: func(h *hub.Hub, unwound *bool) error {
				defer func() { *unwound = true }()
				return h.Raw().Park(hub.Block("x"))
			},
			on: "x",
		},
		{
			name: "WaitForAll, main done, another parked",
			opts: []hub.Option{hub.WaitForAll()},
			main: func(h *hub.Hub, unwound *bool) error {
				_, err := h.Raw().Spawn(func() error {
					defer func() { *unwound = true }()
					return h.Raw().Park(hub.Block("y"))
				}, nil)
				return err
			},
			on: "y",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var unwound bool
			_, err := hubtest.MainErr(t, func(h *hub.Hub) error { return tt.main(h, &unwound) }, tt.opts...)
			if !errors.Is(err, hub.ErrDeadlock) {
				t.Fatalf("Run = %v, want ErrDeadlock", err)
			}
			if !regexp.MustCompile(`parked\s+on ` + tt.on + `\n`).MatchString(err.Error()) {
				t.Errorf("the deadlock error has no dump line for the green thread parked on %s:\n%v", tt.on, err)
			}
			if !unwound {
				t.Error("the deadlocked green thread was not unwound")
			}
		})
	}
}

// testNoDeadlock parks main on each thing that can still wake a green
// thread. The goroutine that wakes main acts only once the hub has blocked
// in poll without a timeout — that is, once the hub has decided the wait is
// no deadlock.
func testNoDeadlock(t *testing.T) {
	tests := []struct {
		name string
		// main runs as the hub's main; blocked receives when the hub
		// blocks in poll with no timeout; bg is for goroutines main starts.
		main func(t *testing.T, h *hub.Hub, blocked <-chan struct{}, bg *sync.WaitGroup) error
	}{
		{
			name: "reference held by a goroutine that wakes main",
			main: func(t *testing.T, h *hub.Hub, blocked <-chan struct{}, bg *sync.WaitGroup) error {
				tok, err := h.Raw().Token()
				if err != nil {
					return err
				}
				unref := h.Ref()
				bg.Add(1)
				go func() {
					defer bg.Done()
					defer unref()
					await(blocked)
					if err := h.Raw().SubmitReady(tok, nil); err != nil {
						t.Errorf("SubmitReady = %v", err)
					}
				}()
				return h.Raw().Park(hub.Block("x"))
			},
		},
		{
			name: "fd with a waiter",
			main: func(t *testing.T, h *hub.Hub, blocked <-chan struct{}, bg *sync.WaitGroup) error {
				r, w := pipe(t, false)
				fd, err := h.Raw().Register(r)
				if err != nil {
					return err
				}
				bg.Add(1)
				go func() {
					defer bg.Done()
					await(blocked)
					if _, err := unix.Write(w, []byte("a")); err != nil {
						t.Errorf("write: %v", err)
					}
				}()
				return fd.WaitRead()
			},
		},
		{
			name: "offload in flight",
			main: func(t *testing.T, h *hub.Hub, blocked <-chan struct{}, bg *sync.WaitGroup) error {
				return h.Offload(func() { await(blocked) })
			},
		},
		{
			name: "pending timer",
			main: func(t *testing.T, h *hub.Hub, blocked <-chan struct{}, bg *sync.WaitGroup) error {
				main := h.Raw().Current()
				h.Raw().AfterFunc(time.Hour, func() { h.Raw().Ready(main, nil) })
				return h.Raw().Park(hub.Block("x"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			watch := pollWatcher{blocked: make(chan struct{}, 1)}
			var bg sync.WaitGroup
			_, err := hubtest.MainErr(t, func(h *hub.Hub) error {
				return tt.main(t, h, watch.blocked, &bg)
			}, hubtest.Virtual(), hub.WithTracer(watch))
			bg.Wait()
			if err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

// await waits until the hub blocks in poll with no timeout, or gives up
// after a while: a hub that wrongly took the wait for a deadlock never
// blocks, and its test fails on Run's error rather than hanging.
func await(blocked <-chan struct{}) {
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
	}
}
