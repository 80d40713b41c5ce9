package netio

import (
	"context"
	"net"
	"os"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// Dialer holds the options for Dial; the zero value is the default.
type Dialer struct {
	// Timeout bounds the whole dial (name lookup and connect) on a hub
	// timer; 0 means no limit beyond the context's and the system's.
	Timeout time.Duration
	// LocalAddr is the address to bind before connecting (a *net.TCPAddr,
	// *net.UDPAddr or *net.UnixAddr); nil lets the system choose.
	LocalAddr net.Addr
	// KeepAlive > 0 turns TCP keep-alive probes on with that period.
	KeepAlive time.Duration
	// Delay leaves Nagle's algorithm on; by default TCP_NODELAY is set.
	Delay bool
}

// Dial connects to address on network ("tcp", "tcp4", "tcp6", "udp",
// "udp4", "udp6", "unix", "unixgram") from a green thread of h: eventlet's
// connect. The connect is non-blocking: the green thread parks until the
// kernel reports the outcome (EINPROGRESS, then SO_ERROR).
func Dial(h *hub.Hub, network, address string) (*Conn, error) {
	var d Dialer
	return d.DialContext(context.Background(), h, network, address)
}

// DialContext is Dial with a context: cancelling ctx, or its deadline
// passing, stops the dial, which then returns an error that errors.Is
// ctx.Err(). Only the dial is bound by ctx, not the Conn.
func DialContext(ctx context.Context, h *hub.Hub, network, address string) (*Conn, error) {
	var d Dialer
	return d.DialContext(ctx, h, network, address)
}

// Dial is the package-level Dial with d's options.
func (d *Dialer) Dial(h *hub.Hub, network, address string) (*Conn, error) {
	return d.DialContext(context.Background(), h, network, address)
}

// DialContext is the package-level DialContext with d's options. The
// caller must be one of h's green threads.
func (d *Dialer) DialContext(ctx context.Context, h *hub.Hub, network, address string) (c *Conn, err error) {
	// The error names what the stdlib's does: the local address asked
	// for, and the remote one once it is resolved.
	var raddr net.Addr
	laddr := d.LocalAddr
	if isNilAddr(laddr) {
		laddr = nil
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Source: laddr, Addr: raddr, Err: err}
	}
	g, err := h.Raw().Green()
	if err != nil {
		return nil, opErr(err)
	}
	k, err := parseNetwork(network)
	if err != nil {
		return nil, opErr(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}
	// While dialing is true, a cancellation or the timeout interrupts
	// whatever the green thread is parked on (the lookup, the connect).
	// An interrupt that arrives after the last park (the green thread was
	// already runnable) is withdrawn on the way out, so that it cannot
	// hit a later, unrelated park.
	dialing := true
	var sent error
	defer func() {
		dialing = false
		if sent != nil {
			h.Raw().ClearInterrupt(g, sent)
		}
	}()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			h.Submit(func() {
				if dialing {
					sent = ctx.Err()
					h.Raw().Interrupt(g, sent)
				}
			})
		})
		defer stop()
	}
	if d.Timeout > 0 {
		t := h.Raw().AfterFunc(d.Timeout, func() {
			if dialing {
				sent = os.ErrDeadlineExceeded
				h.Raw().Interrupt(g, sent)
			}
		})
		defer h.Raw().CancelTimer(t)
	}
	ep, err := resolve(h, k, network, address)
	if err != nil {
		return nil, opErr(err)
	}
	if k.family != unix.AF_UNIX && ep.ip == nil {
		// Dialing the wildcard means the local system, as in the stdlib.
		if k.family == unix.AF_INET6 {
			ep.ip = net.IPv6loopback
		} else {
			ep.ip = net.IPv4(127, 0, 0, 1)
		}
	}
	family := pickFamily(k, ep)
	sa, err := ep.sockaddr(family)
	if err != nil {
		return nil, opErr(err)
	}
	raddr = toAddr(k.sotype, sa)
	c, err = d.connect(h, family, k, network, sa)
	if err != nil {
		return nil, opErr(err)
	}
	return c, nil
}

func (d *Dialer) connect(h *hub.Hub, family int, k kind, network string, sa unix.Sockaddr) (*Conn, error) {
	sysfd, err := sysSocket(family, k.sotype, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Every way out but success closes the socket: an error, and a kill
	// that unwinds the green thread from its park in waitConnect.
	var c *Conn // set once the hub owns the socket
	ok := false
	defer func() {
		switch {
		case ok:
		case c != nil:
			c.fd.pfd.Close()
		case sysfd >= 0:
			sysClose(sysfd)
		}
	}()
	if family == unix.AF_INET6 {
		unix.SetsockoptInt(sysfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if k.sotype == unix.SOCK_DGRAM && family != unix.AF_UNIX {
		unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	}
	if d.LocalAddr != nil {
		// A typed nil (*net.TCPAddr)(nil) gives no sockaddr: no bind,
		// as in the stdlib.
		lsa, err := addrSockaddr(family, d.LocalAddr)
		if err == nil && lsa != nil {
			err = unix.Bind(sysfd, lsa)
		}
		if err != nil {
			return nil, os.NewSyscallError("bind", err)
		}
	}
	inProgress := false
	for {
		err = sysConnect(sysfd, sa)
		if err == unix.EINTR {
			continue
		}
		break
	}
	switch err {
	case nil, unix.EISCONN:
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		inProgress = true
	default:
		return nil, os.NewSyscallError("connect", err)
	}
	// Registered after connect(2): a socket that has never connected
	// reports a hang-up, which would stick to the FD (see hub.FD.HungUp).
	nc := &Conn{}
	if err := nc.fd.init(h, sysfd, family, k.sotype, network); err != nil {
		sysfd = -1 // init closed it
		return nil, err
	}
	c = nc
	if inProgress {
		if err := c.waitConnect(); err != nil {
			return nil, err
		}
	}
	if lsa, err := unix.Getsockname(sysfd); err == nil {
		c.fd.laddr = toAddr(k.sotype, lsa)
	}
	if rsa, err := unix.Getpeername(sysfd); err == nil {
		c.fd.raddr = toAddr(k.sotype, rsa)
	} else {
		c.fd.raddr = toAddr(k.sotype, sa)
	}
	if family != unix.AF_UNIX && k.sotype == unix.SOCK_STREAM {
		if !d.Delay {
			unix.SetsockoptInt(sysfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		if d.KeepAlive > 0 {
			c.SetKeepAlive(true)
			c.SetKeepAlivePeriod(d.KeepAlive)
		}
	}
	ok = true
	return c, nil
}

// waitConnect parks until the non-blocking connect has an outcome.
func (c *Conn) waitConnect() error {
	fd := &c.fd
	for {
		fd.pfd.ClearWriteReady()
		if err := fd.pfd.WaitWrite(); err != nil {
			return err
		}
		soerr, err := unix.GetsockoptInt(fd.sysfd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return os.NewSyscallError("getsockopt", err)
		}
		switch e := unix.Errno(soerr); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			continue
		case unix.EISCONN:
			return nil
		case 0:
			// The poller may wake us spuriously (as the Go runtime notes,
			// issues 14548 and 19289): check that we are connected.
			if _, err := unix.Getpeername(fd.sysfd); err == nil {
				return nil
			}
		default:
			return os.NewSyscallError("connect", e)
		}
	}
}
