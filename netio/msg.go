package netio

import (
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReadMsgUDP reads one datagram into b and its ancillary data into oob, as
// *net.UDPConn's ReadMsgUDP does: it returns the bytes copied into b and
// oob, the flags recvmsg(2) set on the message — MSG_TRUNC
// (syscall.MSG_TRUNC) when the datagram was longer than b and was
// truncated, which ReadFrom does not tell — and the sender. It parks the
// calling green thread as ReadFrom does, with the same errors.
func (p *PacketConn) ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	return p.fd.readMsgUDP(b, oob)
}

// ReadMsgUDPAddrPort is ReadMsgUDP returning the sender as a
// netip.AddrPort, as *net.UDPConn's ReadMsgUDPAddrPort does.
func (p *PacketConn) ReadMsgUDPAddrPort(b, oob []byte) (n, oobn, flags int, addr netip.AddrPort, err error) {
	return p.fd.readMsgInet(b, oob)
}

// ReadMsgUnix is ReadMsgUDP for a unixgram socket, as *net.UnixConn's
// ReadMsgUnix: oob may receive descriptors (SCM_RIGHTS), close-on-exec on
// Linux; addr is nil if the sender is not bound to a name.
func (p *PacketConn) ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error) {
	return p.fd.readMsgUnix(b, oob)
}

// ReadMsgUDP is PacketConn.ReadMsgUDP for a connected UDP socket (Dial
// "udp").
func (c *Conn) ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	return c.fd.readMsgUDP(b, oob)
}

// ReadMsgUDPAddrPort is PacketConn.ReadMsgUDPAddrPort for a connected UDP
// socket.
func (c *Conn) ReadMsgUDPAddrPort(b, oob []byte) (n, oobn, flags int, addr netip.AddrPort, err error) {
	return c.fd.readMsgInet(b, oob)
}

// ReadMsgUnix is PacketConn.ReadMsgUnix for a unix socket, stream or
// datagram: on a stream, it returns io.EOF when the peer has closed its
// side, as Read does.
func (c *Conn) ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error) {
	return c.fd.readMsgUnix(b, oob)
}

func (fd *netFD) readMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	n, oobn, flags, ap, err := fd.readMsgInet(b, oob)
	if ap.IsValid() {
		addr = net.UDPAddrFromAddrPort(ap)
	}
	return n, oobn, flags, addr, err
}

func (fd *netFD) readMsgInet(b, oob []byte) (n, oobn, flags int, addr netip.AddrPort, err error) {
	n, oobn, flags, sa, err := fd.readMsg(b, oob, 0)
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).WithZone(zoneName(sa.ZoneId)), uint16(sa.Port))
	}
	return n, oobn, flags, addr, err
}

func (fd *netFD) readMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error) {
	rflags := 0
	if len(oob) > 0 {
		rflags = msgCmsgCloexec
	}
	n, oobn, flags, sa, err := fd.readMsg(b, oob, rflags)
	if sa, ok := sa.(*unix.SockaddrUnix); ok && sa.Name != "" {
		addr = toAddr(fd.sotype, sa).(*net.UnixAddr)
	}
	return n, oobn, flags, addr, err
}

// readMsg is recvmsg(2) in ReadFrom's loop: it parks until a message
// comes.
func (fd *netFD) readMsg(b, oob []byte, rflags int) (n, oobn, flags int, sa unix.Sockaddr, err error) {
	if err := fd.green(); err != nil {
		return 0, 0, 0, nil, fd.opErr("read", err)
	}
	ready := fd.pfd.ReadReady()
	for {
		if fd.pfd.Closed() {
			return 0, 0, 0, nil, fd.opErr("read", net.ErrClosed)
		}
		if fd.rexp {
			return 0, 0, 0, nil, fd.opErr("read", os.ErrDeadlineExceeded)
		}
		if ready {
			n, oobn, flags, sa, err = sysRecvmsg(fd.sysfd, b, oob, rflags)
			switch err {
			case nil:
				if n == 0 && oobn == 0 && fd.sotype == unix.SOCK_STREAM && len(b) > 0 {
					return 0, 0, flags, sa, io.EOF
				}
				return n, oobn, flags, sa, nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				fd.pfd.ClearReadReady()
			default:
				return 0, 0, 0, nil, fd.opErr("read", os.NewSyscallError("recvmsg", err))
			}
		}
		if ready, err = fd.waitRead(); err != nil {
			return 0, 0, 0, nil, fd.opErr("read", err)
		}
	}
}

// zoneName is the name of the interface with index id, or the number if
// there is none; "" for 0.
func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(id))
}
