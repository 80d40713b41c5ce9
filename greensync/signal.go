package greensync

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/greenhub/greenhub/hub"
)

// SignalQueue is how many signals a Signals holds for its green threads
// while none is waiting: the capacity of the channel given to
// signal.Notify. Up to this bound no signal is lost and they are returned
// in the order they arrived; beyond it, as with signal.Notify, further
// signals are dropped until a Wait takes one.
const SignalQueue = 32

// ErrSignalsStopped is returned by Signals.Wait once Stop has been called
// and the signals queued before it have been returned.
var ErrSignalsStopped = errors.New("greensync: signals stopped")

// Signals delivers operating-system signals to green threads: os/signal
// for the hub. Make one with NotifySignal; green threads take the signals
// with Wait, in the order they arrived; Stop ends the delivery.
//
// How a signal reaches the hub: signal.Notify relays it to a buffered
// channel (SignalQueue deep), and Wait receives from that channel with
// Recv — at once, without leaving the hub's thread, if a signal is queued;
// otherwise a helper goroutine waits on the channel and hands the signal
// over through the hub's door. The helper lives only while a green thread
// waits, so nothing outlives Stop and a Signals nobody waits on costs no
// goroutine.
//
// References and deadlock detection (hub.Hub.Ref): a Signals holds no
// reference on the hub by itself, so it never keeps Run from detecting that
// green threads waiting for something else can never be woken
// (hub.ErrDeadlock). A green thread parked in Wait does hold one, for the
// duration of its wait: a signal can come at any time, so a program whose
// main green thread waits for SIGTERM is not deadlocked. References never
// make Run wait: Run ends when main returns, killing a green thread parked
// in Wait like any other.
//
// Which goroutine may call what: NotifySignal, Stop and Pending may be
// called from any goroutine; Wait is for the green threads of the hub the
// Signals was made for (elsewhere it returns an error that errors.Is
// hub.ErrOutside — hub.ErrNotStarted, hub.ErrStopped outside the run — or
// hub.ErrNotGreen from a hub callback, and takes no signal).
type Signals struct {
	h    *hub.Hub
	c    chan os.Signal
	once sync.Once
}

// NotifySignal starts relaying the given signals to green threads of h: a
// Signals whose Wait returns them. As with signal.Notify, no signals means
// every incoming signal, and the default action of a signal relayed (a
// SIGTERM or SIGINT ending the process, say) no longer happens until Stop.
// SIGKILL and SIGSTOP cannot be caught: asking for them is an error. Any
// goroutine may call it, before or during h's run.
func NotifySignal(h *hub.Hub, sigs ...os.Signal) (*Signals, error) {
	if h == nil {
		return nil, errors.New("greensync: notify signal: nil hub")
	}
	for _, s := range sigs {
		if s == syscall.SIGKILL || s == syscall.SIGSTOP {
			return nil, fmt.Errorf("greensync: notify signal: %v cannot be caught", s)
		}
	}
	s := &Signals{h: h, c: make(chan os.Signal, SignalQueue)}
	signal.Notify(s.c, sigs...)
	return s, nil
}

// Wait parks the calling green thread until a signal is delivered and
// returns it; a signal queued already is returned at once. When several
// green threads wait, each signal goes to one of them. A greensync Timeout,
// a context (WithContext) or an interrupt ends the wait with its error and
// takes no signal; a kill unwinds it, and a signal taken for the killed
// green thread in that instant goes to the next Wait. After Stop, Wait
// returns the signals still queued, then ErrSignalsStopped.
func (s *Signals) Wait() (os.Signal, error) {
	if _, err := green(s.h, "signal wait"); err != nil {
		return nil, err
	}
	sig, ok, err := Recv(s.h, s.c)
	if err != nil {
		return nil, err // a Timeout's own error, so that err == t still tells it apart
	}
	if !ok {
		return nil, ErrSignalsStopped
	}
	return sig, nil
}

// Pending returns how many signals are queued for Wait. Any goroutine may
// call it.
func (s *Signals) Pending() int { return len(s.c) }

// Stop ends the relaying (signal.Stop: the default actions come back
// unless another Notify holds the signals). Green threads parked in Wait
// wake with ErrSignalsStopped once the signals queued before Stop have been
// taken. Stopping twice does nothing. Any goroutine may call it; it does
// not park, though signal.Stop may wait a moment for a signal being
// relayed at that instant.
func (s *Signals) Stop() {
	s.once.Do(func() {
		signal.Stop(s.c)
		// After signal.Stop nothing sends on s.c any more (its contract):
		// closing it wakes the receivers, green (through Recv's helpers)
		// and not.
		close(s.c)
	})
}
