package hub

import (
	"sync"
	"sync/atomic"
)

const (
	// doorBudget is how many door items one turn takes at most, so that
	// a goroutine flooding Submit shares the hub with timers, I/O and the
	// green threads already ready instead of starving them.
	doorBudget = 256
	// defaultDoorCapacity is how many items the door holds before Submit
	// from another goroutine waits for room (back-pressure).
	defaultDoorCapacity = 1 << 16
)

// door is the one way in for other goroutines (eventlet's
// call_soon_threadsafe, gnet's Trigger): a locked ring of items and a flag
// the loop checks once per turn. Submitters wake a blocked poll through the
// poller's wake-up (an eventfd, EVFILT_USER). The ring is bounded: a
// goroutine that submits into a full door waits until the hub has taken
// some (back-pressure); the hub's own thread never waits.
type door struct {
	mu       sync.Mutex
	room     sync.Cond // submitters waiting for room
	ring     []doorItem
	head, n  int
	waiting  int // submitters waiting on room
	capacity int
	taken    []doorItem // the batch being run, reused
	closed   bool
	pending  atomic.Bool
}

// doorItem is a function to run on the hub, or a park to end.
type doorItem struct {
	fn      func()
	tok     WakeToken
	err     error
	offload bool // the result of an offloaded call
}

// add queues it. wait says the caller may wait for room (it is not the
// hub's thread). It reports false if the door is closed.
func (d *door) add(it doorItem, wait bool) bool {
	d.mu.Lock()
	for wait && d.n >= d.capacity && !d.closed {
		if d.room.L == nil {
			d.room.L = &d.mu
		}
		d.waiting++
		d.room.Wait()
		d.waiting--
	}
	if d.closed {
		d.mu.Unlock()
		return false
	}
	if d.n == len(d.ring) {
		d.grow()
	}
	d.ring[(d.head+d.n)&(len(d.ring)-1)] = it
	d.n++
	d.mu.Unlock()
	d.pending.Store(true)
	return true
}

func (d *door) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

func (d *door) grow() {
	ring := make([]doorItem, max(2*len(d.ring), 64))
	for i := range d.n {
		ring[i] = d.ring[(d.head+i)&(len(d.ring)-1)]
	}
	d.ring, d.head = ring, 0
}

// take removes up to max items, oldest first, and returns them in a slice
// the caller hands back with giveBack when it has run them.
func (d *door) take(max int) []doorItem {
	d.mu.Lock()
	batch := d.taken[:0]
	d.taken = nil
	for ; d.n > 0 && len(batch) < max; d.n-- {
		i := d.head
		batch = append(batch, d.ring[i])
		d.ring[i] = doorItem{}
		d.head = (i + 1) & (len(d.ring) - 1)
	}
	d.pending.Store(d.n > 0)
	if d.waiting > 0 {
		d.room.Broadcast()
	}
	d.mu.Unlock()
	return batch
}

func (d *door) giveBack(batch []doorItem) {
	d.mu.Lock()
	d.taken = batch[:0]
	d.mu.Unlock()
}

// close shuts the door, releases the submitters waiting for room (their
// Submit fails) and returns what was still queued.
func (d *door) close() []doorItem {
	d.mu.Lock()
	d.closed = true
	items := make([]doorItem, 0, d.n)
	for ; d.n > 0; d.n-- {
		items = append(items, d.ring[d.head])
		d.head = (d.head + 1) & (len(d.ring) - 1)
	}
	d.ring = nil
	d.pending.Store(false)
	if d.waiting > 0 {
		d.room.Broadcast()
	}
	d.mu.Unlock()
	return items
}

// Submit arranges for fn to run on the hub's thread as a hub callback (it
// may spawn green threads but not block) and wakes the hub if it is waiting
// in poll. Any goroutine may call it, before or during Run. Once Submit has
// returned nil, fn runs exactly once, possibly while the hub shuts down
// (when spawning returns ErrStopped). After Run has returned, Submit
// returns ErrStopped.
//
// The door is fair and bounded: the hub takes at most a few hundred items
// per turn, between its timers, I/O and ready green threads, and a
// goroutine that submits while 65,536 items are queued waits until there
// is room (back-pressure, as a full buffered channel does). Submit from
// the hub's own thread never waits.
//
// A goroutine that will call Submit later, while every green thread waits
// for what it will submit, holds a Ref meanwhile; otherwise Run may take
// the wait for a deadlock.
func (h *Hub) Submit(fn func()) error { return h.submit(doorItem{fn: fn}) }

func (h *Hub) submit(it doorItem) error {
	_, err := h.caller()
	foreign := err != nil // may wait for room, and must wake the poll
	if !h.door.add(it, foreign) {
		return ErrStopped
	}
	if foreign {
		h.wakePoller()
	}
	return nil
}

func (h *Hub) runItem(it doorItem) {
	if it.offload {
		h.offload.inflight--
	}
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
