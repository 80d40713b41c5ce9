package service_test

import "golang.org/x/sys/unix"

// setupReaper makes the test process the reaper of its orphaned
// descendants: the workers of a parent that dies become its children, so
// that a test sees them (as zombies until it reaps them) instead of init.
func setupReaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }
