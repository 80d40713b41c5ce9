package greenpool

import (
	"fmt"
	"iter"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

var (
	pileReason   = hub.Block("pile")
	windowReason = hub.Block("imap window")
)

// Pile is eventlet's GreenPile: tasks spawned into it run in its pool, and
// iterating over it yields their results in the order they were spawned,
// each as soon as it and those before it are done.
//
// A Pile's methods are for the pool's hub's green threads (Len also for hub
// callbacks).
type Pile[T any] struct {
	p    *Pool
	q    []*greenthread.Thread[T] // spawned, not yet consumed, from head on
	head int

	// Consumers waiting for a task to be spawned (or feeding to end).
	watchers hub.WaitQueue[struct{}]

	// For Imap and Starmap: the green thread the tasks are spawned for
	// (see Spawn on borrowing), whether spawning goes on, and why it
	// stopped early; how many tasks have ended and wait to be read, and
	// the feeder waiting for that window to have room.
	actor    *hub.G
	feeding  bool
	feedErr  error
	finished int
	space    hub.WaitQueue[struct{}]
}

// NewPile returns an empty Pile whose tasks run in p, sharing its slots
// with p's other tasks (eventlet's GreenPile(pool)). Use a pool of its own
// for a separate bound. Any goroutine may call it.
func NewPile[T any](p *Pool) *Pile[T] { return &Pile[T]{p: p} }

// Spawn starts fn in the pile's pool, blocking while the pool is full, as
// the pool's Spawn does and with the same errors; its result joins the pile
// behind the results of the tasks spawned before.
func (pl *Pile[T]) Spawn(fn func() (T, error)) error {
	cur, err := pl.p.caller()
	if err != nil {
		return err
	}
	actor := cur
	if pl.actor != nil {
		actor = pl.actor
	}
	t, err := spawn(pl.p, cur, actor, fn)
	if err != nil {
		return err
	}
	pl.push(t)
	return nil
}

// push adds t, just spawned, to the pile and wakes the consumers.
func (pl *Pile[T]) push(t *greenthread.Thread[T]) {
	pl.q = append(pl.q, t)
	if pl.watchers.Len() > 0 {
		pl.watchers.WakeAll(struct{}{})
	}
}

// Len returns the number of tasks spawned and not yet consumed by an
// iteration, finished or not.
func (pl *Pile[T]) Len() int { return len(pl.q) - pl.head }

// All returns an iterator over the results of the pile's tasks in the order
// they were spawned: each task's value and error (a *hub.PanicError if it
// panicked, one that errors.Is hub.ErrKilled if it was killed). The
// iteration ends when every task spawned has been consumed; consumed
// results leave the pile, so a loop that breaks early can be continued by
// another. If the wait for a result is interrupted (a greensync Timeout),
// the iteration yields the zero T with the interruption's error and ends,
// and that result stays in the pile.
func (pl *Pile[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err, more := pl.next()
			if !more {
				if err != nil {
					yield(v, err)
				}
				return
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// next waits for the oldest result and takes it out. more is false at the
// end, with err set if the end is a failure rather than exhaustion.
func (pl *Pile[T]) next() (v T, err error, more bool) {
	for {
		if pl.head == len(pl.q) {
			if !pl.feeding {
				err, pl.feedErr = pl.feedErr, nil
				return v, err, false
			}
			g, err := pl.p.h.Raw().Green()
			if err == nil {
				_, err = pl.watchers.Await(g, pileReason)
			}
			if err != nil {
				return v, wrapOutside(err), false
			}
			continue
		}
		t := pl.q[pl.head]
		if !t.Dead() {
			if _, err := t.Wait(); !t.Dead() {
				return v, wrapOutside(err), false
			}
			continue // another consumer may have taken it meanwhile
		}
		pl.q[pl.head] = nil
		pl.head++
		if pl.head == len(pl.q) {
			pl.q, pl.head = pl.q[:0], 0
		} else if pl.head >= 64 && 2*pl.head >= len(pl.q) {
			n := copy(pl.q, pl.q[pl.head:])
			clear(pl.q[n:])
			pl.q, pl.head = pl.q[:n], 0
		}
		if pl.finished > 0 {
			pl.finished--
			if pl.space.Len() > 0 {
				pl.space.WakeAll(struct{}{})
			}
		}
		v, err = t.Wait()
		return v, err, true
	}
}

// wrapOutside prefixes the errors that say the caller cannot wait; an
// interruption's error passes unchanged, so that the Timeout that caused it
// recognises it.
func wrapOutside(err error) error {
	switch err {
	case hub.ErrOutside, hub.ErrNotGreen, hub.ErrStopped, hub.ErrNotStarted:
		return fmt.Errorf("greenpool: %w", err)
	}
	return err
}

// Imap returns an iterator that applies fn to each value of in, in tasks of
// p, and yields the results in input order (eventlet's GreenPool.imap, and
// Python's itertools.imap). At most p.Size() of the tasks run at once,
// sharing p's slots with its other tasks; results that finish early wait,
// in memory, for those before them, in a window of p.Size() results (at
// least 1). The input is consumed lazily: the next value of in is taken
// only when a task can start for it at once — a slot is free and fewer
// than the window's worth of finished results wait to be read. So an
// iteration holds at most 2×p.Size() results, running or finished, however
// long in is, and a consumer that reads slowly slows the input down.
//
// Each iteration starts afresh: a green thread (not one of the pool's)
// ranges over in and spawns the tasks while the caller consumes. If that
// green thread fails (in panicked), the results spawned before are yielded,
// then the failure as the last error. A loop that breaks early abandons the
// rest cleanly: before the loop goes on, the ranging over in is stopped,
// and the tasks whose results were not consumed are killed (tasks not yet
// started never run) and have left the pool, so no green thread of the
// iteration outlives it. If the caller is one of p's own tasks and p is
// full, the tasks run on the caller's slot one at a time instead of waiting
// for a slot (see Spawn), so Imap cannot deadlock the pool.
//
// The iterator must be ranged over by a green thread of p's hub; from
// anywhere else it yields one error that errors.Is hub.ErrNotGreen or
// hub.ErrOutside. An interrupted wait for a result ends the iteration with
// the interruption's error, as for Pile.All.
func Imap[A, T any](p *Pool, fn func(A) (T, error), in iter.Seq[A]) iter.Seq2[T, error] {
	return mapping(p, func(spawn func(func() (T, error)) bool) {
		for a := range in {
			if !spawn(func() (T, error) { return fn(a) }) {
				return
			}
		}
	})
}

// Starmap is Imap for functions of two arguments, taken from the pairs of
// in (eventlet's GreenPool.starmap, Python's itertools.starmap), with the
// same bounds.
func Starmap[A, B, T any](p *Pool, fn func(A, B) (T, error), in iter.Seq2[A, B]) iter.Seq2[T, error] {
	return mapping(p, func(spawn func(func() (T, error)) bool) {
		for a, b := range in {
			if !spawn(func() (T, error) { return fn(a, b) }) {
				return
			}
		}
	})
}

// mapping runs produce in a feeder green thread that spawns into a Pile the
// caller iterates over.
func mapping[T any](p *Pool, produce func(spawn func(func() (T, error)) bool)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cur, err := p.caller()
		if err == nil && cur == nil {
			err = fmt.Errorf("greenpool: imap: %w", hub.ErrNotGreen)
		}
		if err != nil {
			yield(zero, err)
			return
		}
		pl := &Pile[T]{p: p, actor: cur, feeding: true}
		feeder := greenthread.Spawn(p.h, func() (struct{}, error) {
			return struct{}{}, pl.feed(produce)
		})
		feeder.Link(func(t *greenthread.Thread[struct{}]) {
			_, pl.feedErr = t.Wait() // t is dead: Wait returns at once
			pl.feeding = false
			pl.watchers.WakeAll(struct{}{})
		})
		defer func() {
			// Abandoned (or done): stop the feeder first, so nothing more
			// is spawned, then the tasks no one will read.
			feeder.Kill()
			for _, t := range pl.q[pl.head:] {
				t.Kill()
			}
		}()
		for {
			v, err, more := pl.next()
			if !more {
				if err != nil {
					yield(v, err)
				}
				return
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// feed runs produce on the feeder green thread: before each value it takes
// from the input, it waits until a task can start for it at once (admit).
func (pl *Pile[T]) feed(produce func(spawn func(func() (T, error)) bool)) error {
	me := pl.p.h.Raw().Current()
	borrowed, err := pl.admit(me)
	if err != nil {
		return err
	}
	held := true // a slot (or the actor's lent one) waits for the next input
	defer func() {
		if held && !borrowed {
			pl.p.release() // the input ended, failed, or the feeder was killed
		}
	}()
	produce(func(task func() (T, error)) bool {
		held = false
		t, serr := start(pl.p, borrowed, task, pl.taskEnded)
		if serr != nil {
			err = serr
			return false
		}
		pl.push(t)
		if borrowed, err = pl.admit(me); err != nil {
			return false
		}
		held = true
		return true
	})
	return err
}

// admit waits until the window of finished, unread results has room, then
// takes a slot for the next task (or borrows the actor's, see Spawn). If
// results filled the window while it waited for the slot, it gives the
// slot back and waits again.
func (pl *Pile[T]) admit(me *hub.G) (borrowed bool, err error) {
	for {
		for pl.finished >= pl.window() {
			if _, err := pl.space.Await(me, windowReason); err != nil {
				return false, err
			}
		}
		borrowed, err := pl.p.acquire(me, pl.actor)
		if err != nil || pl.finished < pl.window() {
			return borrowed, err
		}
		if !borrowed {
			pl.p.release()
		}
	}
}

// window is how many finished results an Imap keeps waiting to be read.
func (pl *Pile[T]) window() int { return max(pl.p.size, 1) }

// taskEnded counts a task of an Imap that has ended and waits to be read.
func (pl *Pile[T]) taskEnded() { pl.finished++ }
