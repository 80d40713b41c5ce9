package hub

import "time"

// The poller is the hub's one platform-dependent part, split like the Go
// runtime's netpoll: this file states the contract, poller_epoll.go (Linux)
// and poller_kqueue.go (darwin, freebsd) implement it, chosen by build tags.
//
// The methods of *poller, all called on the hub's thread except wake:
//
//	newPoller() (*poller, error)
//		Creates the kernel queue and the wake-up channel.
//	add(fd int, seq uint32) error
//		Registers fd once, edge-triggered, for both read and write
//		readiness (and peer hang-up), tagged with seq so that an event for a
//		closed-and-reused fd is recognised and dropped.
//	del(fd int) error
//		Deregisters fd; called before close(2).
//	wait(timeout time.Duration) ([]event, error)
//		Polls: timeout < 0 blocks until an event or a wake-up, 0 returns at
//		once, > 0 blocks at most that long (rounded up to the kernel's unit,
//		so the loop never spins on a sub-unit wait). An interrupted wait
//		(EINTR) returns no events and no error: the loop recomputes its
//		timeout. The returned slice is reused by the next call.
//	wake() error
//		Makes a blocked or the next wait return with a wake event. Safe from
//		any goroutine; the hub deduplicates calls (wakeSig).
//	close() error
//		Releases the kernel resources.
//
// and two functions on single descriptors:
//
//	closeFD(fd int) error
//		close(2).
//	readyNow(fd int, write bool) bool
//		Whether fd is readable (writable) right now: poll(2) with timeout
//		0, for a wait that the readiness hints cannot answer (FD.WaitRead
//		on an fd whose hint says ready).
//
// poller_other.go stubs the poller for every other GOOS: the module
// builds everywhere, and Run returns an error wrapping
// errors.ErrUnsupported there.
type pollerAPI interface {
	add(fd int, seq uint32) error
	del(fd int) error
	wait(timeout time.Duration) ([]event, error)
	wake() error
	close() error
}

// event is one readiness report from the poller.
type event struct {
	fd       int
	seq      uint32
	hasSeq   bool // false where the kernel cannot carry the tag (kqueue): no reuse check
	wake     bool // the wake-up channel fired; fd is meaningless
	readable bool // data, EOF, peer hang-up or error: a read will not block
	writable bool // buffer space, hang-up or error: a write will not block
	hup      bool // peer hang-up or error: no further edge will come (see FD.HungUp)
}

// maxEvents is how many events one poll returns at most.
const maxEvents = 256
