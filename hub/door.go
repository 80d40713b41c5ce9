package hub

import (
	"sync"
	"sync/atomic"
)

// door is the one way in for other goroutines (eventlet's
// call_soon_threadsafe, gnet's Trigger): a locked queue of items and a flag
// the loop checks once per turn. Submitters wake a blocked poll through the
// poller's wake-up (an eventfd, EVFILT_USER).
type door struct {
	mu      sync.Mutex
	items   []doorItem
	spare   []doorItem
	closed  bool
	pending atomic.Bool
}

// doorItem is a function to run on the hub, or a park to end.
type doorItem struct {
	fn  func()
	tok WakeToken
	err error
}

func (d *door) add(it doorItem) bool {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return false
	}
	d.items = append(d.items, it)
	d.mu.Unlock()
	d.pending.Store(true)
	return true
}

func (d *door) take() []doorItem {
	d.pending.Store(false)
	d.mu.Lock()
	items := d.items
	d.items = d.spare[:0]
	d.mu.Unlock()
	return items
}

// close shuts the door and returns what was still queued.
func (d *door) close() []doorItem {
	d.mu.Lock()
	d.closed = true
	items := d.items
	d.items = nil
	d.mu.Unlock()
	return items
}

// Submit arranges for fn to run on the hub's thread as a hub callback (it
// may spawn green threads but not block) and wakes the hub if it is waiting
// in poll. Any goroutine may call it, before or during Run. Once Submit has
// returned nil, fn runs exactly once, possibly while the hub shuts down
// (when Spawn returns ErrStopped). After Run has returned, Submit returns
// ErrStopped.
func (h *Hub) Submit(fn func()) error { return h.submit(doorItem{fn: fn}) }

func (h *Hub) submit(it doorItem) error {
	if !h.door.add(it) {
		return ErrStopped
	}
	h.wake()
	return nil
}

func (h *Hub) runDoor() {
	items := h.door.take()
	for i := range items {
		h.runItem(items[i])
		items[i] = doorItem{}
	}
	h.door.mu.Lock()
	h.door.spare = items[:0]
	h.door.mu.Unlock()
}

func (h *Hub) runItem(it doorItem) {
	if it.fn == nil {
		h.readyToken(it.tok, it.err)
		return
	}
	h.runCallback(it.fn)
}

// Ref records that the calling goroutine, or something it started, will
// reach the hub later — a Submit, a SubmitReady, the end of a bridge call —
// and returns the function that withdraws the reference (libuv's
// uv_ref/uv_unref). While references are held Run does not take "nothing
// can wake any green thread" for a deadlock (see ErrDeadlock). The bridges
// in greensync and netio take one automatically for each call in flight.
// unref may be called once; later calls do nothing. Any goroutine may call
// Ref and unref.
func (h *Hub) Ref() (unref func()) {
	h.refs.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			h.refs.Add(-1)
		}
	}
}
