package netio

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is a non-blocking stream (TCP, unix) or connected datagram socket
// on a hub: a net.Conn whose blocking calls park the calling green thread
// instead of the OS thread (eventlet's GreenSocket).
//
// Read, Write and the RawConn's Read and Write block, so only the hub's
// green threads may call them; the other methods also work from hub
// callbacks (a timer may Close a Conn or move its deadline). LocalAddr and
// RemoteAddr never change and any goroutine may call them. From any other
// goroutine the methods return an error that errors.Is hub.ErrOutside,
// and the first such call on a socket logs a warning through the hub's
// logger; Bridge gives plain goroutines a net.Conn that forwards to the
// hub.
//
// One green thread may read while another writes. A second green thread
// that reads while the first is parked in Read gets an error that
// errors.Is ErrBusy (likewise for Write).
type Conn struct {
	fd netFD
}

var (
	_ net.Conn                        = (*Conn)(nil)
	_ syscall.Conn                    = (*Conn)(nil)
	_ interface{ CloseWrite() error } = (*Conn)(nil)
)

// Read reads up to len(b) bytes: what the kernel has, at least one byte,
// parking the calling green thread while there is nothing. It returns
// io.EOF when a stream peer has closed its side, an error that errors.Is
// os.ErrDeadlineExceeded (and is a net.Error with Timeout() true) when the
// read deadline passes, net.ErrClosed when the Conn is closed meanwhile,
// and whatever error a waker (greensync's Timeout, a Kill) sends, unchanged
// in errors.Is terms.
//
// The hot path is one read(2) per call: after a short read the socket is
// known to be drained, so the next Read parks at once and the poller's
// next edge makes it runnable, without an EAGAIN round trip.
func (c *Conn) Read(b []byte) (int, error) {
	fd := &c.fd
	if err := fd.green(); err != nil {
		return 0, fd.opErr("read", err)
	}
	ready := fd.pfd.ReadReady()
	for {
		if fd.pfd.Closed() {
			return 0, fd.opErr("read", net.ErrClosed)
		}
		if fd.rexp {
			return 0, fd.opErr("read", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			return 0, nil
		}
		if ready {
			if n, err := fd.readOnce(b); err != errWouldBlock {
				return n, err
			}
		}
		// Woken without error: try the read even if no edge set the hint
		// (a waker may know better than the poller).
		var err error
		if ready, err = fd.waitRead(); err != nil {
			return 0, fd.opErr("read", err)
		}
	}
}

// Write writes all of b, parking the calling green thread while the
// kernel's buffer is full (a partial write is finished, as net.Conn
// requires). It returns the count written and an error if it stopped
// early: the write deadline, Close, a reset by the peer (EPIPE,
// ECONNRESET), or a waker's error.
func (c *Conn) Write(b []byte) (int, error) { return c.write(b, true) }

// TryWrite writes as much of b as the kernel takes now and returns at once,
// never parking: a count short of len(b) with a nil error means the buffer
// is full. A server that reads into a buffer shared by its green threads
// (safe on one thread as long as no green thread parks while its data is
// in it) writes from it with TryWrite and copies only what is left before
// a blocking Write.
func (c *Conn) TryWrite(b []byte) (int, error) { return c.write(b, false) }

func (c *Conn) write(b []byte, wait bool) (int, error) {
	fd := &c.fd
	if err := fd.green(); err != nil {
		return 0, fd.opErr("write", err)
	}
	nn := 0
	ready := fd.pfd.WriteReady()
	for {
		if fd.pfd.Closed() {
			return nn, fd.opErr("write", net.ErrClosed)
		}
		if fd.wexp {
			return nn, fd.opErr("write", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			return 0, nil // as the stdlib: nothing to wait for
		}
		if ready {
			n, err := sysWrite(fd.sysfd, b[nn:])
			if n > 0 {
				nn += n
			}
			if nn == len(b) && (err == nil || nn > 0) {
				return nn, nil
			}
			switch err {
			case nil, unix.EINTR:
				continue // a short write: the next one says EAGAIN or goes on
			case unix.EAGAIN:
				fd.pfd.ClearWriteReady()
			default:
				return nn, fd.opErr("write", err)
			}
		}
		if !wait {
			return nn, nil
		}
		var err error
		if ready, err = fd.waitWrite(); err != nil {
			return nn, fd.opErr("write", err)
		}
	}
}

// readOnce is one read(2), EINTR retried, keeping the readiness hint: the
// bytes read; io.EOF at a stream's end; errWouldBlock when the socket is
// drained (the hint cleared); or the read's error. A short read on a stream
// drained the buffer too, but after a hang-up no edge would follow, so the
// hint stays set then.
func (fd *netFD) readOnce(b []byte) (int, error) {
	for {
		n, err := sysRead(fd.sysfd, b)
		switch {
		case err == nil && n > 0:
			if n < len(b) && fd.sotype == unix.SOCK_STREAM && !fd.pfd.HungUp() {
				fd.pfd.ClearReadReady()
			}
			return n, nil
		case err == nil:
			if fd.sotype == unix.SOCK_STREAM {
				return 0, io.EOF
			}
			return 0, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			fd.pfd.ClearReadReady()
			return 0, errWouldBlock
		default:
			return 0, fd.opErr("read", err)
		}
	}
}

// The helpers below are for TLSConn, which must not park inside crypto/tls
// (see tls.go): it reads and writes the socket without waiting, and waits
// for readiness itself, outside tls, between its calls into tls.

// readNow is Read that never parks: it returns errWouldBlock, at once and
// without a system call, when the readiness hint says the socket is
// drained (a short read or EAGAIN since the last edge) unless force is
// set (a waker said to try), or when the read deadline has passed, as
// the stdlib refuses a read past its deadline. The caller has checked
// that it runs on the hub's thread.
func (c *Conn) readNow(b []byte, force bool) (int, error) {
	fd := &c.fd
	if fd.pfd.Closed() {
		return 0, fd.opErr("read", net.ErrClosed)
	}
	if fd.rexp || !force && !fd.pfd.ReadReady() {
		return 0, errWouldBlock
	}
	if len(b) == 0 {
		return 0, nil
	}
	return fd.readOnce(b)
}

// waitReadable parks the calling green thread until a read may find data,
// after readNow found none. It fails with the read deadline, Close or a
// waker's error, as Read does; nil means "read now, even if the hint is
// clear".
func (c *Conn) waitReadable() error {
	fd := &c.fd
	for {
		if fd.pfd.Closed() {
			return fd.opErr("read", net.ErrClosed)
		}
		if fd.rexp {
			return fd.opErr("read", os.ErrDeadlineExceeded)
		}
		ready, err := fd.waitRead()
		if err != nil {
			return fd.opErr("read", err)
		}
		if ready {
			return nil
		}
	}
}

// writeNow writes what the kernel takes of b now and never parks, from a
// green thread or a hub callback (the caller has checked): a count short
// of len(b) with a nil error means the buffer is full. Unlike TryWrite it
// ignores the write deadline: TLSConn checks it before it hands data to
// tls, and what tls has encrypted must go out whole. force is as for
// readNow.
func (c *Conn) writeNow(b []byte, force bool) (int, error) {
	fd := &c.fd
	nn := 0
	for nn < len(b) {
		if fd.pfd.Closed() {
			return nn, fd.opErr("write", net.ErrClosed)
		}
		if !force && !fd.pfd.WriteReady() {
			return nn, nil
		}
		force = false
		n, err := sysWrite(fd.sysfd, b[nn:])
		if n > 0 {
			nn += n
		}
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			fd.pfd.ClearWriteReady()
			return nn, nil
		default:
			return nn, fd.opErr("write", err)
		}
	}
	return nn, nil
}

// waitWritable is waitReadable for writability, after writeNow found the
// buffer full.
func (c *Conn) waitWritable() error {
	fd := &c.fd
	for {
		if fd.pfd.Closed() {
			return fd.opErr("write", net.ErrClosed)
		}
		if fd.wexp {
			return fd.opErr("write", os.ErrDeadlineExceeded)
		}
		ready, err := fd.waitWrite()
		if err != nil {
			return fd.opErr("write", err)
		}
		if ready {
			return nil
		}
	}
}

// Close closes the connection. Green threads parked in Read or Write wake
// with net.ErrClosed. Closing twice returns an error that errors.Is
// net.ErrClosed. Hub thread only.
func (c *Conn) Close() error { return c.fd.close() }

// CloseRead shuts down the reading side (shutdown(2) SHUT_RD).
func (c *Conn) CloseRead() error { return c.shutdown(unix.SHUT_RD) }

// CloseWrite shuts down the writing side (SHUT_WR): the peer reads EOF
// after the data already sent. It is the half-close.
func (c *Conn) CloseWrite() error { return c.shutdown(unix.SHUT_WR) }

func (c *Conn) shutdown(how int) error {
	fd := &c.fd
	if err := fd.onHub(); err != nil {
		return fd.opErr("shutdown", err)
	}
	if fd.pfd.Closed() {
		return fd.opErr("shutdown", net.ErrClosed)
	}
	if err := unix.Shutdown(fd.sysfd, how); err != nil {
		return fd.opErr("shutdown", os.NewSyscallError("shutdown", err))
	}
	return nil
}

// LocalAddr returns the local address. Any goroutine.
func (c *Conn) LocalAddr() net.Addr { return c.fd.laddr }

// RemoteAddr returns the peer's address. Any goroutine.
func (c *Conn) RemoteAddr() net.Addr { return c.fd.raddr }

// SetDeadline sets both deadlines (see SetReadDeadline).
func (c *Conn) SetDeadline(t time.Time) error { return c.fd.setDeadline(t, true, true) }

// SetReadDeadline makes Read fail with an error that errors.Is
// os.ErrDeadlineExceeded once t has passed, measured on a hub timer. It
// takes effect on a Read already parked: a deadline moved later is
// honoured, one moved into the past wakes the reader now. The zero time
// removes the deadline. Hub thread only.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.fd.setDeadline(t, true, false) }

// SetWriteDeadline is SetReadDeadline for Write.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.fd.setDeadline(t, false, true) }

// SyscallConn returns the raw connection, for socket options the Conn
// does not offer. Its Read and Write park the calling green thread.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return rawConn{&c.fd}, nil }

// SetNoDelay turns Nagle's algorithm off (true, the default) or on.
func (c *Conn) SetNoDelay(noDelay bool) error {
	return c.fd.setInt(unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(noDelay), "TCP_NODELAY")
}

// SetKeepAlive turns TCP keep-alive probes on or off.
func (c *Conn) SetKeepAlive(on bool) error {
	return c.fd.setInt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(on), "SO_KEEPALIVE")
}

