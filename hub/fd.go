package hub

import (
	"fmt"
	"net"
)

var (
	reasonRead  = "read"
	reasonWrite = "write"
)

// FD is a non-blocking file descriptor registered with the hub's poller
// (the Go runtime's pollDesc, eventlet's listener). It is registered once,
// edge-triggered, for both directions; a green thread that would block
// parks on it with WaitRead or WaitWrite and the poller wakes it. One green
// thread at a time may wait in each direction.
//
// Readiness hints save system calls: ReadReady is true until the user of
// the FD learns the kernel buffer is empty (a short read or EAGAIN) and says
// so with ClearReadReady; every read event sets it again. The same holds
// for writes. A read may then skip the system call that would only return
// EAGAIN.
//
// All methods are for the hub's thread.
type FD struct {
	h      *Hub
	sysfd  int
	seq    uint32
	reader *G
	writer *G
	closed bool

	readReady  bool
	writeReady bool
	hup        bool
}

// register is Raw.Register.
func (h *Hub) register(sysfd int) (*FD, error) {
	if sysfd < 0 {
		return nil, fmt.Errorf("hub: register fd %d: %w", sysfd, ErrBadFD)
	}
	if _, err := h.caller(); err != nil {
		return nil, err
	}
	if h.stopping {
		return nil, ErrStopped
	}
	h.fdSeq++
	d := &FD{h: h, sysfd: sysfd, seq: h.fdSeq, readReady: true, writeReady: true}
	if err := h.poller.add(sysfd, d.seq); err != nil {
		return nil, fmt.Errorf("hub: register fd %d: %w", sysfd, err)
	}
	if sysfd >= len(h.fds) {
		h.fds = append(h.fds, make([]*FD, sysfd+1-len(h.fds)+len(h.fds)/2)...)
	}
	h.fds[sysfd] = d
	h.nfds++
	return d, nil
}

func (h *Hub) lookup(fd int, seq uint32, hasSeq bool) *FD {
	if fd < 0 || fd >= len(h.fds) {
		return nil
	}
	d := h.fds[fd]
	if d == nil {
		return nil
	}
	if hasSeq && d.seq != seq {
		return nil
	}
	return d
}

// Sysfd returns the file descriptor number.
func (d *FD) Sysfd() int { return d.sysfd }

// Hub returns the hub the FD is registered with.
func (d *FD) Hub() *Hub { return d.h }

// Closed reports whether Close has been called.
func (d *FD) Closed() bool { return d.closed }

// ReadReady reports whether a read might find data (see FD).
func (d *FD) ReadReady() bool { return d.readReady }

// ClearReadReady records that the kernel's read buffer was found empty.
func (d *FD) ClearReadReady() { d.readReady = false }

// HungUp reports whether the poller has reported a peer hang-up or an
// error on the fd (EPOLLRDHUP, EPOLLHUP, EPOLLERR; kqueue's EV_EOF). It
// stays true. After a hang-up no further edge comes, so a short read must
// not be taken as "the buffer is empty" then: only EAGAIN may clear
// ReadReady.
func (d *FD) HungUp() bool { return d.hup }

// WriteReady reports whether a write might find buffer space (see FD).
func (d *FD) WriteReady() bool { return d.writeReady }

// ClearWriteReady records that the kernel's write buffer was found full.
func (d *FD) ClearWriteReady() { d.writeReady = false }

// WaitRead parks the calling green thread until the fd is readable, and
// returns at once if it is readable now: the level semantics of eventlet's
// trampoline, though the registration is edge-triggered. While the read
// hint is clear (the caller reported EAGAIN with ClearReadReady) it parks
// without a system call; while the hint is set it asks the kernel first
// (poll with timeout 0), clearing the hint if the fd is not readable. It
// returns nil when the fd may be read, net.ErrClosed if the FD is closed
// meanwhile, the error given to WakeRead (a deadline, a timeout), or
// ErrBusy at once if another green thread is already waiting to read.
func (d *FD) WaitRead() error { return d.wait(&d.reader, &d.readReady, false, reasonRead) }

// WaitWrite is WaitRead for writability.
func (d *FD) WaitWrite() error { return d.wait(&d.writer, &d.writeReady, true, reasonWrite) }

func (d *FD) wait(slot **G, hint *bool, write bool, what string) error {
	g, err := d.h.green()
	if err != nil {
		return err
	}
	if d.closed {
		return net.ErrClosed
	}
	if *slot != nil {
		return ErrBusy
	}
	if *hint {
		if readyNow(d.sysfd, write) {
			return nil
		}
		*hint = false
	}
	*slot = g
	d.h.fdWaiters++
	err, killed := d.h.park(g, Reason{What: what, FD: d.sysfd})
	d.h.fdWaiters--
	if *slot == g {
		*slot = nil
	}
	if killed {
		raiseKill()
	}
	if err == nil && d.closed {
		// Made ready by an event, then closed before it ran.
		err = net.ErrClosed
	}
	return err
}

// WakeRead wakes the green thread parked in WaitRead, if any, making
// WaitRead return err. Deadlines use it.
func (d *FD) WakeRead(err error) bool {
	d.h.mustCaller()
	return d.h.ready(d.reader, err)
}

// WakeWrite is WakeRead for WaitWrite.
func (d *FD) WakeWrite(err error) bool {
	d.h.mustCaller()
	return d.h.ready(d.writer, err)
}

// Close deregisters the fd, wakes its waiters with net.ErrClosed and closes
// it, in that order (a waiter never sees a reused fd number). Closing twice
// returns net.ErrClosed.
func (d *FD) Close() error {
	if _, err := d.h.caller(); err != nil {
		return err
	}
	return d.shut()
}

func (d *FD) shut() error {
	if d.closed {
		return net.ErrClosed
	}
	d.closed = true
	h := d.h
	delErr := h.poller.del(d.sysfd)
	h.fds[d.sysfd] = nil
	h.nfds--
	h.ready(d.reader, net.ErrClosed)
	h.ready(d.writer, net.ErrClosed)
	if err := closeFD(d.sysfd); err != nil {
		return fmt.Errorf("hub: close fd %d: %w", d.sysfd, err)
	}
	if delErr != nil && !ignorableDelErr(delErr) {
		return fmt.Errorf("hub: deregister fd %d: %w", d.sysfd, delErr)
	}
	return nil
}
