// Package loadgen is a TCP load generator for echo servers: it opens a
// number of connections, keeps a fixed number of messages in flight on each,
// checks every echoed byte, and reports throughput and round-trip latency.
//
// The model: one goroutine per connection using blocking stdlib net (a
// second, writing goroutine when more than one message is in flight), so the
// generator costs little CPU beside the server it drives on a small machine.
// A run has a warm-up phase, whose messages are echoed and checked but not
// counted, then a measured window of fixed length; a message counts when its
// echo has been read back and verified inside the window. Its round-trip
// time (from just before the write to the end of the read) goes into an HDR
// histogram with three significant digits.
//
// Message k on a connection is a window of a per-connection byte pattern
// that moves by one byte per message, so a corrupted, dropped, duplicated
// or reordered message does not compare equal. A mismatch or an I/O error
// before the window ends is counted and stops that connection; Run then
// reports ErrFailed.
//
// Run may be called from any goroutine; it blocks until the run is over and
// every connection and goroutine it started is gone.
package loadgen
