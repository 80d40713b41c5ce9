package greenthread

import "github.com/greenhub/greenhub/hub"

// Local is eventlet's corolocal.local, typed: a variable whose value is the
// calling green thread's own — a request id, a logger with the request's
// fields — set with Set, read with Get, and freed when the green thread
// ends (the value goes with it even if a Thread handle keeps the green
// thread's record). A green thread that has not set it gets the
// initializer's value, computed on its first Get and kept, or the zero
// value without an initializer. Values are never shared: a green thread
// spawned by another starts without its parent's.
//
// A Local may be used on any number of hubs. Get, Set and Delete are for
// green threads (a killed one's deferred calls included); from a hub
// callback they return an error that errors.Is hub.ErrNotGreen, from
// another goroutine hub.ErrOutside (hub.ErrNotStarted or hub.ErrStopped
// outside the run), as hub.Raw.Green does.
type Local[T any] struct {
	init func() T
}

// NewLocal returns a Local whose value, in a green thread that has not set
// it, is init() (the zero value if init is nil). init runs in the green
// thread, once, at its first Get.
func NewLocal[T any](init func() T) *Local[T] {
	return &Local[T]{init: init}
}

// Get returns the calling green thread's value.
func (l *Local[T]) Get(h *hub.Hub) (T, error) {
	var zero T
	g, err := h.Raw().Green()
	if err != nil {
		return zero, err
	}
	if v, ok := g.Local(l); ok {
		return v.(T), nil
	}
	if l.init == nil {
		return zero, nil
	}
	v := l.init()
	g.SetLocal(l, v)
	return v, nil
}

// Set makes v the calling green thread's value.
func (l *Local[T]) Set(h *hub.Hub, v T) error {
	g, err := h.Raw().Green()
	if err != nil {
		return err
	}
	g.SetLocal(l, v)
	return nil
}

// Delete forgets the calling green thread's value: its next Get returns the
// initializer's value again.
func (l *Local[T]) Delete(h *hub.Hub) error {
	g, err := h.Raw().Green()
	if err != nil {
		return err
	}
	g.DeleteLocal(l)
	return nil
}
