//go:build !linux

package netio

// emfileChild is the child of TestEMFILE, which runs on Linux only (the
// fault-injection test covers the back-off logic everywhere).
func emfileChild() int { return 1 }
