//go:build linux

package greenthread_test

import "golang.org/x/sys/unix"

// haveGettid says whether gettid can tell OS threads apart here.
const haveGettid = true

// gettid returns the calling OS thread's id.
func gettid() int { return unix.Gettid() }

// pipe2 makes a non-blocking, close-on-exec pipe.
func pipe2(p []int) error { return unix.Pipe2(p, unix.O_NONBLOCK|unix.O_CLOEXEC) }
