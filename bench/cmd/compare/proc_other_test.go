//go:build !linux

package main

// procHelper is the Linux tests' helper process; there is none here.
func procHelper() bool { return false }
