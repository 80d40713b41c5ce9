package netio

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

var (
	// ErrBusy is returned (wrapped in a *net.OpError) when a second green
	// thread reads, or writes, or accepts, while another one is parked
	// doing the same on the same socket: eventlet's "second simultaneous
	// read". It is hub.ErrBusy.
	ErrBusy = hub.ErrBusy

	// errDeadlineWake is what a deadline timer wakes a parked call with;
	// the call then looks at the deadline again, so a deadline moved
	// later in the meantime is honoured.
	errDeadlineWake = errors.New("netio: deadline timer")
)

// netFD is what a Conn, a Listener and a PacketConn have in common: the
// hub's FD, the addresses and the two deadlines, each on a hub timer that
// is embedded here and armed without allocation.
type netFD struct {
	h      *hub.Hub
	pfd    *hub.FD
	sysfd  int
	family int
	sotype int
	net    string
	laddr  net.Addr
	raddr  net.Addr

	rtimer, wtimer timers.Timer
	rexp, wexp     bool // the read/write deadline has passed

	// warned is set by the first call from a goroutine that is not the
	// hub's, which logs the misuse; any goroutine may set it.
	warned atomic.Bool
}

// init registers sysfd (non-blocking already) with h. On failure sysfd is
// closed.
func (fd *netFD) init(h *hub.Hub, sysfd, family, sotype int, network string) error {
	pfd, err := h.Raw().Register(sysfd)
	if err != nil {
		sysClose(sysfd)
		return err
	}
	fd.h, fd.pfd, fd.sysfd, fd.family, fd.sotype, fd.net = h, pfd, sysfd, family, sotype, network
	fd.rtimer.F = func() {
		fd.rexp = true
		fd.pfd.WakeRead(errDeadlineWake)
	}
	fd.wtimer.F = func() {
		fd.wexp = true
		fd.pfd.WakeWrite(errDeadlineWake)
	}
	return nil
}

// green checks that the caller is one of the hub's green threads, as a
// blocking call needs. The error says what the caller is instead.
func (fd *netFD) green() error {
	if _, err := fd.h.Raw().Green(); err != nil {
		fd.misused(err)
		return err
	}
	return nil
}

// onHub checks that the caller runs on the hub's thread: a green thread or
// a hub callback, as non-blocking methods need.
func (fd *netFD) onHub() error {
	if _, err := fd.h.Raw().Caller(); err != nil {
		fd.misused(err)
		return err
	}
	return nil
}

// misused logs, once per socket, a call from a goroutine that is not the
// hub's (hub.ErrOutside): code written for the stdlib (net/http's Server,
// which serves each connection in a goroutine of its own) would otherwise
// fail silently, as net/http drops such errors. Only the error path gets
// here, so the check costs the hot path nothing.
func (fd *netFD) misused(err error) {
	if err != hub.ErrOutside || !fd.warned.CompareAndSwap(false, true) {
		return
	}
	fd.h.Raw().Logger().Warn("netio: socket used from a goroutine that is not one of its hub's green threads: "+
		"its calls fail with hub.ErrOutside. Call it from green threads, or give goroutines (net/http's "+
		"Server runs each connection in one) a net.Conn made with netio.Bridge",
		"net", fd.net, "laddr", addrString(fd.laddr), "raddr", addrString(fd.raddr))
}

func (fd *netFD) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if err == errDeadlineWake {
		err = os.ErrDeadlineExceeded
	}
	if errno, ok := err.(unix.Errno); ok {
		err = os.NewSyscallError(syscallName(op), errno)
	}
	return &net.OpError{Op: op, Net: fd.net, Source: fd.laddr, Addr: fd.raddr, Err: err}
}

func syscallName(op string) string {
	switch op {
	case "read":
		return "read"
	case "write":
		return "write"
	case "accept":
		return "accept"
	case "dial":
		return "connect"
	}
	return op
}

// waitRead parks until the fd may be readable. It reports whether to try
// the read: yes after a plain wake-up (from the poller or a waker that knows
// better), the poller's hint after a deadline timer's wake-up (the loop
// looks at the deadline first). Other errors are the caller's to return.
func (fd *netFD) waitRead() (bool, error) {
	switch err := fd.pfd.WaitRead(); err {
	case nil:
		return true, nil
	case errDeadlineWake:
		return fd.pfd.ReadReady(), nil
	default:
		return false, err
	}
}

// waitWrite is waitRead for writability.
func (fd *netFD) waitWrite() (bool, error) {
	switch err := fd.pfd.WaitWrite(); err {
	case nil:
		return true, nil
	case errDeadlineWake:
		return fd.pfd.WriteReady(), nil
	default:
		return false, err
	}
}

