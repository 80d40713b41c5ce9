package greenpool

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// ErrWaitInPool is returned by WaitAll when it is called from one of the
// pool's own green threads: the pool can never become idle while the caller
// runs in it (eventlet asserts the same).
var ErrWaitInPool = errors.New("greenpool: WaitAll called from one of the pool's own green threads would never return")

var (
	spawnReason   = hub.Block("pool")
	waitAllReason = hub.Block("pool waitall")
	killReason    = hub.Block("pool kill")
)

// Pool bounds how many green threads run at once: eventlet's GreenPool.
// Spawning into a full pool blocks the calling green thread until a slot is
// free; blocked spawners get slots in the order they arrived.
//
// A Pool belongs to one hub. Its methods are for that hub's green threads;
// the ones that never block (Running, Free, Waiting, Size, Resize, Kill,
// and spawns into a pool with a free slot) also for hub callbacks. Called
// from another goroutine the error-returning methods return an error that
// errors.Is hub.ErrOutside; Running, Free, Waiting and Size must not be
// called from elsewhere (they read the pool without synchronisation, as
// hub.Hub.Stats does).
type Pool struct {
	h    *hub.Hub
	size int

	// running counts the slots in use: one per task started in a slot, and
	// one per blocked spawner that was handed a slot and has not yet
	// started its task.
	running int

	// members are the pool's live green threads; true marks a borrowed
	// one, started by a member spawning into its own full pool, which
	// holds no slot (see Spawn).
	members map[*hub.G]bool

	// spawners are the green threads blocked in a spawn, first in first
	// out; a waiter granted a slot holds it (running counts it).
	spawners hub.WaitQueue[struct{}]

	idle    hub.WaitQueue[struct{}] // WaitAll and Kill callers
	killing int                     // Kill calls waiting for their victims

	exitN func(*hub.G) // SpawnN's exit hook, made once
}

// New returns a pool of h that runs at most size green threads at once
// (eventlet's GreenPool(size)). A size of 0 makes every spawn wait until
// Resize grows the pool. New panics if size is negative. Any goroutine may
// call it.
func New(h *hub.Hub, size int) *Pool {
	if size < 0 {
		panic("greenpool: negative size")
	}
	p := &Pool{h: h, size: size, members: make(map[*hub.G]bool)}
	p.exitN = func(g *hub.G) {
		p.exit(g)
		h.Raw().ReportFailure(g, g.Err())
	}
	return p
}

// Hub returns the hub the pool belongs to.
func (p *Pool) Hub() *hub.Hub { return p.h }

// Size returns the number of green threads the pool may run at once.
func (p *Pool) Size() int { return p.size }

// Running returns the number of slots in use: tasks running (or queued to
// run) in the pool, counting a blocked spawner that has just been handed a
// slot and is about to start its task (eventlet's running).
func (p *Pool) Running() int { return p.running }

// Free returns Size minus Running: how many tasks could start now without
// waiting. As in eventlet, it is negative after Resize shrank the pool below
// what is running.
func (p *Pool) Free() int { return p.size - p.running }

// Waiting returns the number of green threads blocked in a spawn, waiting
// for a slot (eventlet's waiting).
func (p *Pool) Waiting() int { return p.spawners.Len() }

// Resize changes the pool's size (eventlet's resize). Growing hands the new
// slots to blocked spawners at once, first come first served; shrinking
// stops nothing: running tasks finish, and spawners wait until Running is
// below the new size. Resize panics if n is negative.
func (p *Pool) Resize(n int) error {
	if n < 0 {
		panic("greenpool: negative size")
	}
	if _, err := p.caller(); err != nil {
		return err
	}
	p.size = n
	p.grant()
	return nil
}