// SetKeepAlivePeriod sets the idle time before the first probe and the
// interval between probes (rounded up to whole seconds).
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	if err := c.fd.setInt(unix.IPPROTO_TCP, tcpKeepIdle, secs, "TCP_KEEPIDLE"); err != nil {
		return err
	}
	return c.fd.setInt(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs, "TCP_KEEPINTVL")
}

// SetReadBuffer sets the kernel's receive buffer size (SO_RCVBUF).
func (c *Conn) SetReadBuffer(bytes int) error {
	return c.fd.setInt(unix.SOL_SOCKET, unix.SO_RCVBUF, bytes, "SO_RCVBUF")
}

// SetWriteBuffer sets the kernel's send buffer size (SO_SNDBUF).
func (c *Conn) SetWriteBuffer(bytes int) error {
	return c.fd.setInt(unix.SOL_SOCKET, unix.SO_SNDBUF, bytes, "SO_SNDBUF")
}

// SetLinger sets SO_LINGER as net.TCPConn.SetLinger does: sec < 0 is the
// default (close returns at once, the kernel sends what is left), 0 makes
// Close reset the connection, > 0 lingers.
func (c *Conn) SetLinger(sec int) error {
	fd := &c.fd
	if err := fd.onHub(); err != nil {
		return fd.opErr("set", err)
	}
	if fd.pfd.Closed() {
		return fd.opErr("set", net.ErrClosed)
	}
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	if err := unix.SetsockoptLinger(fd.sysfd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
		return fd.opErr("set", os.NewSyscallError("setsockopt SO_LINGER", err))
	}
	return nil
}
