//go:build linux

package netio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readNonblock is read(2) on a non-blocking fd without the runtime's
// entersyscall/exitsyscall: the call cannot block, so the scheduler need
// not be told, and each message saves that bookkeeping (gnet polls the
// same way). Only for non-blocking fds: a raw call that blocked would hold
// its P.
func readNonblock(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

// writeNonblock is write(2) as readNonblock is read(2).
func writeNonblock(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}

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

// msgCmsgCloexec makes descriptors received with SCM_RIGHTS close-on-exec,
// as the stdlib's ReadMsgUnix asks for on Linux.
const msgCmsgCloexec = unix.MSG_CMSG_CLOEXEC
