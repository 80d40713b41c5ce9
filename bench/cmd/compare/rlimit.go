package main

import "syscall"

// raiseNofile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the new soft limit. Setting it explicitly (rather than relying on the Go
// runtime's own raise at start-up) makes children inherit it: the servers
// need one descriptor per idle connection too.
func raiseNofile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return uint64(lim.Cur), nil
}
