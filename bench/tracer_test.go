package bench

import (
	"io"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timeline"
)

// BenchmarkTracer: the yield ping-pong of BenchmarkYieldPingPong (one op
// is one hand-off from one green thread to the other) with no tracer
// (off), a tracer that does nothing (nop: the cost of the hooks' calls),
// Runtime while the execution tracer is off (runtime-idle), and Chrome
// writing to io.Discard (chrome: the whole cost of a trace, four or five events
// per hand-off), next to the raw iter.Pull round trip (raw-pull) of the
// same run. Read off/raw-pull for the hub's own cost, nop/off and
// runtime-idle/off for what an idle tracer costs, chrome/off for tracing.
func BenchmarkTracer(b *testing.B) {
	b.Run("raw-pull", BenchmarkRawPullRoundTrip)
	for _, tc := range []struct {
		name   string
		tracer func() (hub.Tracer, func() error)
	}{
		{"off", func() (hub.Tracer, func() error) { return nil, nil }},
		{"nop", func() (hub.Tracer, func() error) { return hub.NopTracer{}, nil }},
		{"runtime-idle", func() (hub.Tracer, func() error) { return timeline.NewRuntime(), nil }},
		{"chrome", func() (hub.Tracer, func() error) {
			c := timeline.NewChrome(io.Discard)
			return c, c.Close
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			t, closeTracer := tc.tracer()
			var opts []hub.Option
			if t != nil {
				opts = append(opts, hub.WithTracer(t))
			}
			run(b, func(h *hub.Hub) error { return yieldPingPong(b, h) }, opts...)
			if closeTracer != nil {
				if err := closeTracer(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
