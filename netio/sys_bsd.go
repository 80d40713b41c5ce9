//go:build darwin || freebsd

package netio

import "golang.org/x/sys/unix"

var (
	// readNonblock and writeNonblock are plain read(2) and write(2) here;
	// Linux skips the scheduler's bookkeeping (sys_linux.go).
	readNonblock  = unix.Read
	writeNonblock = unix.Write

	// sysAccept accepts and makes the new fd non-blocking and
	// close-on-exec (darwin has no accept4).
	sysAccept = func(fd int) (int, unix.Sockaddr, error) {
		nfd, sa, err := unix.Accept(fd)
		if err != nil {
			return -1, nil, err
		}
		if err := prepareFD(nfd); err != nil {
			unix.Close(nfd)
			return -1, nil, err
		}
		return nfd, sa, nil
	}
	sysSocket = func(family, sotype, proto int) (int, error) {
		fd, err := unix.Socket(family, sotype, proto)
		if err != nil {
			return -1, err
		}
		if err := prepareFD(fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
)

func prepareFD(fd int) error {
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	// SIGPIPE needs no option: the Go runtime turns it into EPIPE for
	// every fd but 1 and 2.
	return nil
}

// transientAccept reports errors that concern one queued connection, not
// the listener: skip it and accept the next one.
func transientAccept(err error) bool {
	switch err {
	case unix.EINTR, unix.ECONNABORTED, unix.EPROTO, unix.ECONNRESET:
		return true
	}
	return false
}

// msgCmsgCloexec is 0 here: the stdlib's ReadMsgUnix sets no flag either.
const msgCmsgCloexec = 0
