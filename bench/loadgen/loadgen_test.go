package loadgen

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is an in-test TCP server that runs handle on each connection.
type server struct {
	ln net.Listener
	wg sync.WaitGroup
	mu sync.Mutex
	cs []net.Conn
}

// startServer listens on a free loopback port and serves each connection
// with handle until the test ends; cleanup closes every connection and
// waits for every goroutine.
func startServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.cs = append(s.cs, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.cs {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return ln.Addr().String()
}

// echo is a correct echo handler; it splits what it writes back into
// pieces of at most 1000 bytes to exercise the reader's reassembly.
func echo(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		for i := 0; i < n; i += 1000 {
			if _, werr := c.Write(buf[i:min(n, i+1000)]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// corrupting echoes faithfully until it has echoed after bytes, then
// flips one bit of the next byte and goes on echoing.
func corrupting(after int) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 64<<10)
		seen := 0
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if seen <= after && after < seen+n {
					buf[after-seen] ^= 0x10
				}
				seen += n
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
}

// closing echoes one read's worth, then closes the connection.
func closing(c net.Conn) {
	buf := make([]byte, 64<<10)
	n, _ := c.Read(buf)
	c.Write(buf[:n])
}

func testConfig(addr string) Config {
	cfg := Default()
	cfg.Addr = addr
	cfg.Conns = 4
	cfg.Warmup = 20 * time.Millisecond
	cfg.Duration = 200 * time.Millisecond
	return cfg
}

func TestRunEcho(t *testing.T) {
	addr := startServer(t, echo)
	tests := []struct {
		name            string
		conns, size     int
		inflight        int
		wantMsgsAtLeast int64
	}{
		{name: "request-response 64B", conns: 4, size: 64, inflight: 1, wantMsgsAtLeast: 10},
		{name: "one byte", conns: 2, size: 1, inflight: 1, wantMsgsAtLeast: 10},
		{name: "pipelined 4KiB", conns: 3, size: 4096, inflight: 8, wantMsgsAtLeast: 10},
		{name: "large messages", conns: 2, size: 100 << 10, inflight: 2, wantMsgsAtLeast: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(addr)
			cfg.Conns, cfg.Size, cfg.Inflight = tt.conns, tt.size, tt.inflight
			var phases []Phase
			cfg.OnPhase = func(p Phase) { phases = append(phases, p) }
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v\n%v", err, res)
			}
			if res.Msgs < tt.wantMsgsAtLeast || res.Failed() {
				t.Fatalf("result:\n%v", res)
			}
			if res.Latency.Count != res.Msgs {
				t.Errorf("latency count %d, msgs %d", res.Latency.Count, res.Msgs)
			}
			if res.Bytes != res.Msgs*int64(tt.size) {
				t.Errorf("bytes %d, want %d", res.Bytes, res.Msgs*int64(tt.size))
			}
			l := res.Latency
			if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
				t.Errorf("percentiles out of order: %+v", l)
			}
			if len(phases) != 2 || phases[0] != MeasureStart || phases[1] != MeasureEnd {
				t.Errorf("phases %v, want [start end]", phases)
			}
		})
	}
}

func TestRunCatchesCorruption(t *testing.T) {
	tests := []struct {
		name     string
		after    int // bytes echoed faithfully first
		size     int
		inflight int
	}{
		{name: "first byte", after: 0, size: 64, inflight: 1},
		{name: "after some messages", after: 64*50 + 17, size: 64, inflight: 1},
		{name: "pipelined", after: 4096*3 + 4095, size: 4096, inflight: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startServer(t, corrupting(tt.after))
			cfg := testConfig(addr)
			cfg.Conns, cfg.Size, cfg.Inflight = 1, tt.size, tt.inflight
			cfg.Warmup = 0
			res, err := Run(context.Background(), cfg)
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("err = %v, want ErrFailed", err)
			}
			if res.Mismatches != 1 || res.Errors != 0 {
				t.Fatalf("mismatches %d errors %d, want 1 0", res.Mismatches, res.Errors)
			}
			if !strings.Contains(res.FirstError, "byte") {
				t.Errorf("first error %q does not say which byte", res.FirstError)
			}
		})
	}
}

func TestRunCountsErrors(t *testing.T) {
	t.Run("server closes", func(t *testing.T) {
		addr := startServer(t, closing)
		res, err := Run(context.Background(), testConfig(addr))
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("err = %v, want ErrFailed", err)
		}
		if res.Errors != 4 || res.Mismatches != 0 {
			t.Fatalf("errors %d mismatches %d, want 4 0", res.Errors, res.Mismatches)
		}
		if res.FirstError == "" {
			t.Error("no first error")
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		res, err := Run(context.Background(), testConfig(addr))
		if !errors.Is(err, ErrFailed) || res.Errors == 0 {
			t.Fatalf("err = %v, res = %v; want a dial failure", err, res)
		}
	})
}

func TestRunCancel(t *testing.T) {
	addr := startServer(t, echo)
	cfg := testConfig(addr)
	cfg.Duration = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
	if res.Errors != 0 || res.Mismatches != 0 {
		t.Errorf("a cancel counted as failure: %v", res)
	}
}

