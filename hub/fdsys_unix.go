//go:build linux || darwin || freebsd

package hub

import "golang.org/x/sys/unix"

func closeFD(fd int) error { return unix.Close(fd) }

// ignorableDelErr reports whether a deregistration error only says the fd
// was gone already.
func ignorableDelErr(err error) bool { return err == unix.ENOENT || err == unix.EBADF }

func readyNow(fd int, write bool) bool {
	ev := int16(unix.POLLIN)
	if write {
		ev = unix.POLLOUT
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: ev}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}
