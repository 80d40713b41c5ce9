package greensync

import (
	"sync"

	"github.com/greenhub/greenhub/hub"
)

var (
	reasonLock  = hub.Block("mutex lock")
	reasonRLock = hub.Block("rwmutex read lock")
	reasonWLock = hub.Block("rwmutex write lock")
)

// Mutex is a mutual exclusion lock for the green threads of one hub: a
// sync.Mutex that parks the calling green thread instead of blocking the
// hub's OS thread. It is FIFO: Unlock hands the lock straight to the
// longest-waiting green thread, so a newcomer never overtakes a waiter. A
// waiter killed after it was handed the lock, before it ran, hands it on.
// The zero Mutex is not usable; make one with NewMutex.
//
// The rule it exists for: a sync.Mutex held across a park (a socket read,
// a Sleep, a queue Get…) while another green thread of the same hub wants
// it blocks the hub's OS thread for good — the holder can only run again
// on that thread, and the thread is stuck in the waiter's Lock. (crypto/tls
// does this with its connection locks.) Use a greensync.Mutex for any lock
// held across a blocking call; a sync.Mutex is fine only when it is never
// held across one.
//
// As with sync.Mutex, a locked Mutex is not tied to a green thread: one may
// lock it and another unlock it. Lock must be called from a green thread of
// the mutex's hub; called elsewhere it panics with an error that errors.Is
// hub.ErrNotGreen (a hub callback, which cannot wait) or hub.ErrOutside
// (another goroutine), as sync's misuse panics. TryLock and Unlock may also
// be called from hub callbacks.
type Mutex struct {
	h       *hub.Hub
	locked  bool
	waiters hub.WaitQueue[struct{}]
}

var _ sync.Locker = (*Mutex)(nil)

// NewMutex returns an unlocked mutex for the green threads of h.
func NewMutex(h *hub.Hub) *Mutex { return &Mutex{h: h} }

// Lock locks m, parking the calling green thread until m is free and its
// turn has come. Lock cannot fail, so it does not give up: a Timeout or a
// context that fires while it waits does not end the wait, but neither is
// it lost — it is raised again once Lock holds m, and the green thread's
// next blocking call returns it. (The interrupted wait starts over behind
// the waiters queued meanwhile.) Use LockErr where a Timeout must bound
// the wait. A kill unwinds the green thread from Lock as from any blocking
// call.
func (m *Mutex) Lock() {
	g, err := green(m.h, "mutex lock")
	if err != nil {
		panic(err)
	}
	var deferred error
	for {
		err := m.lock(g)
		if err == nil {
			break
		}
		if deferred == nil {
			deferred = err
		}
	}
	if deferred != nil {
		m.h.Raw().Interrupt(g, deferred)
	}
}

// LockErr is Lock that a Timeout, a context (WithContext) or another
// interrupt can end: it returns nil holding m, or that error without it.
// Called off a green thread of m's hub it returns an error that errors.Is
// hub.ErrNotGreen or hub.ErrOutside instead of panicking.
func (m *Mutex) LockErr() error {
	g, err := green(m.h, "mutex lock")
	if err != nil {
		return err
	}
	return m.lock(g)
}

// lock takes m, waiting in FIFO order if it is held. If the wait is
// interrupted, the waiter has left the queue and lock returns the error.
func (m *Mutex) lock(g *hub.G) error {
	if !m.locked { // then no waiter is parked: Unlock would have handed m over
		m.locked = true
		return nil
	}
	w := m.waiters.Push(g)
	defer m.done(w)
	if err := m.waiters.Wait(w, reasonLock); err != nil {
		return err
	}
	w.Granted = false
	return nil
}

// done runs when a wait ends, however it ends: a waiter killed after it
// was handed the lock passes it on.
func (m *Mutex) done(w *hub.Waiter[struct{}]) {
	granted := w.Granted
	m.waiters.Release(w)
	if granted {
		m.unlock()
	}
}

