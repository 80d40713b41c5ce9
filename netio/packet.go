package netio

import (
	"net"
	"os"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// PacketConn is a non-blocking datagram socket on a hub: a net.PacketConn
// (UDP) whose ReadFrom and WriteTo park the calling green thread. The same
// rules as for Conn say which goroutine may call what.
type PacketConn struct {
	fd netFD
}

var _ net.PacketConn = (*PacketConn)(nil)

// ListenPacket opens a datagram socket bound to address on network "udp",
// "udp4", "udp6" or "unixgram". The caller must be one of h's green
// threads (or a hub callback, if address needs no lookup).
func ListenPacket(h *hub.Hub, network, address string) (*PacketConn, error) {
	var lc ListenConfig
	return lc.ListenPacket(h, network, address)
}

// ListenPacket is the package-level ListenPacket with lc's options.
func (lc *ListenConfig) ListenPacket(h *hub.Hub, network, address string) (*PacketConn, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	sysfd, family, k, _, err := lc.bind(h, network, address, false)
	if err != nil {
		return nil, opErr(err)
	}
	p := &PacketConn{}
	if err := p.fd.init(h, sysfd, family, k.sotype, network); err != nil {
		return nil, opErr(err)
	}
	if lsa, err := unix.Getsockname(sysfd); err == nil {
		p.fd.laddr = toAddr(k.sotype, lsa)
	}
	return p, nil
}

// ReadFrom reads one datagram into b and returns its length and sender;
// a datagram longer than b is truncated, silently as in the stdlib
// (ReadMsgUDP reports it). It parks the calling green thread
// until one arrives, with the same errors as Conn.Read.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	fd := &p.fd
	if err := fd.green(); err != nil {
		return 0, nil, fd.opErr("read", err)
	}
	ready := fd.pfd.ReadReady()
	for {
		if fd.pfd.Closed() {
			return 0, nil, fd.opErr("read", net.ErrClosed)
		}
		if fd.rexp {
			return 0, nil, fd.opErr("read", os.ErrDeadlineExceeded)
		}
		if ready {
			n, sa, err := sysRecvfrom(fd.sysfd, b, 0)
			switch err {
			case nil:
				return n, toAddr(fd.sotype, sa), nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				fd.pfd.ClearReadReady()
			default:
				return 0, nil, fd.opErr("read", err)
			}
		}
		var err error
		if ready, err = fd.waitRead(); err != nil {
			return 0, nil, fd.opErr("read", err)
		}
	}
}

// WriteTo sends b as one datagram to addr (a *net.UDPAddr, or a
// *net.UnixAddr for unixgram), parking while the socket's buffer is full.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	fd := &p.fd
	if err := fd.green(); err != nil {
		return 0, fd.opErr("write", err)
	}
	sa, err := addrSockaddr(fd.family, addr)
	if err == nil && sa == nil {
		err = errMissingAddress // nil, or a typed nil such as (*net.UDPAddr)(nil)
	}
	if err != nil {
		return 0, fd.opErr("write", err)
	}
	ready := fd.pfd.WriteReady()
	for {
		if fd.pfd.Closed() {
			return 0, fd.opErr("write", net.ErrClosed)
		}
		if fd.wexp {
			return 0, fd.opErr("write", os.ErrDeadlineExceeded)
		}
		if ready {
			err := sysSendto(fd.sysfd, b, 0, sa)
			switch err {
			case nil:
				return len(b), nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				fd.pfd.ClearWriteReady()
			default:
				return 0, fd.opErr("write", err)
			}
		}
		if ready, err = fd.waitWrite(); err != nil {
			return 0, fd.opErr("write", err)
		}
	}
}

var errMissingAddress = &net.AddrError{Err: "missing address"}

// Close closes the socket; parked calls wake with net.ErrClosed.
func (p *PacketConn) Close() error { return p.fd.close() }

// LocalAddr returns the bound address. Any goroutine.
func (p *PacketConn) LocalAddr() net.Addr { return p.fd.laddr }

// SetDeadline sets both deadlines (see Conn.SetReadDeadline).
func (p *PacketConn) SetDeadline(t time.Time) error { return p.fd.setDeadline(t, true, true) }

// SetReadDeadline sets the deadline for ReadFrom.
func (p *PacketConn) SetReadDeadline(t time.Time) error { return p.fd.setDeadline(t, true, false) }

// SetWriteDeadline sets the deadline for WriteTo.
func (p *PacketConn) SetWriteDeadline(t time.Time) error { return p.fd.setDeadline(t, false, true) }

// SetReadBuffer sets SO_RCVBUF.
func (p *PacketConn) SetReadBuffer(bytes int) error {
	return p.fd.setInt(unix.SOL_SOCKET, unix.SO_RCVBUF, bytes, "SO_RCVBUF")
}

// SetWriteBuffer sets SO_SNDBUF.
func (p *PacketConn) SetWriteBuffer(bytes int) error {
	return p.fd.setInt(unix.SOL_SOCKET, unix.SO_SNDBUF, bytes, "SO_SNDBUF")
}

// SyscallConn returns the raw socket.
func (p *PacketConn) SyscallConn() (syscall.RawConn, error) { return rawConn{&p.fd}, nil }