// Spawn runs fn in a new green thread of the pool and returns its Thread
// (eventlet's GreenPool.spawn). While the pool is full it blocks the calling
// green thread, first come first served; it returns early with the error of
// an interruption (a greensync Timeout, a context) and spawns nothing then.
//
// A task of the pool that spawns into its own full pool does not wait for a
// slot that it holds itself, which could never come: like eventlet, which
// runs the function inline, Spawn then runs fn at once on the caller's slot
// and returns when fn has finished.
//
// From a hub callback Spawn works while a slot is free and otherwise returns
// an error that errors.Is hub.ErrNotGreen; from another goroutine it returns
// one that errors.Is hub.ErrOutside.
func Spawn[T any](p *Pool, fn func() (T, error)) (*greenthread.Thread[T], error) {
	cur, err := p.caller()
	if err != nil {
		return nil, err
	}
	return spawn(p, cur, cur, fn)
}

// spawn takes a slot for the caller cur on behalf of actor (whose
// membership decides whether a slot may be borrowed) and starts fn.
func spawn[T any](p *Pool, cur, actor *hub.G, fn func() (T, error)) (*greenthread.Thread[T], error) {
	borrowed, err := p.acquire(cur, actor)
	if err != nil {
		return nil, err
	}
	return start(p, borrowed, fn, nil)
}

