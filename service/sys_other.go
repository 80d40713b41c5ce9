//go:build !linux

package service

import "syscall"

// sysProcAttr is nil: no Pdeathsig here; workers learn of the parent's
// death from its pipe only.
func sysProcAttr() *syscall.SysProcAttr { return nil }
