//go:build !race

package greenthread_test

const raceEnabled = false