// start starts fn in the pool once the caller has its slot, or, borrowed,
// on the caller's slot, waiting for it to end. ended, if not nil, is called
// when the task ends, after it has left the pool.
func start[T any](p *Pool, borrowed bool, fn func() (T, error), ended func()) (*greenthread.Thread[T], error) {
	t := greenthread.Spawn(p.h, fn)
	g := t.G()
	if g == nil { // the hub refused: it is stopping
		if !borrowed {
			p.release()
		}
		_, err := t.Wait()
		return nil, fmt.Errorf("greenpool: spawn: %w", err)
	}
	p.members[g] = borrowed
	t.Link(func(t *greenthread.Thread[T]) {
		p.exit(t.G())
		if ended != nil {
			ended()
		}
	})
	if borrowed {
		if err := lend(p, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// lend makes the caller, a member of the pool (or acting for one), wait for
// t, which runs on the caller's slot: eventlet's inline run. If the wait is
// interrupted or the caller is killed, t is killed too, as an inline
// function would be.
func lend[T any](p *Pool, t *greenthread.Thread[T]) error {
	defer func() {
		if !t.Dead() {
			t.Kill()
		}
	}()
	_, err := t.Wait()
	if t.Dead() {
		return nil // t's own outcome is for the caller to read from t
	}
	return err
}

// SpawnN runs fn in a new green thread of the pool with no result object
// (eventlet's spawn_n): cheaper than Spawn. It blocks while the pool is full
// as Spawn does, with the same errors. Since no one can wait for it, a
// panic in fn goes to the hub's panic handler (hub.WithPanicHandler), and
// its slot is returned to the pool.
func (p *Pool) SpawnN(fn func()) error {
	cur, err := p.caller()
	if err != nil {
		return err
	}
	borrowed, err := p.acquire(cur, cur)
	if err != nil {
		return err
	}
	if borrowed {
		t, err := start(p, true, func() (struct{}, error) { fn(); return struct{}{}, nil }, nil)
		if err != nil {
			return err
		}
		p.h.Raw().ReportFailure(t.G(), t.G().Err())
		return nil
	}
	g, err := p.h.Raw().Spawn(func() error { fn(); return nil }, p.exitN)
	if err != nil {
		p.release()
		return fmt.Errorf("greenpool: spawn: %w", err)
	}
	p.members[g] = false
	return nil
}

// WaitAll blocks the calling green thread until the pool is idle: no task
// running and no slot handed to a spawner that has yet to start its task
// (eventlet's waitall). Called from one of the pool's own green threads it
// returns ErrWaitInPool; interrupted, the interruption's error. From a hub
// callback it returns nil if the pool is idle and an error that errors.Is
// hub.ErrNotGreen otherwise.
func (p *Pool) WaitAll() error {
	cur, err := p.caller()
	if err != nil {
		return err
	}
	if cur == nil {
		if p.busy() {
			return fmt.Errorf("greenpool: waitall: %w", hub.ErrNotGreen)
		}
		return nil
	}
	if _, ok := p.members[cur]; ok {
		return ErrWaitInPool
	}
	for p.busy() {
		if _, err := p.idle.Await(cur, waitAllReason); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pool) busy() bool { return p.running > 0 || len(p.members) > 0 }

// Kill kills every green thread running in the pool, except the caller if
// it is one of them, and waits until they have ended (gevent's Pool.kill,
// for shutting down). Tasks that have not started never run; the others
// unwind from their blocking point, deferred calls running. Spawners
// blocked waiting for a slot are not in the pool and are not killed: the
// freed slots go to them. From a hub callback Kill does not wait.
func (p *Pool) Kill() error {
	cur, err := p.caller()
	if err != nil {
		return err
	}
	victims := make([]*hub.G, 0, len(p.members))
	for g := range p.members {
		if g != cur {
			victims = append(victims, g)
		}
	}
	slices.SortFunc(victims, func(a, b *hub.G) int { return cmp.Compare(a.ID(), b.ID()) })
	for _, g := range victims {
		p.h.Raw().Kill(g)
	}
	if cur == nil {
		return nil
	}
	p.killing++
	defer func() { p.killing-- }()
	for _, g := range victims {
		for !g.Dead() {
			if _, err := p.idle.Await(cur, killReason); err != nil {
				return err
			}
		}
	}
	return nil
}

// caller returns the calling green thread, nil for a hub callback, or an
// error for any other goroutine.
func (p *Pool) caller() (*hub.G, error) {
	g, err := p.h.Raw().Caller()
	switch {
	case err != nil:
		return nil, fmt.Errorf("greenpool: %w", err)
	case g == p.h.Raw().Loop():
		return nil, nil
	}
	return g, nil
}

// acquire takes a slot for cur, waiting while the pool is full. It reports
// borrowed, taking no slot, if the pool is full and actor is a member of
// the pool: actor's own slot is lent.
func (p *Pool) acquire(cur, actor *hub.G) (borrowed bool, err error) {
	if p.running < p.size { // then no one waits: grant keeps it so
		p.running++
		return false, nil
	}
	if _, ok := p.members[actor]; ok && actor != nil {
		return true, nil
	}
	if cur == nil {
		return false, fmt.Errorf("greenpool: spawn into a full pool: %w", hub.ErrNotGreen)
	}
	w := p.spawners.Push(cur)
	defer p.leave(w)
	if err := p.spawners.Wait(w, spawnReason); err != nil {
		return false, err
	}
	w.Granted = false // the slot is the caller's now
	return false, nil
}

// leave ends a spawner's wait: a slot it was granted and cannot use (its
// wait was interrupted, or it is unwinding from a kill) is passed on.
func (p *Pool) leave(w *hub.Waiter[struct{}]) {
	p.spawners.Remove(w)
	if w.Granted {
		p.release()
	}
	p.spawners.Release(w)
}

// release returns a slot.
func (p *Pool) release() {
	p.running--
	p.grant()
	p.settled()
}

// grant hands free slots to the blocked spawners, oldest first.
func (p *Pool) grant() {
	for p.running < p.size {
		w := p.spawners.Wake()
		if w == nil {
			return
		}
		w.Granted = true
		p.running++
	}
}

// exit is every task's exit hook: the task leaves the pool and its slot is
// passed on.
func (p *Pool) exit(g *hub.G) {
	borrowed, ok := p.members[g]
	if !ok {
		return
	}
	delete(p.members, g)
	if !borrowed {
		p.running--
		p.grant()
	}
	p.settled()
}

// settled wakes WaitAll and Kill callers when they may be done.
func (p *Pool) settled() {
	if p.idle.Len() > 0 && (p.killing > 0 || !p.busy()) {
		p.idle.WakeAll(struct{}{})
	}
}
