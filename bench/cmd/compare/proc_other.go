//go:build !linux

package main

import (
	"runtime"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// cpuTime needs /proc; elsewhere the CPU columns read "n/a".
func cpuTime(pid int) (user, sys time.Duration, err error) { return 0, 0, errUnsupported }

// rss needs /proc; elsewhere the memory columns read "n/a".
func rss(pid int) (int64, error) { return 0, errUnsupported }

// machineInfo reports what it can without /proc.
func machineInfo() (cpu, kernel string) { return "unknown", runtime.GOOS }
