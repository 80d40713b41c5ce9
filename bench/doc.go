// Package bench holds greenhub's benchmarks, each next to the baseline it
// is to be compared with in the same run (raw iter.Pull switches,
// container/heap, goroutines and channels, blocking stdlib net), and, under
// cmd/, the load generator, the side-by-side comparison of echo servers and
// the executor study (its library is bench/study).
//
// Run the micro-benchmarks with
//
//	go test -run='^$' -bench=. -benchmem ./bench
//
// and read each greenhub figure as a ratio to its raw baseline: absolute
// times on shared machines are noise.
package bench
