//go:build !linux

package service_test

// setupReaper does nothing: the process tests are Linux's (they read /proc).
func setupReaper() {}
