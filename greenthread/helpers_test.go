package greenthread_test

import (
	"fmt"
	"testing"

	"github.com/greenhub/greenhub/internal/hubtest"
)

// The helpers hub and greenthread tests share (internal/hubtest).
var (
	errTest = hubtest.ErrTest
	gettid  = hubtest.Gettid
)

const haveGettid = hubtest.HaveGettid

// pipe returns a non-blocking pipe whose read end the hub will own.
func pipe(t *testing.T) (r, w int) { return hubtest.Pipe(t, false) }

// noPanic runs f and returns its error; a panic becomes an error that
// wraps nothing, so a test expecting a returned error fails on it.
func noPanic(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked instead of returning an error: %v", r)
		}
	}()
	return f()
}