// TryLock locks m if it is free and no green thread waits for it, and
// reports whether it did. It never waits.
func (m *Mutex) TryLock() bool {
	if m.locked || onHub(m.h, "") != nil {
		return false
	}
	m.locked = true
	return true
}

// Unlock unlocks m, handing it to the first waiter if any. Unlocking an
// unlocked mutex panics with "greensync: unlock of unlocked mutex"; calling
// it from another goroutine than the hub's panics with an error that
// errors.Is hub.ErrOutside.
func (m *Mutex) Unlock() {
	if err := onHub(m.h, "mutex unlock"); err != nil {
		panic(err)
	}
	if !m.locked {
		panic("greensync: unlock of unlocked mutex")
	}
	m.unlock()
}

func (m *Mutex) unlock() {
	if w := m.waiters.Wake(); w != nil {
		w.Granted = true // m stays locked: it is the waiter's now
		return
	}
	m.locked = false
}

// Locked reports whether m is held (or handed to a waiter that has not run
// yet).
func (m *Mutex) Locked() bool { return m.locked }

// Waiting returns the number of green threads waiting in Lock.
func (m *Mutex) Waiting() int { return m.waiters.Len() }

// RWMutex is a reader/writer lock for the green threads of one hub: any
// number of readers or one writer, as sync.RWMutex, parking green threads
// instead of blocking the hub's OS thread (see Mutex for why a sync lock
// held across a blocking call stops the hub). It prefers writers as
// sync.RWMutex does: once a writer waits, new readers wait too, so a
// stream of readers cannot starve it; and when a writer unlocks, every
// reader waiting is let in before the next writer, so writers cannot
// starve readers either. Writers are served in FIFO order, and so are
// readers. A waiter killed after it was handed the lock, before it ran,
// hands it on. The zero RWMutex is not usable; make one with NewRWMutex.
//
// Lock and RLock must be called from a green thread of the mutex's hub and
// panic elsewhere, like Mutex.Lock; the Try and Unlock methods may also be
// called from hub callbacks.
type RWMutex struct {
	h       *hub.Hub
	writer  bool // held for writing (or handed to a writer not yet run)
	readers int  // readers holding it (or handed it and not yet run)
	wq      hub.WaitQueue[struct{}]
	rq      hub.WaitQueue[struct{}]
}

var _ sync.Locker = (*RWMutex)(nil)

// NewRWMutex returns an unlocked reader/writer mutex for the green threads
// of h.
func NewRWMutex(h *hub.Hub) *RWMutex { return &RWMutex{h: h} }

// Lock locks rw for writing, waiting until no reader or writer holds it
// and the writers ahead have had their turn. Like Mutex.Lock it does not
// give up on a Timeout or a context but raises it again once it holds rw;
// use LockErr where the wait must be bounded.
func (rw *RWMutex) Lock() {
	rw.mustLock(true)
}

// RLock locks rw for reading, waiting while a writer holds it or waits for
// it. It does not give up on a Timeout, as Lock; use RLockErr where the
// wait must be bounded. A green thread must not RLock twice expecting the
// second to succeed while a writer waits: as with sync.RWMutex, that
// deadlocks.
func (rw *RWMutex) RLock() {
	rw.mustLock(false)
}

func (rw *RWMutex) mustLock(write bool) {
	g, err := green(rw.h, "rwmutex lock")
	if err != nil {
		panic(err)
	}
	var deferred error
	for {
		err := rw.lock(g, write)
		if err == nil {
			break
		}
		if deferred == nil {
			deferred = err
		}
	}
	if deferred != nil {
		rw.h.Raw().Interrupt(g, deferred)
	}
}

// LockErr is Lock that a Timeout, a context or another interrupt can end:
// it returns nil holding rw for writing, or that error without it.
func (rw *RWMutex) LockErr() error {
	g, err := green(rw.h, "rwmutex lock")
	if err != nil {
		return err
	}
	return rw.lock(g, true)
}

// RLockErr is RLock that a Timeout, a context or another interrupt can
// end: it returns nil holding rw for reading, or that error without it.
func (rw *RWMutex) RLockErr() error {
	g, err := green(rw.h, "rwmutex read lock")
	if err != nil {
		return err
	}
	return rw.lock(g, false)
}

