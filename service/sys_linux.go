package service

import "syscall"

// sysProcAttr makes the kernel send SIGKILL to a worker when the thread
// that started it ends: with the forker locked to its thread, when the
// parent dies. The pipe does the same on every system, a little later.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
