package greensync_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run runs main in a hub with an auto-jumping virtual clock: sleeps and
// timeouts take no real time and every run is the same.
func run(t testing.TB, main func(h *hub.Hub) error) *hub.Hub {
	t.Helper()
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	if err := h.Run(func() error { return main(h) }); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return h
}

const ms = time.Millisecond