func (rw *RWMutex) lock(g *hub.G, write bool) error {
	if write && rw.canWrite() {
		rw.writer = true
		return nil
	}
	if !write && rw.canRead() {
		rw.readers++
		return nil
	}
	q, why := &rw.rq, reasonRLock
	if write {
		q, why = &rw.wq, reasonWLock
	}
	w := q.Push(g)
	defer rw.done(q, w, write)
	if err := q.Wait(w, why); err != nil {
		return err
	}
	w.Granted = false
	return nil
}

// canWrite: free, and no writer ahead. Readers waiting do not count: they
// wait only because a writer holds rw or waits, and are let in when it
// unlocks.
func (rw *RWMutex) canWrite() bool {
	return !rw.writer && rw.readers == 0 && rw.wq.Len() == 0
}

// canRead: no writer holds rw or waits for it.
func (rw *RWMutex) canRead() bool { return !rw.writer && rw.wq.Len() == 0 }

// done runs when a wait ends, however it ends. A waiter killed after it
// was handed the lock gives it back; one that left without it may have
// been what held others back (a waiting writer holds back readers).
func (rw *RWMutex) done(q *hub.WaitQueue[struct{}], w *hub.Waiter[struct{}], write bool) {
	granted := w.Granted
	q.Release(w)
	switch {
	case granted && write:
		rw.unlock()
	case granted:
		rw.runlock()
	default:
		rw.dispatch()
	}
}

// TryLock locks rw for writing if that needs no wait and reports whether
// it did.
func (rw *RWMutex) TryLock() bool {
	if !rw.canWrite() || onHub(rw.h, "") != nil {
		return false
	}
	rw.writer = true
	return true
}

// TryRLock locks rw for reading if that needs no wait and reports whether
// it did.
func (rw *RWMutex) TryRLock() bool {
	if !rw.canRead() || onHub(rw.h, "") != nil {
		return false
	}
	rw.readers++
	return true
}

// Unlock unlocks rw for writing: the readers waiting go in first, all of
// them, else the next writer. Unlocking an rw not locked for writing panics
// with "greensync: unlock of unlocked RWMutex".
func (rw *RWMutex) Unlock() {
	if err := onHub(rw.h, "rwmutex unlock"); err != nil {
		panic(err)
	}
	if !rw.writer {
		panic("greensync: unlock of unlocked RWMutex")
	}
	rw.unlock()
}

func (rw *RWMutex) unlock() {
	rw.writer = false
	if n := rw.rq.WakeAll(struct{}{}); n > 0 {
		rw.readers += n
		return
	}
	rw.dispatch()
}

// RUnlock undoes one RLock; the last reader out lets the first writer in.
// Calling it with no reader holding rw panics with "greensync: RUnlock of
// unlocked RWMutex".
func (rw *RWMutex) RUnlock() {
	if err := onHub(rw.h, "rwmutex read unlock"); err != nil {
		panic(err)
	}
	if rw.readers <= 0 {
		panic("greensync: RUnlock of unlocked RWMutex")
	}
	rw.runlock()
}

func (rw *RWMutex) runlock() {
	rw.readers--
	rw.dispatch()
}

// dispatch hands rw to whoever may have it now: the first writer if rw is
// free, else every reader if no writer holds rw or waits.
func (rw *RWMutex) dispatch() {
	if rw.writer {
		return
	}
	if rw.readers == 0 {
		if w := rw.wq.Wake(); w != nil {
			w.Granted, rw.writer = true, true
			return
		}
	}
	if rw.wq.Len() == 0 {
		rw.readers += rw.rq.WakeAll(struct{}{})
	}
}

// RLocker returns a sync.Locker whose Lock and Unlock are rw's RLock and
// RUnlock.
func (rw *RWMutex) RLocker() sync.Locker { return (*rLocker)(rw) }

type rLocker RWMutex

func (r *rLocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rLocker) Unlock() { (*RWMutex)(r).RUnlock() }
