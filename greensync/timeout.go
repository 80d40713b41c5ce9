package greensync

import (
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

const (
	timeoutIdle uint8 = iota
	timeoutPending
	timeoutFired
)

// Timeout is eventlet's Timeout: a deadline for the green thread that
// starts it. When it fires, that green thread's current blocking call —
// Sleep, Event.Wait, Queue.Get and Put, Semaphore.Acquire, Thread.Wait, a
// read or accept on a netio socket, anything that parks in the hub —
// returns the *Timeout itself as its error; if the green thread is not
// blocked at that instant, its next blocking call does. The error matches
// ErrTimeout with errors.Is, and comparing it with the Timeout (err == t)
// tells nested timeouts apart: the one that fired is the one returned.
//
// A Timeout is for the hub's thread. Cancel it when the guarded work is
// done (defer t.Cancel()); a cancelled Timeout never fires, and an expiry
// not yet delivered is withdrawn.
type Timeout struct {
	h     *hub.Hub
	d     time.Duration
	g     *hub.G
	state uint8
	timer timers.Timer
}

// NewTimeout returns a Timeout of d that is not started. d < 0 never fires
// (eventlet's Timeout(None)).
func NewTimeout(h *hub.Hub, d time.Duration) *Timeout {
	t := &Timeout{h: h, d: d}
	t.timer.F = t.fire
	return t
}

// StartTimeout is NewTimeout and Start: eventlet's Timeout(seconds), which
// starts at once. The Timeout is returned even when Start fails.
func StartTimeout(h *hub.Hub, d time.Duration) (*Timeout, error) {
	t := NewTimeout(h, d)
	return t, t.Start()
}

// Start arms the Timeout for the calling green thread; it fires d from now
// on the hub's clock. Starting a pending Timeout returns ErrTimeoutStarted;
// an expired or cancelled one may be started again.
func (t *Timeout) Start() error {
	g, err := green(t.h, "timeout start")
	if err != nil {
		return err
	}
	if t.state == timeoutPending {
		return ErrTimeoutStarted
	}
	if t.state == timeoutFired {
		t.h.Raw().ClearInterrupt(t.g, t)
	}
	t.g, t.state = g, timeoutPending
	if t.d >= 0 {
		t.h.Raw().ScheduleTimer(&t.timer, t.h.Raw().Deadline(t.d))
	}
	return nil
}

func (t *Timeout) fire() {
	t.state = timeoutFired
	t.h.Raw().Interrupt(t.g, t)
}

// Cancel disarms the Timeout and reports whether it was pending. If it has
// fired but its green thread has not blocked since, the undelivered error
// is withdrawn. Cancelling twice, or a Timeout never started, does nothing.
func (t *Timeout) Cancel() bool {
	switch t.state {
	case timeoutPending:
		t.h.Raw().CancelTimer(&t.timer)
		t.state = timeoutIdle
		return true
	case timeoutFired:
		t.h.Raw().ClearInterrupt(t.g, t)
		t.state = timeoutIdle
	}
	return false
}

// Pending reports whether the Timeout is armed and has not fired.
func (t *Timeout) Pending() bool { return t.state == timeoutPending }

// Expired reports whether the Timeout fired (and was not cancelled or
// restarted since).
func (t *Timeout) Expired() bool { return t.state == timeoutFired }

// Duration returns the Timeout's d.
func (t *Timeout) Duration() time.Duration { return t.d }

// Error describes the Timeout.
func (t *Timeout) Error() string {
	return "greensync: timeout after " + t.d.String()
}

// Is reports whether target is ErrTimeout, so errors.Is(err, ErrTimeout)
// matches every Timeout.
func (t *Timeout) Is(target error) bool { return target == ErrTimeout }

// Timeout reports true, as net.Error's Timeout does.
func (t *Timeout) Timeout() bool { return true }

// WithTimeout runs fn in the calling green thread under a Timeout of d and
// returns fn's result: eventlet's with_timeout. If the Timeout fires while
// fn blocks, fn's blocking call returns the *Timeout and (unless fn hides
// it) so does WithTimeout; errors.Is(err, ErrTimeout) tells. The Timeout is
// cancelled when fn returns, however it returns.
func WithTimeout[T any](h *hub.Hub, d time.Duration, fn func() (T, error)) (T, error) {
	t, err := StartTimeout(h, d)
	if err != nil {
		var zero T
		return zero, err
	}
	defer t.Cancel()
	return fn()
}

// withTimeout is WithTimeout for the methods' own ...Timeout variants.
func withTimeout(h *hub.Hub, d time.Duration, fn func() error) error {
	t, err := StartTimeout(h, d)
	if err != nil {
		return err
	}
	defer t.Cancel()
	return fn()
}
