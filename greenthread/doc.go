// Package greenthread is eventlet's greenthread module and greenlet's
// switching, on a greenhub hub.
//
// Spawn starts a green thread and returns a *Thread[T] whose Wait returns
// the function's result (eventlet's spawn and GreenThread); SpawnN starts
// one with no result object (spawn_n, cheaper); SpawnAfter starts one after
// a delay and can be cancelled before then (spawn_after). Sleep and Yield
// (eventlet's sleep(s) and sleep(0)) suspend the caller. This package is
// how applications spawn and sleep; the hub's Raw face is for building
// primitives. Local is eventlet's corolocal.local: a value per green thread
// (a request id, a logger), freed when the green thread ends.
//
// Greenlets are the lower level: a Greenlet runs only when switched to,
// Switch passes a value in both directions, Throw raises an error at the
// target's switch, and when a greenlet's function returns its result goes
// to its parent. The hub's green threads are greenlets whose parent is the
// hub, as in eventlet.
//
// Failure stays inside the green thread: a panic is recovered and becomes
// the thread's error (a *hub.PanicError with the stack), delivered to Wait
// and to linked functions. A failure nobody waits for or is linked to — and
// every panic of a SpawnN function — goes to the hub's panic handler
// (hub.WithPanicHandler; by default a slog Error with the stack), as does a
// panic in a linked function, which does not stop the other links.
//
// Kill unwinds the target from its blocking point (deferred calls run)
// and, called from another green thread, waits for it to end; Wait then
// returns an error that errors.Is ErrKilled. A thread killed or cancelled
// before it started never runs; one that recovers the kill is killed again
// at its next switch point.
//
// Every function here is for the hub's green threads (and, for the ones
// that do not block, hub callbacks). Called from another goroutine they
// return an error that errors.Is hub.ErrOutside and touch nothing (Spawn
// returns a Thread that is already dead, whose Wait says why); goroutines
// start green threads through greensync.Go and greensync.Call.
package greenthread
