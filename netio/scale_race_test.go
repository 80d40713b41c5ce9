//go:build race

package netio

// Test sizes under the race detector, which makes every memory access
// several times slower: the full number of clients and cycles, a quarter
// of the messages per client (the full run takes minutes under -race).
const (
	manyClients  = 1000
	manyMessages = 25
	fdCycles     = 10000
)
