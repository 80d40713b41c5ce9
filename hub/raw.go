package hub

import (
	"log/slog"
	"math"
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Raw is the hub's face for building blocking primitives — what greensync,
// greenpool, greenthread and netio are made of — the way net.Conn offers
// SyscallConn for what its plain methods do not cover. Applications spawn
// and sleep through package greenthread and never need it.
//
// A Raw is a small value (the hub pointer); get one with Hub.Raw and keep
// it or not, as is convenient. Its methods are for the hub's thread — the
// green threads and hub callbacks (timer functions, functions given to
// Submit) — unless their documentation says any goroutine. Called from
// another goroutine they return ErrOutside (or panic with it where they
// return no error) and leave the hub untouched.
//
// The pieces: the caller check (Caller, Green, Current); green threads and
// greenlets (Spawn, NewGreenlet, Start, Switch, Throw, Kill, Yield, Sleep);
// parking (Park, Ready, Token, ReadyToken, SubmitReady, Interrupt,
// ClearInterrupt) and one FIFO wait queue built on them (WaitQueue);
// timers with a saturating deadline (Deadline, ScheduleTimer,
// CancelTimer, AfterFunc); file descriptors (Register); the failure policy
// (ReportFailure) and the logger.
type Raw struct{ h *Hub }

// Raw returns the hub's raw face. Any goroutine may call it.
func (h *Hub) Raw() Raw { return Raw{h} }

// Hub returns the hub r belongs to.
func (r Raw) Hub() *Hub { return r.h }

// Caller returns the G the calling goroutine is on this hub: the running
// green thread, or Loop for a hub callback. Any other goroutine gets
// ErrOutside (ErrNotStarted before Run, ErrStopped after it), and the hub
// is not touched. It costs about 2ns and never makes a system call.
func (r Raw) Caller() (*G, error) { return r.h.caller() }

// Green returns the running green thread, as a blocking call needs: a hub
// callback gets ErrNotGreen, another goroutine the errors of Caller.
func (r Raw) Green() (*G, error) { return r.h.green() }

// Current returns the calling green thread, or nil if the caller is not one
// of this hub's green threads (a hub callback, another goroutine). Any
// goroutine may call it.
func (r Raw) Current() *G {
	g, err := r.h.green()
	if err != nil {
		return nil
	}
	return g
}

// Loop returns the G that stands for the hub loop: the parent of every
// green thread, the "from" of switches out of the loop in traces, what
// Caller returns to hub callbacks.
func (r Raw) Loop() *G { return r.h.loop }

// Spawn creates a green thread running fn, with the hub loop as parent, and
// puts it at the back of the ready queue: eventlet's spawn_n at the hub
// level. onExit, if not nil, runs once when the green thread ends, however
// it ends (also when it is killed before it started); g.Err tells how. A
// green thread that fails (fn returns an error or panics) and has no onExit
// is reported through the panic handler (WithPanicHandler); with an onExit,
// reporting is the hook's to decide (ReportFailure).
func (r Raw) Spawn(fn func() error, onExit func(*G)) (*G, error) {
	if _, err := r.h.caller(); err != nil {
		return nil, err
	}
	if r.h.stopping {
		return nil, ErrStopped
	}
	return r.h.spawn(fn, onExit), nil
}

// NewGreenlet creates a greenlet: a G that runs fn when it is first
// switched to, with the switch's value as arg, and whose result goes to its
// parent when it ends (greenlet.greenlet(run, parent)). A nil parent means
// the caller.
func (r Raw) NewGreenlet(fn func(arg any) (any, error), parent *G, onExit func(*G)) (*G, error) {
	return r.h.newGreenlet(fn, parent, onExit)
}

// Start queues g, a greenlet made by NewGreenlet that has not started, to
// be run by the hub like a spawned green thread: SpawnAfter creates its
// green thread at once and starts it when its timer fires. g's parent
// becomes the hub loop.
func (r Raw) Start(g *G) error { return r.h.start(g) }

// Switch suspends the calling green thread and resumes target directly,
// without the ready queue, handing it v: greenlet's switch. It returns what
// is handed back when something switches to the caller again, or the
// result of a greenlet whose parent the caller is when that greenlet ends.
// A target that has ended passes the switch on to its parent (greenlet's
// rule), with v. A target that is ready to run or blocked in the hub on
// something other than a switch gets ErrNotSwitchable.
func (r Raw) Switch(target *G, v any) (any, error) { return r.h.switchTo(target, v, nil) }

// Throw switches to target as Switch does, making target's Switch return
// err instead of a value (greenlet's throw). Throwing into a greenlet that
// has not started kills it: it never runs, and Throw returns as its parent
// would. A nil err is ErrKilled.
func (r Raw) Throw(target *G, err error) (any, error) { return r.h.throw(target, err) }

// Kill unwinds g as eventlet's kill does: a green thread that has not
// started never runs; a parked or ready one is woken at its blocking point
// and unwinds from there (deferred calls run); the caller killing itself
// unwinds at once. g's error becomes ErrKilled. If g recovers the kill and
// goes on, it is killed again at each of its blocking points until it
// ends. Kill does not wait for g to finish unwinding; greenthread's Kill
// does.
func (r Raw) Kill(g *G) error {
	if _, err := r.h.caller(); err != nil {
		return err
	}
	if g.h != r.h {
		return ErrOtherHub
	}
	if g != r.h.loop {
		r.h.kill(g)
	}
	return nil
}

// Yield puts the calling green thread at the back of the ready queue and
// runs the others: eventlet's sleep(0). A pending kill or Interrupt is
// delivered here, as at every switch point. The periodic poll makes sure a
// green thread that spins on Yield cannot starve I/O or timers.
func (r Raw) Yield() error { return r.h.yield() }

// Sleep suspends the calling green thread for d on the hub's clock;
// d <= 0 is Yield. It returns early only with an error (a Timeout, say).
func (r Raw) Sleep(d time.Duration) error { return r.h.sleep(d) }

// Park suspends the calling green thread until Ready is called for it (or
// it is interrupted or killed) and returns the error passed to Ready. It
// is the building block of blocking calls: register the G somewhere a
// waker will find it, Park, then undo the registration. A kill unwinds the
// green thread from inside Park with a panic the hub recovers, so undo
// registrations with defer. A pending Interrupt makes Park return it at
// once.
func (r Raw) Park(why Reason) error {
	g, err := r.h.green()
	if err != nil {
		return err
	}
	err, killed := r.h.park(g, why)
	if killed {
		raiseKill()
	}
	return err
}

// Ready makes g, parked in Park, runnable: it goes to the back of the ready
// queue and its Park returns err. It reports false if g was not parked
// (already woken, running, dead). Other goroutines use SubmitReady.
func (r Raw) Ready(g *G, err error) bool {
	r.h.mustCaller()
	return r.h.ready(g, err)
}

// WakeToken names one park of one G, so that a late waker — a timer, an
// offloaded job, a goroutine — cannot wake a later, unrelated park of the
// same G.
type WakeToken struct {
	g   *G
	seq uint64
}

// G returns the G the token names.
func (t WakeToken) G() *G { return t.g }

// Token returns the token of the calling green thread's next park.
func (r Raw) Token() (WakeToken, error) {
	g, err := r.h.green()
	if err != nil {
		return WakeToken{}, err
	}
	return WakeToken{g: g, seq: g.parkSeq + 1}, nil
}

// ReadyToken is Ready for the park the token names; a stale token (the G
// has been woken since, or parks for something else now) does nothing.
func (r Raw) ReadyToken(t WakeToken, err error) bool {
	r.h.mustCaller()
	return r.h.readyToken(t, err)
}

// SubmitReady is ReadyToken for any goroutine: it wakes the park the token
// names, through the door, with err as Park's result. A stale token does
// nothing. It returns ErrStopped after Run has returned.
func (r Raw) SubmitReady(t WakeToken, err error) error {
	return r.h.submit(doorItem{tok: t, err: err})
}

// Interrupt makes g's current blocking call return err, whatever it is
// blocked on (Sleep, an fd, a queue, a Yield, a greenlet Switch…):
// eventlet's Timeout raising into a green thread. If g is parked it is
// woken now; if it is ready or running, its next switch point returns err.
// A later Interrupt replaces an earlier one that has not been delivered. It
// reports false for a dead g.
func (r Raw) Interrupt(g *G, err error) bool {
	r.h.mustCaller()
	return r.h.interrupt(g, err)
}

// ClearInterrupt withdraws err if Interrupt left it pending on g and it has
// not been delivered (a Timeout cancelled before g blocked again). It
// reports whether it did.
func (r Raw) ClearInterrupt(g *G, err error) bool {
	r.h.mustCaller()
	if g.interrupt != nil && g.interrupt == err {
		g.interrupt = nil
		return true
	}
	return false
}

// Deadline returns the time d from now on the hub's clock, saturating
// instead of overflowing: a huge d (math.MaxInt64 as "never") is the end
// of time, never a wrap into the past that fires at once. libuv's
// uv_timer_start clamps the same way. Every deadline in greenhub is
// computed here (a net.Conn deadline t as Deadline(time.Until(t))). Any
// goroutine may call it.
func (r Raw) Deadline(d time.Duration) time.Duration {
	return saturatingAdd(r.h.clock.Now(), d)
}

func saturatingAdd(now, d time.Duration) time.Duration {
	switch {
	case d > 0 && now > math.MaxInt64-d:
		return math.MaxInt64
	case d < 0 && now < math.MinInt64-d:
		return math.MinInt64
	}
	return now + d
}

// ScheduleTimer makes t fire at when on the hub's clock (see Hub.Now and
// Deadline); t.F runs as a hub callback. A scheduled t is moved. Equal
// deadlines fire in the order they were scheduled. It panics with
// ErrOutside off the hub's thread.
func (r Raw) ScheduleTimer(t *timers.Timer, when time.Duration) {
	r.h.mustCaller()
	r.h.timers.Schedule(t, when)
}

// CancelTimer stops t and reports whether it was scheduled. A cancelled
// timer never fires. It panics with ErrOutside off the hub's thread.
func (r Raw) CancelTimer(t *timers.Timer) bool {
	r.h.mustCaller()
	return r.h.timers.Cancel(t)
}

// AfterFunc runs f as a hub callback once d has passed on the hub's clock,
// unless the returned timer is cancelled first with CancelTimer. It panics
// with ErrOutside off the hub's thread.
func (r Raw) AfterFunc(d time.Duration, f func()) *timers.Timer {
	r.h.mustCaller()
	t := &timers.Timer{F: f}
	r.h.timers.Schedule(t, r.Deadline(d))
	return t
}

// Register puts sysfd, which must be in non-blocking mode, under the hub's
// poller. The hub owns it from now on: FD.Close closes it, and Run closes
// it at the end if nobody did.
func (r Raw) Register(sysfd int) (*FD, error) { return r.h.register(sysfd) }

// Logger returns the hub's logger (WithLogger). Any goroutine may call it.
func (r Raw) Logger() *slog.Logger { return r.h.logger }

// ReportFailure hands err, the failure of g, to the hub's panic handler
// (WithPanicHandler; by default a slog Error with the stack): what an exit
// hook calls when nobody waits for g or is linked to it, as eventlet and
// gevent print the traceback of a green thread nobody joins. A nil err or
// ErrKilled is no failure and is not reported.
func (r Raw) ReportFailure(g *G, err error) { r.h.reportFailure(g, err) }

// Stopping reports whether the hub is unwinding its green threads at the
// end of Run: green threads cannot be spawned any more.
func (r Raw) Stopping() bool { return r.h.stopping }
