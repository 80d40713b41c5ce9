package greensync

import (
	"time"

	"github.com/greenhub/greenhub/hub"
)

var reasonAcquire = hub.Block("semaphore acquire")

// Semaphore is eventlet's Semaphore: a counter of permits. Acquire takes
// one, blocking the calling green thread while there are none; Release
// gives one back, to the longest-waiting green thread if any (FIFO), so a
// newcomer never overtakes a waiter. A permit handed to a waiter that is
// killed before it runs goes on to the next waiter. The counter may start
// at any n >= 0 and Release may raise it past n; BoundedSemaphore forbids
// that.
//
// Methods are for the hub's thread: Acquire for green threads, the rest
// also for hub callbacks.
type Semaphore struct {
	h       *hub.Hub
	count   int
	waiters hub.WaitQueue[struct{}]
}

// NewSemaphore returns a semaphore of h with n permits.
func NewSemaphore(h *hub.Hub, n int) *Semaphore {
	return &Semaphore{h: h, count: max(n, 0)}
}

// Acquire takes a permit, blocking the calling green thread until one is
// free. It returns nil when it has the permit, or the error that woke it
// (a *Timeout, a context's error) without one.
func (s *Semaphore) Acquire() error {
	if s.count > 0 { // then no waiter is parked: it would have had the permit
		if err := onHub(s.h, "semaphore acquire"); err != nil {
			return err
		}
		s.count--
		return nil
	}
	g, err := green(s.h, "semaphore acquire")
	if err != nil {
		return err
	}
	w := s.waiters.Push(g)
	defer s.done(w)
	if err := s.waiters.Wait(w, reasonAcquire); err != nil {
		return err
	}
	w.Granted = false
	return nil
}

// done runs when Acquire ends, however it ends: a waiter killed after it
// was granted the permit passes it on.
func (s *Semaphore) done(w *hub.Waiter[struct{}]) {
	granted := w.Granted
	s.waiters.Release(w)
	if granted {
		s.release()
	}
}

// AcquireTimeout is Acquire bounded by a Timeout of d (eventlet's
// acquire(timeout=d)): on expiry it returns an error that errors.Is
// ErrTimeout and holds no permit.
func (s *Semaphore) AcquireTimeout(d time.Duration) error {
	return withTimeout(s.h, d, s.Acquire)
}

// TryAcquire takes a permit if one is free without waiting
// (acquire(blocking=False)) and reports whether it did.
func (s *Semaphore) TryAcquire() bool {
	if s.count > 0 && onHub(s.h, "") == nil {
		s.count--
		return true
	}
	return false
}

// Release gives a permit back: to the first waiter, or to the counter.
func (s *Semaphore) Release() error {
	if err := onHub(s.h, "semaphore release"); err != nil {
		return err
	}
	s.release()
	return nil
}

func (s *Semaphore) release() {
	if w := s.waiters.Wake(); w != nil {
		w.Granted = true
		return
	}
	s.count++
}

// Counter returns the free permits.
func (s *Semaphore) Counter() int { return s.count }

// Balance is eventlet's balance: the free permits minus the waiting green
// threads; negative when green threads wait.
func (s *Semaphore) Balance() int { return s.count - s.waiters.Len() }

// Waiting returns the number of green threads waiting in Acquire.
func (s *Semaphore) Waiting() int { return s.waiters.Len() }

// Locked reports whether Acquire would block.
func (s *Semaphore) Locked() bool { return s.count <= 0 }

// BoundedSemaphore is eventlet's BoundedSemaphore: a Semaphore whose
// Release returns ErrOverRelease instead of raising the counter past its
// initial value.
type BoundedSemaphore struct {
	Semaphore
	limit int
}

// NewBoundedSemaphore returns a bounded semaphore of h with n permits.
func NewBoundedSemaphore(h *hub.Hub, n int) *BoundedSemaphore {
	n = max(n, 0)
	return &BoundedSemaphore{Semaphore: Semaphore{h: h, count: n}, limit: n}
}

// Release gives a permit back, or returns ErrOverRelease if every permit
// is already free.
func (s *BoundedSemaphore) Release() error {
	if err := onHub(s.h, "semaphore release"); err != nil {
		return err
	}
	if s.count >= s.limit {
		return ErrOverRelease
	}
	s.release()
	return nil
}

// CappedSemaphore is eventlet's CappedSemaphore, a blockingly bounded
// semaphore: Acquire blocks while the counter is zero, and Release blocks
// while the counter is at limit, until an Acquire makes room. Both sides
// are served FIFO, as Semaphore's waiters are.
type CappedSemaphore struct {
	lower Semaphore // the permits held back from Acquire
	upper Semaphore // the room left below limit, taken by Release
	limit int
}

// NewCappedSemaphore returns a capped semaphore of h with count permits, at
// most limit (a limit below count is raised to count).
func NewCappedSemaphore(h *hub.Hub, count, limit int) *CappedSemaphore {
	count = max(count, 0)
	limit = max(limit, count)
	return &CappedSemaphore{
		lower: Semaphore{h: h, count: count},
		upper: Semaphore{h: h, count: limit - count},
		limit: limit,
	}
}

// Acquire takes a permit, blocking while there is none.
func (s *CappedSemaphore) Acquire() error {
	if err := s.lower.Acquire(); err != nil {
		return err
	}
	s.upper.release()
	return nil
}

// AcquireTimeout is Acquire bounded by a Timeout of d.
func (s *CappedSemaphore) AcquireTimeout(d time.Duration) error {
	return withTimeout(s.lower.h, d, s.Acquire)
}

// TryAcquire takes a permit if one is free and reports whether it did.
func (s *CappedSemaphore) TryAcquire() bool {
	if !s.lower.TryAcquire() {
		return false
	}
	s.upper.release()
	return true
}

// Release gives a permit back, blocking the calling green thread while the
// counter is at its limit. A hub callback may call it when it need not
// wait.
func (s *CappedSemaphore) Release() error {
	if s.upper.TryAcquire() {
		s.lower.release()
		return nil
	}
	if err := s.upper.Acquire(); err != nil {
		return err
	}
	s.lower.release()
	return nil
}

// Counter returns the free permits.
func (s *CappedSemaphore) Counter() int { return s.lower.count }

// Limit returns the most permits the semaphore holds.
func (s *CappedSemaphore) Limit() int { return s.limit }

// Balance is eventlet's balance: the free permits minus the green threads
// waiting to acquire, plus those waiting to release.
func (s *CappedSemaphore) Balance() int { return s.lower.Balance() + s.upper.Waiting() }