func TestValidate(t *testing.T) {
	ok := Default()
	ok.Addr = "127.0.0.1:1"
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error, "" for valid
	}{
		{name: "default with address", modify: func(*Config) {}},
		{name: "no address", modify: func(c *Config) { c.Addr = "" }, want: "no address"},
		{name: "zero conns", modify: func(c *Config) { c.Conns = 0 }, want: "conns"},
		{name: "zero size", modify: func(c *Config) { c.Size = 0 }, want: "size"},
		{name: "huge size", modify: func(c *Config) { c.Size = MaxSize + 1 }, want: "size"},
		{name: "zero inflight", modify: func(c *Config) { c.Inflight = 0 }, want: "inflight"},
		{name: "negative warm-up", modify: func(c *Config) { c.Warmup = -1 }, want: "warm-up"},
		{name: "no warm-up", modify: func(c *Config) { c.Warmup = 0 }},
		{name: "zero duration", modify: func(c *Config) { c.Duration = 0 }, want: "duration"},
		{name: "zero dial timeout", modify: func(c *Config) { c.DialTimeout = 0 }, want: "dial timeout"},
		{name: "zero dial concurrency", modify: func(c *Config) { c.DialConcurrency = 0 }, want: "concurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.modify(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want ErrConfig mentioning %q", err, tt.want)
			}
			if _, err := Run(context.Background(), c); tt.want != "" && !errors.Is(err, ErrConfig) {
				t.Errorf("Run with invalid config: %v", err)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want func(*Config)
	}{
		{name: "defaults", args: nil, want: func(*Config) {}},
		{
			name: "all",
			args: []string{"-addr", "127.0.0.1:7", "-conns", "1000", "-size", "4096", "-inflight", "4",
				"-warmup", "3s", "-duration", "1m", "-dial-timeout", "2s", "-dial-concurrency", "8"},
			want: func(c *Config) {
				c.Addr, c.Conns, c.Size, c.Inflight = "127.0.0.1:7", 1000, 4096, 4
				c.Warmup, c.Duration, c.DialTimeout, c.DialConcurrency = 3*time.Second, time.Minute, 2*time.Second, 8
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Default()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			got.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			got.OnPhase, want.OnPhase = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Default()
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-conns", "many"}); err == nil {
		t.Error("-conns many parsed")
	}
}

func TestSummarize(t *testing.T) {
	h := NewHistogram()
	if got := Summarize(h); got != (Latency{}) {
		t.Errorf("empty histogram: %+v", got)
	}
	// 1..1000 µs, once each.
	for i := 1; i <= 1000; i++ {
		Record(h, time.Duration(i)*time.Microsecond)
	}
	l := Summarize(h)
	near := func(name string, got, want time.Duration) {
		t.Helper()
		// Three significant digits: within 0.1% (plus one unit of rounding).
		if diff := got - want; diff < -want/1000-1 || diff > want/1000+1 {
			t.Errorf("%s = %v, want %v ± 0.1%%", name, got, want)
		}
	}
	if l.Count != 1000 {
		t.Errorf("count %d", l.Count)
	}
	near("p50", l.P50, 500*time.Microsecond)
	near("p90", l.P90, 900*time.Microsecond)
	near("p99", l.P99, 990*time.Microsecond)
	near("p99.9", l.P999, 999*time.Microsecond)
	near("max", l.Max, 1000*time.Microsecond)
	near("mean", l.Mean, 500500*time.Nanosecond)
}

func TestRecordClamps(t *testing.T) {
	h := NewHistogram()
	Record(h, 0)
	Record(h, -time.Second)
	Record(h, time.Hour)
	if h.TotalCount() != 3 {
		t.Fatalf("count %d, want 3", h.TotalCount())
	}
	if lo := time.Duration(h.Min()); int64(lo) > histLowest {
		t.Errorf("min %v, want clamped to %v", lo, time.Duration(histLowest))
	}
	if hi := time.Duration(h.Max()); hi < time.Minute || hi > time.Minute+time.Minute/1000 {
		t.Errorf("max %v, want clamped to 1m", hi)
	}
}

func TestShardedHistMerges(t *testing.T) {
	s := newShardedHist(3)
	direct := NewHistogram()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.recorder(i)
			for j := range 1000 { // more than a batch
				r.add(time.Duration(i*1000+j) * time.Microsecond)
			}
			r.flush()
		}()
		for j := range 1000 {
			Record(direct, time.Duration(i*1000+j)*time.Microsecond)
		}
	}
	wg.Wait()
	if got, want := Summarize(s.merged()), Summarize(direct); got != want {
		t.Errorf("merged %+v\ndirect %+v", got, want)
	}
}

func TestPatternNeighboursDiffer(t *testing.T) {
	for _, size := range []int{1, 64, 4096} {
		p := pattern(3, size)
		msg := func(k int) []byte { return p[k%patternPeriod:][:size] }
		for k := range patternPeriod {
			a, b := msg(k), msg(k+1)
			for i := range a {
				if a[i] == b[i] {
					t.Fatalf("size %d: messages %d and %d share byte %d", size, k, k+1, i)
				}
			}
		}
	}
	if string(pattern(1, 64)[:64]) == string(pattern(2, 64)[:64]) {
		t.Error("connections 1 and 2 send the same first message")
	}
}
