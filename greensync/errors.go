package greensync

import "errors"

var (
	// ErrAlreadySent is returned by Event.Send and SendError on an event
	// that has been sent and not Reset (eventlet asserts the same).
	ErrAlreadySent = errors.New("greensync: event already sent")
	// ErrNotSent is returned by Event.Reset on a fresh event.
	ErrNotSent = errors.New("greensync: reset of an event that was not sent")
	// ErrOverRelease is returned by BoundedSemaphore.Release past the
	// initial count (eventlet's ValueError).
	ErrOverRelease = errors.New("greensync: semaphore released too many times")
	// ErrEmpty is returned by TryGet on an empty queue (eventlet's Empty).
	ErrEmpty = errors.New("greensync: queue empty")
	// ErrFull is returned by TryPut on a full queue (eventlet's Full).
	ErrFull = errors.New("greensync: queue full")
	// ErrTaskDone is returned by TaskDone called more times than items were
	// put.
	ErrTaskDone = errors.New("greensync: TaskDone called too many times")
	// ErrTimeout is what every *Timeout error matches with errors.Is.
	ErrTimeout = errors.New("greensync: timeout")
	// ErrTimeoutStarted is returned by Start on a Timeout that is pending.
	ErrTimeoutStarted = errors.New("greensync: timeout already started")
	// ErrOnHub is returned by the goroutine-side bridges (Call, Go) when
	// they are called on the hub's own thread, where waiting would stop the
	// hub.
	ErrOnHub = errors.New("greensync: goroutine bridge called on the hub's thread")
)
