//go:build linux

package netio

import "golang.org/x/sys/unix"

var (
	// sysAccept accepts with accept4(2), so the new fd is non-blocking
	// and close-on-exec without two more system calls.
	sysAccept = func(fd int) (int, unix.Sockaddr, error) {
		return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	}
	sysSocket = func(family, sotype, proto int) (int, error) {
		return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	}
)

// tcpKeepIdle is the option that sets the idle time before keep-alive
// probes start.
const tcpKeepIdle = unix.TCP_KEEPIDLE

// transientAccept reports errors accept(2) returns for a connection that
// died in the queue, or network errors Linux passes through (accept(2),
// "Error handling"): the listener is fine, skip and accept the next one.
func transientAccept(err error) bool {
	switch err {
	case unix.EINTR, unix.ECONNABORTED, unix.EPROTO, unix.ENETDOWN, unix.ENOPROTOOPT,
		unix.EHOSTDOWN, unix.ENONET, unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH,
		unix.ECONNRESET, unix.EPERM:
		return true
	}
	return false
}
