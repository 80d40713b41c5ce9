//go:build !race

package netio

// Test sizes: the full figures of issue 4.
const (
	manyClients  = 1000
	manyMessages = 100
	fdCycles     = 10000
)
