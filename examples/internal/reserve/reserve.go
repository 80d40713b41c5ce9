// Package reserve holds a TCP address for the worker processes of a
// service.ProcessLauncher whose hubs each listen with SO_REUSEPORT: the
// parent binds a socket to the address with SO_REUSEPORT and never listens
// on it, so it takes no connection but keeps the port for the workers —
// the one the kernel picked for :0, and across worker restarts. The workers
// inherit it and read the address back with Addr; each of their hubs then
// opens its own SO_REUSEPORT listener there (netio.ListenConfig{ReusePort:
// true}), which only sockets of the same user with SO_REUSEPORT may join.
//
// Nothing here calls os.File.Fd, which would make a descriptor blocking.
package reserve

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Reserve binds a TCP socket to addr ("host:port"; port 0 picks a free
// one) with SO_REUSEPORT, without listening, and returns it as a file to
// hand to the workers, with the address it holds. A wildcard host ("",
// as in ":6000") holds both IPv4 and IPv6 where the system has IPv6, as
// netio's listeners do; an explicit IPv6 address holds IPv6 only.
func Reserve(addr string) (*os.File, string, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	fd, err := bind(ta)
	if err != nil {
		return nil, "", &net.OpError{Op: "reserve", Net: "tcp", Addr: ta, Err: err}
	}
	f := os.NewFile(uintptr(fd), "reserved "+addr)
	got, err := Addr(f, addr)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, got, nil
}

func bind(ta *net.TCPAddr) (int, error) {
	ip4 := ta.IP.To4()
	family := unix.AF_INET6
	var sa unix.Sockaddr
	switch {
	case ip4 != nil:
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: ta.Port, Addr: [4]byte(ip4)}
	case ta.IP != nil:
		sa = &unix.SockaddrInet6{Port: ta.Port, Addr: [16]byte(ta.IP.To16())}
	default:
		sa = &unix.SockaddrInet6{Port: ta.Port}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil && ta.IP == nil && errors.Is(err, unix.EAFNOSUPPORT) {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port}
		fd, err = unix.Socket(family, unix.SOCK_STREAM, 0)
	}
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd) // the launcher hands it to its workers explicitly
	fail := func(call string, err error) (int, error) {
		unix.Close(fd)
		return -1, os.NewSyscallError(call, err)
	}
	if family == unix.AF_INET6 {
		v6only := 0
		if ta.IP != nil {
			v6only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return fail("setsockopt IPV6_V6ONLY", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail("setsockopt SO_REUSEPORT", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	return fd, nil
}

// Addr returns the address to listen on for the socket f holds (made by
// Reserve from addr, perhaps in the parent): f's address, or with a
// wildcard host in addr (":6000") the wildcard with f's port, so that a
// dual-stack reservation gets dual-stack listeners.
func Addr(f *os.File, addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	var sa unix.Sockaddr
	var serr error
	if err := rc.Control(func(fd uintptr) { sa, serr = unix.Getsockname(int(fd)) }); err != nil {
		return "", err
	}
	if serr != nil {
		return "", os.NewSyscallError("getsockname", serr)
	}
	var ip net.IP
	var port int
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ip, port = sa.Addr[:], sa.Port
	case *unix.SockaddrInet6:
		ip, port = sa.Addr[:], sa.Port
	default:
		return "", fmt.Errorf("reserve: %s is not a TCP socket", f.Name())
	}
	if host != "" {
		host = ip.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}
