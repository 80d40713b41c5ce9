package hub

import (
	"runtime/debug"
	"sync"
)

// offloadPool runs blocking functions for green threads on a bounded set of
// goroutines (eventlet's tpool). Workers start when there is work and no
// idle worker, up to max; jobs beyond that wait in FIFO order.
type offloadPool struct {
	mu      sync.Mutex
	cond    sync.Cond
	jobs    []offloadJob
	idle    int
	workers int
	max     int
	closed  bool
	wg      sync.WaitGroup

	inflight int // calls queued or running whose result has not come back (hub thread only)
}

type offloadJob struct {
	fn  func()
	tok WakeToken
}

// Offload runs fn on one of the hub's offload goroutines while the calling
// green thread is parked, and returns when fn has returned: eventlet's
// tpool.execute. Use it for calls that would block the OS thread (file I/O,
// cgo, DNS, a mutex shared with goroutines). If fn panics, Offload returns
// a *PanicError. A green thread killed while it waits unwinds at once; fn
// still runs to the end on its goroutine, and Run waits for it.
func (h *Hub) Offload(fn func()) error {
	g, err := h.green()
	if err != nil {
		return err
	}
	// A kill or interrupt already pending ends the call before fn is
	// queued: fn must not run for a caller that has given up on it.
	if err := g.pendingKillOrInterrupt(); err != nil {
		return err
	}
	h.offload.inflight++
	h.offload.add(h, offloadJob{fn: fn, tok: WakeToken{g: g, seq: g.parkSeq + 1}})
	err, killed := h.park(g, reasonOffload)
	if killed {
		raiseKill()
	}
	return err
}

func (p *offloadPool) add(h *Hub, job offloadJob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond.L == nil {
		p.cond.L = &p.mu
	}
	p.jobs = append(p.jobs, job)
	if p.idle > 0 {
		// Claim the idle worker now: until it wakes it still counts as
		// idle, and a second add would count on it too and start no
		// worker, leaving its job queued behind a busy one.
		p.idle--
		p.cond.Signal()
		return
	}
	if p.workers < p.max {
		p.workers++
		p.wg.Add(1)
		go p.work(h)
	}
}

func (p *offloadPool) work(h *Hub) {
	defer p.wg.Done()
	p.mu.Lock()
	for {
		for len(p.jobs) == 0 && !p.closed {
			p.idle++ // add decrements it when it signals this worker
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		job := p.jobs[0]
		p.jobs[0] = offloadJob{}
		p.jobs = p.jobs[1:]
		p.mu.Unlock()
		h.submit(doorItem{tok: job.tok, err: runJob(job.fn), offload: true})
		p.mu.Lock()
	}
}

func runJob(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	fn()
	return nil
}

// dropQueued drops the calls not started yet — their green threads are
// being killed — and returns how many it dropped.
func (p *offloadPool) dropQueued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.jobs)
	p.jobs = nil
	return n
}

// close waits for the workers to end. The hub calls it when no call is in
// flight any more.
func (p *offloadPool) close() {
	p.mu.Lock()
	p.closed = true
	p.jobs = nil
	if p.cond.L != nil {
		p.cond.Broadcast()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
