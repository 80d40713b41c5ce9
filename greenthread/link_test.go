package greenthread_test

import (
	"errors"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// A linked function may kill another thread (eventlet's "when A dies,
// kill B"); a thread waiting in Wait can be interrupted out of it.
func TestKillFromLinkAndInterruptWait(t *testing.T) {
	h := hub.New()
	hubtest.MustRun(t, h, func() error {
		b := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Hour) })
		a := greenthread.Spawn(h, func() (int, error) { return 1, greenthread.Sleep(h, time.Millisecond) })
		var killErr error
		a.Link(func(*greenthread.Thread[int]) { killErr = b.Kill() })
		if _, err := a.Wait(); err != nil {
			return err
		}
		if _, err := b.Wait(); !errors.Is(err, greenthread.ErrKilled) {
			t.Errorf("b: %v", err)
		}
		if killErr != nil {
			t.Errorf("kill: %v", killErr)
		}

		c := greenthread.Spawn(h, func() (int, error) { return 0, greenthread.Sleep(h, time.Hour) })
		w := greenthread.Spawn(h, func() (int, error) { _, err := c.Wait(); return 0, err })
		greenthread.Yield(h)
		h.Raw().Interrupt(w.G(), errTest)
		if _, err := w.Wait(); !errors.Is(err, errTest) {
			t.Errorf("interrupted waiter: %v", err)
		}
		return c.Kill()
	})
}
