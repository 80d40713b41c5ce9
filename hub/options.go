package hub

import (
	"log/slog"
	"time"

	"github.com/greenhub/greenhub/timers"
)

// Option configures a Hub. Options are made by the functions below.
type Option interface {
	apply(*Hub)
}

type optionFunc func(*Hub)

func (f optionFunc) apply(h *Hub) { f(h) }

// WithClock makes the hub keep time with c instead of the real monotonic
// clock. A *timers.Virtual makes time a test's to control.
func WithClock(c timers.Clock) Option {
	return optionFunc(func(h *Hub) { h.clock = c })
}

// WithTracer installs t to receive the hub's scheduling events. Without a
// tracer each event costs one nil check.
func WithTracer(t Tracer) Option {
	return optionFunc(func(h *Hub) { h.tracer = t })
}

// WithLogger sends the hub's own log records (recovered callback panics,
// watchdog reports) to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(h *Hub) { h.logger = l })
}

// WithWatchdog reports, through the hub's logger, a green thread (or hub
// callback) that holds the hub for longer than threshold without switching,
// with its name and stack — eventlet's hub_blocking_detection, gevent's
// monitor thread. A threshold <= 0 means 100ms.
func WithWatchdog(threshold time.Duration) Option {
	if threshold <= 0 {
		threshold = 100 * time.Millisecond
	}
	return optionFunc(func(h *Hub) { h.watchdog = &watchdog{threshold: threshold} })
}

// WaitForAll makes Run return only when every green thread has ended, not
// as soon as main returns.
func WaitForAll() Option {
	return optionFunc(func(h *Hub) { h.waitAll = true })
}

// WithOffloadWorkers bounds the goroutines that run Offload calls (default
// 16).
func WithOffloadWorkers(n int) Option {
	return optionFunc(func(h *Hub) { h.offload.max = max(n, 1) })
}

// WithCoroutinePool sets how many coroutines of ended green threads the hub
// keeps for reuse (default 256; 0 disables reuse).
func WithCoroutinePool(n int) Option {
	return optionFunc(func(h *Hub) { h.pool.max = max(n, 0) })
}

// WithPanicHandler makes f the hub's one failure policy: it receives every
// failure nobody else can observe — a green thread that returned an error
// or panicked with nobody waiting for it or linked to it, a panicking timer
// function, submitted function or exit hook (g is then the hub loop). err
// is the error, or a *PanicError carrying the stack. f runs on the hub's
// thread and must not block. The default logs a slog Error through the
// hub's logger, with the stack, as eventlet and gevent print the traceback.
func WithPanicHandler(f func(g *G, err error)) Option {
	return optionFunc(func(h *Hub) { h.onFailure = f })
}