// setDeadline implements SetDeadline and friends. A time in the past
// makes the pending and future calls fail at once; the zero time removes
// the deadline; a new deadline replaces the old one even while a call is
// parked.
func (fd *netFD) setDeadline(t time.Time, read, write bool) error {
	if err := fd.onHub(); err != nil {
		return fd.opErr("set deadline", err)
	}
	if fd.pfd.Closed() {
		return fd.opErr("set deadline", net.ErrClosed)
	}
	var when time.Duration
	past := false
	if !t.IsZero() {
		// Saturating: a time far in the future is the end of time.
		d := time.Until(t)
		past = d <= 0
		when = fd.h.Raw().Deadline(d)
	}
	if read {
		fd.arm(&fd.rtimer, &fd.rexp, t.IsZero(), past, when)
		if past {
			fd.pfd.WakeRead(errDeadlineWake)
		}
	}
	if write {
		fd.arm(&fd.wtimer, &fd.wexp, t.IsZero(), past, when)
		if past {
			fd.pfd.WakeWrite(errDeadlineWake)
		}
	}
	return nil
}

func (fd *netFD) arm(t *timers.Timer, exp *bool, none, past bool, when time.Duration) {
	*exp = past
	if none || past {
		if t.Scheduled() {
			fd.h.Raw().CancelTimer(t)
		}
		return
	}
	fd.h.Raw().ScheduleTimer(t, when)
}

// close cancels the deadlines and closes the fd: parked calls wake with
// net.ErrClosed.
func (fd *netFD) close() error {
	if err := fd.onHub(); err != nil {
		return fd.opErr("close", err)
	}
	if fd.pfd.Closed() {
		return fd.opErr("close", net.ErrClosed)
	}
	if fd.rtimer.Scheduled() {
		fd.h.Raw().CancelTimer(&fd.rtimer)
	}
	if fd.wtimer.Scheduled() {
		fd.h.Raw().CancelTimer(&fd.wtimer)
	}
	return fd.opErr("close", fd.pfd.Close())
}

// rawConn is the syscall.RawConn of a netio socket.
type rawConn struct{ fd *netFD }

var _ syscall.RawConn = rawConn{}

// Control calls f with the file descriptor. Hub thread only.
func (c rawConn) Control(f func(uintptr)) error {
	if err := c.fd.onHub(); err != nil {
		return c.fd.opErr("raw-control", err)
	}
	if c.fd.pfd.Closed() {
		return c.fd.opErr("raw-control", net.ErrClosed)
	}
	f(uintptr(c.fd.sysfd))
	return nil
}

// Read calls f until it returns true, parking the calling green thread
// until the fd is readable between calls. Green threads only.
func (c rawConn) Read(f func(uintptr) bool) error {
	fd := c.fd
	if err := fd.green(); err != nil {
		return fd.opErr("raw-read", err)
	}
	for {
		if fd.pfd.Closed() {
			return fd.opErr("raw-read", net.ErrClosed)
		}
		if fd.rexp {
			return fd.opErr("raw-read", os.ErrDeadlineExceeded)
		}
		if f(uintptr(fd.sysfd)) {
			return nil
		}
		fd.pfd.ClearReadReady()
		if err := fd.pfd.WaitRead(); err != nil && err != errDeadlineWake {
			return fd.opErr("raw-read", err)
		}
	}
}

// Write is Read for writability.
func (c rawConn) Write(f func(uintptr) bool) error {
	fd := c.fd
	if err := fd.green(); err != nil {
		return fd.opErr("raw-write", err)
	}
	for {
		if fd.pfd.Closed() {
			return fd.opErr("raw-write", net.ErrClosed)
		}
		if fd.wexp {
			return fd.opErr("raw-write", os.ErrDeadlineExceeded)
		}
		if f(uintptr(fd.sysfd)) {
			return nil
		}
		fd.pfd.ClearWriteReady()
		if err := fd.pfd.WaitWrite(); err != nil && err != errDeadlineWake {
			return fd.opErr("raw-write", err)
		}
	}
}

// setsockopt helpers, shared by Conn, Listener and PacketConn.

func (fd *netFD) setInt(level, opt, v int, what string) error {
	if err := fd.onHub(); err != nil {
		return fd.opErr("set", err)
	}
	if fd.pfd.Closed() {
		return fd.opErr("set", net.ErrClosed)
	}
	if err := unix.SetsockoptInt(fd.sysfd, level, opt, v); err != nil {
		return fd.opErr("set", os.NewSyscallError("setsockopt "+what, err))
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
