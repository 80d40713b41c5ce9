// Package hub is greenhub's event loop: one OS thread, a poller (epoll on
// Linux, kqueue on darwin and freebsd), a min-heap of timers and a FIFO
// ready queue, scheduling green threads — Go coroutines made with
// iter.Pull — that run until they block, sleep or yield (eventlet's hub,
// greenlet's switching).
//
// The model: Run locks its goroutine to an OS thread and turns the loop,
// one phase after another as libuv's uv_run does — fire the due timers, run
// the green threads that were ready when the batch began, poll (timeout 0
// if something is ready, else until the earliest timer, else until an
// event), run what other goroutines submitted. One scheduler decides what
// runs next, from the loop and from every green thread that parks, yields
// or ends; a green thread that parks hands the thread straight to the next
// one, without going through the loop. While green threads stay ready the
// poll system call is skipped, except every 61 resumptions (Go's scheduler
// and Tokio tick the same way), so a yield never pays for a system call and
// I/O and timers are never starved. Equal timer deadlines fire in
// scheduling order; with a virtual clock a run is reproducible. Run is
// Begin, Step and Close, which let the caller drive the same loop one turn
// at a time (RunOnce, RunNoWait) or to the end (RunDefault). A Tracer
// (WithTracer) sees every switch, park, wake-up and exit and the phases
// that do work; without one each hook costs a nil check. Package timeline
// turns its events into a Chrome trace or runtime/trace tasks.
//
// A *Hub has two faces. The user face is small: New and its options, Run
// and the run modes, Submit and Ref for other goroutines, Offload for
// blocking work, Now, Stats, Dump. Applications spawn and sleep through
// package greenthread. Raw is the face for building blocking primitives —
// the caller check, park, ready and interrupt, timers with a saturating
// Deadline, Register for file descriptors, WaitQueue — as net.Conn offers
// SyscallConn; greensync, greenpool, greenthread and netio are built on it.
//
// Which goroutine may call what: a green thread may call everything; a hub
// callback (a timer function, a function given to Submit) everything that
// does not block; any other goroutine New, Submit, Ref, Now, Raw and the
// Raw methods documented for any goroutine (SubmitReady, Deadline…). Step
// and Close are for the goroutine that called Begin. The hub checks: a call
// from the wrong goroutine returns ErrOutside (ErrNotStarted before the run,
// ErrStopped after it; blocking calls from a callback return ErrNotGreen),
// or panics with it where the method returns no error, and leaves the hub
// untouched — the Go runtime itself would crash the process if a coroutine
// were resumed from another thread.
//
// The lock rule: nothing on the hub's thread may block the OS thread. A
// blocking system call, or a sync.Mutex held across a park while another
// green thread of the same hub wants it (crypto/tls holds its connection
// locks that way), freezes every green thread of the hub for good: the
// holder can only run again on the thread that is stuck in the waiter's
// Lock. Use greensync.Mutex and RWMutex for locks held across blocking
// calls, Offload for blocking work, and greensync's and netio's bridges to
// meet goroutines. The watchdog (WithWatchdog) names the case: the green
// thread that holds the hub's thread, the Go lock or channel wait it is
// stuck in, and its stack.
//
// Run never hangs silently: when nothing can wake any green thread again —
// none is ready, no timer is pending, no fd has a waiter, no offloaded call
// or door item is in flight, no other goroutine holds a reference — it
// returns an error wrapping ErrDeadlock, with a dump. A goroutine that will
// call Submit (or SubmitReady) later, while the green threads wait for it,
// holds h.Ref() until then; the bridges take one for each call in flight.
//
// A panic in a green thread is recovered and becomes that green thread's
// error (*PanicError, with the stack); the others go on. Kill unwinds a
// green thread from its blocking point with a panic the hub recovers, so
// its deferred calls run, and its error is ErrKilled; the kill is sticky (a
// green thread that recovers it is killed again at its next switch point).
// A failure nobody can observe — a green thread that failed with nobody
// waiting for it or linked to it, a panicking timer function, submitted
// function or exit hook — goes to the panic handler (WithPanicHandler), by
// default a slog Error with the stack.
package hub
