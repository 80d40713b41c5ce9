// Package greenpool is eventlet's GreenPool and GreenPile on a greenhub hub:
// a pool that bounds how many green threads run at once, and the ways of
// mapping work over it with results in order.
//
// A Pool of size n runs at most n tasks. Spawn (eventlet's spawn, returning
// a *greenthread.Thread to Wait on) and SpawnN (spawn_n, no result object)
// block the calling green thread while the pool is full; blocked spawners
// get slots first come, first served, a finished task's slot passing
// straight to the oldest of them. WaitAll waits until the pool is idle,
// Resize changes n (growing wakes spawners at once, shrinking lets running
// tasks finish), Kill kills every task for shutdown (gevent's Pool.kill),
// and Running, Free and Waiting count slots in use, free slots and blocked
// spawners. A panicking task does not break the pool: its slot comes back,
// and its panic becomes its Thread's error (a *hub.PanicError) or, for
// SpawnN, a report to the hub's panic handler (hub.WithPanicHandler; by
// default a slog Error with the stack).
//
// Imap and Starmap apply a function to a sequence in the pool's tasks and
// return an iter.Seq2 of the results in input order, taking the input
// lazily so that memory stays bounded (the pool's size running, as many
// finished and waiting to be read); a Pile (eventlet's GreenPile) collects
// the results of tasks spawned into it and yields them in spawn order.
//
// Like the hub, a pool needs no locks because only one green thread runs at
// a time. Blocking calls — a spawn into a full pool, WaitAll, ranging over
// Imap or a Pile — are for the green threads of the pool's hub; from a hub
// callback they return an error that errors.Is hub.ErrNotGreen instead of
// blocking, and the calls that never block work there too. From any other
// goroutine every call returns an error that errors.Is hub.ErrOutside and
// leaves the pool untouched, except Running, Free, Waiting and Size, which
// must not be called from outside the hub's thread at all. A blocked call
// interrupted by a greensync Timeout or a cancelled context returns the
// interruption's error; a green thread killed while blocked leaves the
// pool's queues as it unwinds.
package greenpool
