package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Phase names a moment of a run reported to Config.OnPhase.
type Phase int

const (
	// MeasureStart: the warm-up is over and the measured window begins.
	MeasureStart Phase = iota
	// MeasureEnd: the measured window is over.
	MeasureEnd
)

func (p Phase) String() string {
	switch p {
	case MeasureStart:
		return "start"
	case MeasureEnd:
		return "end"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// MaxSize is the largest message size a Config accepts.
const MaxSize = 1 << 20

// Config describes one run. The zero value is not valid; start from Default.
type Config struct {
	// Addr is the echo server's TCP address, host:port.
	Addr string
	// Conns is the number of connections, all opened before the warm-up.
	Conns int
	// Size is the message size in bytes.
	Size int
	// Inflight is the number of messages in flight per connection;
	// 1 is request/response.
	Inflight int
	// Warmup runs before the measured window; its messages are checked but
	// not counted.
	Warmup time.Duration
	// Duration is the length of the measured window.
	Duration time.Duration
	// DialTimeout bounds the opening of each connection.
	DialTimeout time.Duration
	// DialConcurrency is how many connections are being opened at once, so
	// a server with a short listen backlog is not flooded with SYNs.
	DialConcurrency int
	// OnPhase, if not nil, is called from Run's goroutine when the measured
	// window starts and ends (for example to sample the server's CPU time).
	OnPhase func(Phase)
}

// Default returns the default configuration: 100 connections of 64-byte
// request/response messages, 1 s of warm-up and 5 s measured. Addr is empty.
func Default() Config {
	return Config{
		Conns:           100,
		Size:            64,
		Inflight:        1,
		Warmup:          time.Second,
		Duration:        5 * time.Second,
		DialTimeout:     5 * time.Second,
		DialConcurrency: 64,
	}
}

// RegisterFlags defines command-line flags on fs that set c's fields; the
// flags' defaults are c's current values.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "echo server `host:port`")
	fs.IntVar(&c.Conns, "conns", c.Conns, "number of connections")
	fs.IntVar(&c.Size, "size", c.Size, "message size in `bytes`")
	fs.IntVar(&c.Inflight, "inflight", c.Inflight, "messages in flight per connection (1 = request/response)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "warm-up before the measured window")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "length of the measured window")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", c.DialTimeout, "timeout for opening each connection")
	fs.IntVar(&c.DialConcurrency, "dial-concurrency", c.DialConcurrency, "connections opened at once")
}

// ErrConfig is wrapped by the errors Validate returns.
var ErrConfig = errors.New("loadgen: invalid configuration")

// Validate reports the first field of c that is out of range.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	switch {
	case c.Addr == "":
		return bad("no address")
	case c.Conns < 1:
		return bad("conns %d < 1", c.Conns)
	case c.Size < 1 || c.Size > MaxSize:
		return bad("size %d not in [1, %d]", c.Size, MaxSize)
	case c.Inflight < 1:
		return bad("inflight %d < 1", c.Inflight)
	case c.Warmup < 0:
		return bad("negative warm-up %v", c.Warmup)
	case c.Duration <= 0:
		return bad("duration %v <= 0", c.Duration)
	case c.DialTimeout <= 0:
		return bad("dial timeout %v <= 0", c.DialTimeout)
	case c.DialConcurrency < 1:
		return bad("dial concurrency %d < 1", c.DialConcurrency)
	}
	return nil
}
