package greensync

import (
	"time"

	"github.com/greenhub/greenhub/hub"
)

var (
	reasonGet  = hub.Block("queue get")
	reasonPut  = hub.Block("queue put")
	reasonJoin = hub.Block("queue join")
)

// Unbounded is the maxsize of a queue with no limit (eventlet's
// maxsize=None).
const Unbounded = -1

// queue is the machinery every queue type shares: a store, a maxsize,
// FIFO lists of waiting getters and putters, and the unfinished-task count.
//
// Invariants, which make FIFO service cheap: a getter is parked only while
// the store is empty, and a putter only while it is full (len >= maxsize).
// An item that arrives with a getter parked goes straight into that
// getter's waiter (a handoff); a free slot that opens with a putter parked
// is filled with that putter's item at once.
type queue[T any] struct {
	h          *hub.Hub
	store      store[T]
	maxsize    int
	getters    hub.WaitQueue[T]
	putters    hub.WaitQueue[T]
	unfinished int
	joiners    hub.WaitQueue[struct{}]
}

// Put adds v, blocking the calling green thread while the queue is full
// (for a maxsize 0 queue, until a getter takes v: a rendezvous). It returns
// nil once v is in the queue or in a getter's hands, or the error that woke
// it (a *Timeout, a context's error), in which case v was not put. A hub
// callback may call Put if it does not have to wait.
func (q *queue[T]) Put(v T) error {
	g, err := caller(q.h, "queue put")
	if err != nil {
		return err
	}
	if q.offer(v) {
		return nil
	}
	if g == nil {
		return wrapOp("queue put", hub.ErrNotGreen)
	}
	w := q.putters.Push(g)
	w.Item = v
	defer q.putters.Release(w)
	return q.putters.Wait(w, reasonPut)
}

// TryPut adds v if that needs no wait (put_nowait), else returns ErrFull.
func (q *queue[T]) TryPut(v T) error {
	if err := onHub(q.h, "queue put"); err != nil {
		return err
	}
	if q.offer(v) {
		return nil
	}
	return ErrFull
}

// PutTimeout is Put bounded by a Timeout of d.
func (q *queue[T]) PutTimeout(v T, d time.Duration) error {
	return withTimeout(q.h, d, func() error { return q.Put(v) })
}

// offer puts v without waiting if it can: into a parked getter's hands, or
// into the store if there is room.
func (q *queue[T]) offer(v T) bool {
	if w := q.getters.Wake(); w != nil {
		w.Item, w.Granted = v, true
		q.unfinished++
		return true
	}
	if q.maxsize < 0 || q.store.len() < q.maxsize {
		q.store.push(v)
		q.unfinished++
		return true
	}
	return false
}

// Get removes and returns an item, blocking the calling green thread while
// the queue is empty. Getters are served in the order they began to wait.
// On error (a *Timeout, a context's error) no item was taken. An item
// handed to a getter that is killed before it runs goes to the next getter,
// or back to the head of the queue.
func (q *queue[T]) Get() (T, error) {
	g, err := caller(q.h, "queue get")
	if err != nil {
		var zero T
		return zero, err
	}
	if v, ok := q.poll(); ok {
		return v, nil
	}
	var zero T
	if g == nil {
		return zero, wrapOp("queue get", hub.ErrNotGreen)
	}
	w := q.getters.Push(g)
	defer q.getDone(w)
	if err := q.getters.Wait(w, reasonGet); err != nil {
		return zero, err
	}
	v := w.Item
	w.Granted = false
	return v, nil
}

// getDone runs when Get ends, however it ends: a getter killed while it
// held an item hands it on.
func (q *queue[T]) getDone(w *hub.Waiter[T]) {
	v, granted := w.Item, w.Granted
	q.getters.Release(w)
	if granted {
		if nw := q.getters.Wake(); nw != nil {
			nw.Item, nw.Granted = v, true
			return
		}
		q.store.unpop(v)
	}
}

// TryGet removes and returns an item if that needs no wait (get_nowait),
// else returns ErrEmpty.
func (q *queue[T]) TryGet() (T, error) {
	if err := onHub(q.h, "queue get"); err != nil {
		var zero T
		return zero, err
	}
	if v, ok := q.poll(); ok {
		return v, nil
	}
	var zero T
	return zero, ErrEmpty
}

// GetTimeout is Get bounded by a Timeout of d.
func (q *queue[T]) GetTimeout(d time.Duration) (T, error) {
	return WithTimeout(q.h, d, q.Get)
}

// poll takes an item without waiting if there is one: from the store
// (refilling it from the first parked putter), or from a parked putter's
// hands (the rendezvous of a maxsize 0 queue).
func (q *queue[T]) poll() (T, bool) {
	if q.store.len() > 0 {
		v := q.store.pop()
		q.refill()
		return v, true
	}
	if w := q.putters.Wake(); w != nil {
		v := w.Item
		var zero T
		w.Item, w.Granted = zero, true
		q.unfinished++
		return v, true
	}
	var zero T
	return zero, false
}

