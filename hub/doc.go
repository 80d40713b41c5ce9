// Package hub is greenhub's event loop: one OS thread, a poller (epoll on
// Linux, kqueue on darwin and freebsd), a min-heap of timers and a FIFO
// ready queue, scheduling green threads — Go coroutines made with
// iter.Pull — that run until they block, sleep or yield (eventlet's hub,
// greenlet's switching).
//
// Run locks its goroutine to an OS thread and loops through the phases of
// libuv's uv_run: fire due timers; resume the green threads that were ready
// when the batch began; poll, with timeout 0 if something is ready, until
// the earliest timer if one is pending, else indefinitely; make the green
// threads whose file descriptors are ready runnable; run what other
// goroutines submitted. While green threads stay ready the poll system call
// is skipped, except every 61 resumptions (Go's scheduler and Tokio tick the
// same way), so yielding never pays for a system call and yet I/O and
// timers are never starved. Equal timer deadlines fire in scheduling order;
// with a virtual clock a run is reproducible.
//
// Which goroutine may call what: a green thread may call everything; a hub
// callback (a timer function, a function given to Submit) everything that
// does not block; any other goroutine only Submit, SubmitReady, Now and the
// constructors. The hub checks: a call from the wrong goroutine returns
// ErrOutside (blocking calls from a callback return ErrNotGreen) and leaves
// the hub untouched — the Go runtime itself would crash the process if a
// coroutine were resumed from another thread.
//
// A panic in a green thread is recovered and becomes that green thread's
// error (*PanicError, with the stack); the others go on. Kill unwinds a
// green thread from its blocking point with a panic the hub recovers, so its
// deferred calls run, and its error is ErrKilled.
package hub
