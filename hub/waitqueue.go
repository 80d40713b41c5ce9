package hub

// WaitQueue is the one FIFO of parked green threads that every blocking
// primitive of greenhub is built on (a semaphore's waiters, a queue's
// getters and putters, a thread's joiners, a pool's idle waiters…), with
// O(1) removal from anywhere: a waiter that times out or is killed leaves
// from the middle. Nodes are recycled, so a steady state allocates nothing.
// The zero value is an empty queue. Hub thread only.
//
// The protocol, which makes hand-offs kill-safe:
//
//	w := q.Push(g)           // g: the calling green thread (Raw.Green)
//	defer done(w)            // always: Remove, hand on what w was granted if
//	                         // the wait ended by a kill, then Release
//	err := q.Wait(w, why)    // parks until a waker grants w, or an error
//
// and on the waker's side:
//
//	if w := q.Wake(); w != nil { w.Item = v; w.Granted = true }
//
// Wake makes the waiter ready and takes it off the queue; the waker fills
// it before anything else runs. From then on what the node carries belongs
// to the waiter, and a waiter killed after it was granted hands it on in
// its deferred done, so no wake-up is ever lost.
type WaitQueue[T any] struct {
	head, tail *Waiter[T]
	n          int
	free       *Waiter[T]
}

// Waiter is one green thread waiting in a WaitQueue.
type Waiter[T any] struct {
	g *G
	// Item is what the waker hands over (a queue's item, a result).
	Item T
	// Err is an error the waker hands over instead of an item.
	Err error
	// Granted is set by the waker when it hands the waiter what it waits
	// for; the waiter clears it when it has taken it.
	Granted bool

	queued     bool
	prev, next *Waiter[T]
}

// G returns the waiting green thread.
func (w *Waiter[T]) G() *G { return w.g }

// Push appends a waiter for g and returns it. O(1).
func (q *WaitQueue[T]) Push(g *G) *Waiter[T] {
	w := q.free
	if w != nil {
		q.free = w.next
		w.next = nil
	} else {
		w = new(Waiter[T])
	}
	w.g = g
	q.append(w)
	return w
}

func (q *WaitQueue[T]) append(w *Waiter[T]) {
	w.queued = true
	w.prev = q.tail
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
	q.n++
}

// Remove takes w off the queue if it is still on it. O(1).
func (q *WaitQueue[T]) Remove(w *Waiter[T]) {
	if !w.queued {
		return
	}
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	q.n--
}

// Release returns w, off the queue, for reuse; w must not be used after.
// Releasing a zero Waiter that the caller owns (a field of its own struct)
// seeds the queue's free list with it, so that the first Push allocates
// nothing.
func (q *WaitQueue[T]) Release(w *Waiter[T]) {
	q.Remove(w)
	var zero T
	w.g, w.Item, w.Err, w.Granted = nil, zero, nil, false
	w.prev, w.next = nil, q.free
	q.free = w
}

// Wait parks w's green thread, the caller, until a waker grants w, and
// returns nil then; or returns the error that ended the park otherwise (an
// Interrupt: a Timeout, a context). A kill unwinds from here; the caller's
// deferred clean-up hands on what w may have been granted.
func (q *WaitQueue[T]) Wait(w *Waiter[T], why Reason) error {
	h := w.g.h
	for !w.Granted {
		err, killed := h.park(w.g, why)
		if killed {
			raiseKill()
		}
		if w.Granted {
			break
		}
		if err != nil {
			return err
		}
		if !w.queued {
			// Made ready by something else (a plain Ready) while a Wake
			// passed it by: it goes back in line, or nothing would wake it.
			q.append(w)
		}
	}
	return nil
}

// Await is Push, Wait and Release for a wait whose grant carries nothing
// that must be handed on if the waiter is killed (a wake-up for all, an
// event's value): g, the calling green thread, waits at the back of q and
// gets the waker's Item and Err, or the error that ended its wait.
func (q *WaitQueue[T]) Await(g *G, why Reason) (T, error) {
	w := q.Push(g)
	defer q.Release(w)
	if err := q.Wait(w, why); err != nil {
		var zero T
		return zero, err
	}
	return w.Item, w.Err
}

// Queued reports whether w is still in its queue: a waiter whose wait was
// interrupted may Wait again if it is, and must Push again if it is not.
func (w *Waiter[T]) Queued() bool { return w.queued }

// Wake takes the first waiter whose green thread is parked off the queue,
// makes it ready and returns it; the caller then fills it and sets
// Granted. Waiters woken by something else meanwhile (a Timeout, a kill)
// are dropped on the way: they are about to run and leave with their
// error. It returns nil if no one waits.
func (q *WaitQueue[T]) Wake() *Waiter[T] {
	for w := q.head; w != nil; w = q.head {
		q.Remove(w)
		if w.g.h.ready(w.g, nil) {
			return w
		}
	}
	return nil
}

// WakeAll grants every parked waiter item, in FIFO order, and returns how
// many it woke.
func (q *WaitQueue[T]) WakeAll(item T) int {
	n := 0
	for w := q.Wake(); w != nil; w = q.Wake() {
		w.Item, w.Granted = item, true
		n++
	}
	return n
}

// Len returns the number of waiters, counting those already woken by a
// Timeout or a kill that have not run yet.
func (q *WaitQueue[T]) Len() int { return q.n }
