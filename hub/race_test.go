//go:build race

package hub_test

// raceEnabled scales down the tests that hold very many coroutines at
// once: the race detector multiplies a goroutine's cost several times.
const raceEnabled = true
