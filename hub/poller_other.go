//go:build !linux && !darwin && !freebsd

package hub

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// poller is a stub on systems with neither epoll nor kqueue: the module
// builds, and Run returns an error wrapping errors.ErrUnsupported.
type poller struct{}

func newPoller() (pollerAPI, error) {
	return nil, fmt.Errorf("no epoll or kqueue poller on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (*poller) add(int, uint32) error               { return errors.ErrUnsupported }
func (*poller) del(int) error                       { return errors.ErrUnsupported }
func (*poller) wait(time.Duration) ([]event, error) { return nil, errors.ErrUnsupported }
func (*poller) wake() error                         { return errors.ErrUnsupported }
func (*poller) close() error                        { return nil }

var _ pollerAPI = (*poller)(nil)

func closeFD(int) error          { return errors.ErrUnsupported }
func ignorableDelErr(error) bool { return false }
func readyNow(int, bool) bool    { return false }
