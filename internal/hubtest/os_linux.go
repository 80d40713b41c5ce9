//go:build linux

package hubtest

import "golang.org/x/sys/unix"

// HaveGettid says whether gettid can tell OS threads apart here.
const HaveGettid = true

// Gettid returns the calling OS thread's id.
func Gettid() int { return unix.Gettid() }

// pipe2 makes a non-blocking, close-on-exec pipe.
func pipe2(p []int) error { return unix.Pipe2(p, unix.O_NONBLOCK|unix.O_CLOEXEC) }
