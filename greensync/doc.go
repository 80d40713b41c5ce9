// Package greensync is eventlet's event, semaphore, queue and timeout
// modules for greenhub's green threads, green locks, and the bridges
// between green threads and ordinary goroutines.
//
// The primitives — Event, Semaphore, BoundedSemaphore, CappedSemaphore,
// Queue, LightQueue, PriorityQueue, LifoQueue, Mutex, RWMutex — park the
// calling green thread in the hub (on a hub.WaitQueue) instead of blocking
// a goroutine, so a hand-off takes no lock and no system call. Waiters are
// served in FIFO order: the green thread that began to wait first is woken
// first, and a newcomer never overtakes it. A waiter is handed what it waited for (an item, a permit, an event's
// value) before it runs; if it is killed before it runs, what it was handed
// goes on to the next waiter, so no wake-up is lost. A waiter woken by a
// Timeout or a context takes nothing: its call returns that error.
//
// Mutex and RWMutex are sync.Mutex and sync.RWMutex for green threads
// (both are sync.Lockers; LockErr and RLockErr are the waits a Timeout or a
// context can end). They exist for the hub's lock rule: nothing on the
// hub's thread may block the OS thread, and a sync.Mutex held across a
// blocking call (a socket read, a Sleep, a queue Get) while another green
// thread of the same hub wants it does, for good — every green thread of
// the hub freezes. A lock held across a blocking call must be a greensync
// one; a sync.Mutex is fine only when it is never held across one.
//
// Timeout is eventlet's Timeout: started in a green thread, it makes that
// green thread's current blocking call — any call that parks in the hub —
// return the *Timeout as its error (errors.Is(err, ErrTimeout)); nested
// timeouts are told apart by identity. WithContext and WaitContext put
// context.Context at the edge: a cancellation from any goroutine enters the
// hub through its thread-safe door and interrupts the blocked call.
//
// Bridges: Call and Go let a plain goroutine run a function in a green
// thread (waiting for the result, or not); Recv, Send and WaitGroup let a
// green thread use Go channels and a sync.WaitGroup without blocking the
// hub, with a helper goroutine that reports through the door. Each call in
// flight holds a reference on the hub (hub.Hub.Ref), so Run does not take
// the wait for a deadlock (hub.ErrDeadlock). Between the hubs of one
// process (a hub.Group), CallHub runs a function in a green thread of
// another hub while the calling green thread parks. NotifySignal delivers
// operating-system signals to green threads (Signals.Wait).
//
// Which goroutine may call what: the primitives and Timeout are for the
// hub's thread — blocking methods for its green threads, the others also
// for hub callbacks; from another goroutine they return an error that
// errors.Is hub.ErrOutside (hub.ErrNotStarted or hub.ErrStopped outside
// the run) and change nothing; the lock methods, which return no error,
// panic with it, as sync's misuse panics. Call and Go are for other
// goroutines only (on the hub's thread they return ErrOnHub, and Call does on
// any hub's thread: use CallHub there).
package greensync
