package greensync

import (
	"errors"
	"fmt"

	"github.com/greenhub/greenhub/hub"
)

// waiter is one green thread waiting in a primitive: a node of a waitList.
// A waker takes it off the list, fills item (or err), sets granted and makes
// the green thread ready; from then on what the node carries belongs to the
// waiter. A waiter that is killed while granted hands what it was given on
// (the primitive's defer does that), so no wake-up is ever lost.
type waiter[T any] struct {
	g       *hub.G
	item    T
	err     error
	granted bool
	queued  bool
	prev    *waiter[T]
	next    *waiter[T]
}

// waitList is a FIFO of waiters with O(1) removal from anywhere (a waiter
// that times out or is killed leaves from the middle). Nodes are recycled
// through a free list, so a steady state allocates nothing. Hub thread
// only, like everything in this package.
type waitList[T any] struct {
	head, tail *waiter[T]
	n          int
	free       *waiter[T]
}

// push appends a waiter for g and returns it.
func (l *waitList[T]) push(g *hub.G) *waiter[T] {
	w := l.free
	if w != nil {
		l.free = w.next
		w.next = nil
	} else {
		w = new(waiter[T])
	}
	w.g, w.queued = g, true
	w.prev = l.tail
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.n++
	return w
}

// remove takes w off the list if it is still on it.
func (l *waitList[T]) remove(w *waiter[T]) {
	if !w.queued {
		return
	}
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	l.n--
}

// release returns a node that is off the list to the free list.
func (l *waitList[T]) release(w *waiter[T]) {
	var zero T
	w.g, w.item, w.err, w.granted = nil, zero, nil, false
	w.prev, w.next = nil, l.free
	l.free = w
}

// popParked takes the first waiter whose green thread is parked off the
// list, makes it ready and returns it; the caller then fills it and sets
// granted before anything else runs. Waiters that were woken by something
// else meanwhile (a Timeout, a kill) are dropped from the list on the way:
// they are about to run and leave with their error. nil if no one waits.
func (l *waitList[T]) popParked(h *hub.Hub) *waiter[T] {
	for w := l.head; w != nil; w = l.head {
		l.remove(w)
		if h.Raw().Ready(w.g, nil) {
			return w
		}
	}
	return nil
}

// len returns the number of waiters, counting those already woken by a
// Timeout or a kill that have not run yet.
func (l *waitList[T]) len() int { return l.n }

// caller returns the green thread making the call; nil with a nil error for
// a hub callback (which may call what does not block), or an error if the
// caller is not on h's thread at all.
func caller(h *hub.Hub) (*hub.G, error) {
	if g := h.Raw().Current(); g != nil {
		return g, nil
	}
	_, err := h.Raw().Token()
	if errors.Is(err, hub.ErrNotGreen) {
		return nil, nil
	}
	return nil, err
}

// green returns the calling green thread, or an error for blocking calls
// made from anywhere else.
func green(h *hub.Hub, op string) (*hub.G, error) {
	if g := h.Raw().Current(); g != nil {
		return g, nil
	}
	_, err := h.Raw().Token()
	return nil, fmt.Errorf("greensync: %s: %w", op, err)
}

// onHub checks that the caller is on h's thread (a green thread or a hub
// callback).
func onHub(h *hub.Hub, op string) error {
	if _, err := caller(h); err != nil {
		return fmt.Errorf("greensync: %s: %w", op, err)
	}
	return nil
}

func wrapOp(op string, err error) error {
	return fmt.Errorf("greensync: %s: %w", op, err)
}
