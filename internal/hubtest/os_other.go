//go:build !linux

package hubtest

import "golang.org/x/sys/unix"

// HaveGettid is false: x/sys/unix has no gettid here, so the one-thread
// tests are Linux's.
const HaveGettid = false

// Gettid is 0 where HaveGettid is false.
func Gettid() int { return 0 }

// pipe2 makes a non-blocking, close-on-exec pipe (no pipe2(2) on darwin).
func pipe2(p []int) error {
	if err := unix.Pipe(p); err != nil {
		return err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return err
		}
	}
	return nil
}