// refill moves parked putters' items into the store while there is room.
func (q *queue[T]) refill() {
	for q.putters.Len() > 0 && (q.maxsize < 0 || q.store.len() < q.maxsize) {
		w := q.putters.Wake()
		if w == nil {
			return
		}
		q.store.push(w.Item)
		var zero T
		w.Item, w.Granted = zero, true
		q.unfinished++
	}
}

// Len returns the number of items in the queue (qsize).
func (q *queue[T]) Len() int { return q.store.len() }

// Cap returns the maxsize: Unbounded, 0 for a rendezvous, or the bound.
func (q *queue[T]) Cap() int { return q.maxsize }

// Empty reports whether the queue holds no item.
func (q *queue[T]) Empty() bool { return q.store.len() == 0 }

// Full reports whether a Put would block.
func (q *queue[T]) Full() bool { return q.maxsize >= 0 && q.store.len() >= q.maxsize }

// Getting returns the number of green threads waiting in Get.
func (q *queue[T]) Getting() int { return q.getters.Len() }

// Putting returns the number of green threads waiting in Put.
func (q *queue[T]) Putting() int { return q.putters.Len() }

// Resize changes the maxsize (Unbounded for no limit). Growing lets
// waiting putters in, in order; shrinking drops nothing, Put just blocks
// until the queue is below the new size.
func (q *queue[T]) Resize(maxsize int) error {
	if err := onHub(q.h, "queue resize"); err != nil {
		return err
	}
	q.maxsize = max(maxsize, Unbounded)
	q.refill()
	return nil
}

// taskDone and join back Queue's TaskDone and Join.
func (q *queue[T]) taskDone() error {
	if err := onHub(q.h, "queue task done"); err != nil {
		return err
	}
	if q.unfinished <= 0 {
		return ErrTaskDone
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.joiners.WakeAll(struct{}{})
	}
	return nil
}

func (q *queue[T]) join() error {
	if q.unfinished == 0 {
		return onHub(q.h, "queue join")
	}
	g, err := green(q.h, "queue join")
	if err != nil {
		return err
	}
	_, err = q.joiners.Await(g, reasonJoin)
	return err
}

// LightQueue is eventlet's LightQueue: a FIFO queue without task tracking
// (no TaskDone, no Join), the cheapest of the family. maxsize is
// Unbounded, 0 (every Put waits for a getter) or a bound.
//
// Methods are for the hub's thread: the blocking ones for green threads,
// the others also for hub callbacks; from another goroutine they return an
// error that errors.Is hub.ErrOutside (see Call to reach a queue from
// goroutines).
type LightQueue[T any] struct{ queue[T] }

// NewLightQueue returns a LightQueue of h.
func NewLightQueue[T any](h *hub.Hub, maxsize int) *LightQueue[T] {
	q := &LightQueue[T]{}
	q.init(h, maxsize, &fifo[T]{})
	return q
}

func (q *queue[T]) init(h *hub.Hub, maxsize int, s store[T]) {
	q.h, q.maxsize, q.store = h, max(maxsize, Unbounded), s
}

// Queue is eventlet's Queue: a FIFO queue of at most maxsize items with
// task tracking. maxsize 0 makes it a rendezvous channel: Put waits until a
// getter takes the item, as in eventlet; Unbounded makes it unbounded.
// Getters and putters are served in the order they began to wait.
//
// Every item put counts as an unfinished task until TaskDone is called for
// it; Join waits until none is left.
type Queue[T any] struct{ queue[T] }

// NewQueue returns a FIFO Queue of h.
func NewQueue[T any](h *hub.Hub, maxsize int) *Queue[T] {
	q := &Queue[T]{}
	q.init(h, maxsize, &fifo[T]{})
	return q
}

// TaskDone marks one item taken from the queue as processed. When every
// item put has been marked, Join returns. Calling it more often than items
// were put returns ErrTaskDone.
func (q *Queue[T]) TaskDone() error { return q.taskDone() }

// Join blocks the calling green thread until every item put has been
// marked with TaskDone; at once if none is unfinished.
func (q *Queue[T]) Join() error { return q.join() }

// Unfinished returns the number of items put and not yet marked TaskDone.
func (q *Queue[T]) Unfinished() int { return q.unfinished }

// PriorityQueue is eventlet's PriorityQueue: Get returns the least item
// under less first; equal items come out in the order they were put.
type PriorityQueue[T any] struct{ Queue[T] }

// NewPriorityQueue returns a PriorityQueue of h ordered by less.
func NewPriorityQueue[T any](h *hub.Hub, maxsize int, less func(a, b T) bool) *PriorityQueue[T] {
	q := &PriorityQueue[T]{}
	q.init(h, maxsize, &prio[T]{less: less})
	return q
}

// LifoQueue is eventlet's LifoQueue: Get returns the item put last.
type LifoQueue[T any] struct{ Queue[T] }

// NewLifoQueue returns a LifoQueue of h.
func NewLifoQueue[T any](h *hub.Hub, maxsize int) *LifoQueue[T] {
	q := &LifoQueue[T]{}
	q.init(h, maxsize, &lifo[T]{})
	return q
}
