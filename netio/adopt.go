package netio

import (
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// Adopting sockets made elsewhere — by a parent process that hands them to
// workers, by the stdlib — works on a duplicate of the descriptor: the
// original stays the caller's (close it when it is no longer needed), the
// duplicate is made non-blocking and close-on-exec and belongs to the hub.

var errNotSocket = errors.New("netio: not a socket")

// FileListener returns a Listener on a duplicate of f's descriptor, which
// must be a listening TCP or unix stream socket. Hub thread only.
func FileListener(h *hub.Hub, f *os.File) (*Listener, error) {
	return adoptListener(h, f)
}

// AdoptListener returns a Listener on a duplicate of l's descriptor; l is
// a *net.TCPListener or *net.UnixListener (anything with SyscallConn).
// Hub thread only.
func AdoptListener(h *hub.Hub, l net.Listener) (*Listener, error) {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, &net.OpError{Op: "adopt", Net: l.Addr().Network(), Err: errNotSocket}
	}
	return adoptListener(h, sc)
}

// FileConn returns a Conn on a duplicate of f's descriptor, a connected
// stream or datagram socket. Hub thread only.
func FileConn(h *hub.Hub, f *os.File) (*Conn, error) { return adoptConn(h, f) }

// AdoptConn returns a Conn on a duplicate of c's descriptor (a *net.TCPConn,
// *net.UnixConn, *net.UDPConn). Hub thread only.
func AdoptConn(h *hub.Hub, c net.Conn) (*Conn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, &net.OpError{Op: "adopt", Err: errNotSocket}
	}
	return adoptConn(h, sc)
}

func adoptListener(h *hub.Hub, sc syscall.Conn) (*Listener, error) {
	sysfd, family, sotype, network, err := dupSocket(h, sc)
	if err != nil {
		return nil, &net.OpError{Op: "adopt", Err: err}
	}
	if sotype != unix.SOCK_STREAM {
		sysClose(sysfd)
		return nil, &net.OpError{Op: "adopt", Net: network, Err: errNotSocket}
	}
	l := &Listener{}
	if err := l.init(h, sysfd, family, sotype, network); err != nil {
		return nil, &net.OpError{Op: "adopt", Net: network, Err: err}
	}
	return l, nil
}

func adoptConn(h *hub.Hub, sc syscall.Conn) (*Conn, error) {
	sysfd, family, sotype, network, err := dupSocket(h, sc)
	if err != nil {
		return nil, &net.OpError{Op: "adopt", Err: err}
	}
	c := &Conn{}
	if err := c.fd.init(h, sysfd, family, sotype, network); err != nil {
		return nil, &net.OpError{Op: "adopt", Net: network, Err: err}
	}
	if sa, err := unix.Getsockname(sysfd); err == nil {
		c.fd.laddr = toAddr(sotype, sa)
	}
	if sa, err := unix.Getpeername(sysfd); err == nil {
		c.fd.raddr = toAddr(sotype, sa)
	}
	return c, nil
}

// dupSocket duplicates sc's descriptor (close-on-exec), makes the
// duplicate non-blocking and finds its family and type.
func dupSocket(h *hub.Hub, sc syscall.Conn) (sysfd, family, sotype int, network string, err error) {
	if err := onHubOf(h); err != nil {
		return -1, 0, 0, "", err
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, 0, 0, "", err
	}
	sysfd = -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		sysfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, 0, 0, "", err
	}
	if derr != nil {
		return -1, 0, 0, "", os.NewSyscallError("dup", derr)
	}
	fail := func(err error) (int, int, int, string, error) {
		sysClose(sysfd)
		return -1, 0, 0, "", err
	}
	if err := unix.SetNonblock(sysfd, true); err != nil {
		return fail(os.NewSyscallError("setnonblock", err))
	}
	sotype, err = unix.GetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fail(errNotSocket)
	}
	sa, err := unix.Getsockname(sysfd)
	if err != nil {
		return fail(os.NewSyscallError("getsockname", err))
	}
	switch sa.(type) {
	case *unix.SockaddrInet4:
		family = unix.AF_INET
	case *unix.SockaddrInet6:
		family = unix.AF_INET6
	case *unix.SockaddrUnix:
		family = unix.AF_UNIX
	default:
		return fail(errNotSocket)
	}
	switch {
	case family == unix.AF_UNIX && sotype == unix.SOCK_STREAM:
		network = "unix"
	case family == unix.AF_UNIX:
		network = "unixgram"
	case sotype == unix.SOCK_STREAM:
		network = "tcp"
	default:
		network = "udp"
	}
	return sysfd, family, sotype, network, nil
}
