package loadgen

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: round trips are recorded in nanoseconds, from 100 ns
// (values below are recorded as 100 ns) to one minute (values above are
// recorded as one minute), with three significant digits, i.e. within 0.1%.
const (
	histLowest  = int64(100 * time.Nanosecond)
	histHighest = int64(time.Minute)
	histDigits  = 3
)

// NewHistogram returns an empty round-trip histogram with the bounds Run
// uses. Record durations in nanoseconds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// Record adds d to h, clamped to the histogram's range.
func Record(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d)
	if v < histLowest {
		v = histLowest
	} else if v > histHighest {
		v = histHighest
	}
	_ = h.RecordValue(v) // cannot fail: v is in range
}

// Latency summarises the round-trip times of the counted messages.
type Latency struct {
	Count int64         `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summarize returns the percentiles of h. Each percentile is the highest
// value equivalent (within the histogram's precision) to the recorded value
// at that rank, as HdrHistogram reports it. An empty h gives a zero Latency.
func Summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.TotalCount(),
		Mean:  time.Duration(h.Mean()),
		P50:   time.Duration(h.ValueAtQuantile(50)),
		P90:   time.Duration(h.ValueAtQuantile(90)),
		P99:   time.Duration(h.ValueAtQuantile(99)),
		P999:  time.Duration(h.ValueAtQuantile(99.9)),
		Max:   time.Duration(h.Max()),
	}
}

// shardedHist lets many connection goroutines record into a few locked
// histograms; each goroutine buffers samples and flushes them in batches,
// so the lock is taken once per batch, not once per message. One histogram
// per connection would cost ~170 KB each, too much for 10,000 connections.
type shardedHist struct {
	shards []histShard
}

type histShard struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
	_  [48]byte // keep neighbouring locks off one cache line
}

func newShardedHist(n int) *shardedHist {
	s := &shardedHist{shards: make([]histShard, n)}
	for i := range s.shards {
		s.shards[i].h = NewHistogram()
	}
	return s
}

// recorder returns a batching recorder bound to shard i mod n.
func (s *shardedHist) recorder(i int) *recorder {
	return &recorder{shard: &s.shards[i%len(s.shards)], buf: make([]time.Duration, 0, 256)}
}

// merged returns one histogram holding every shard's samples. Call it
// after every recorder has been flushed.
func (s *shardedHist) merged() *hdrhistogram.Histogram {
	h := NewHistogram()
	for i := range s.shards {
		h.Merge(s.shards[i].h)
	}
	return h
}

type recorder struct {
	shard *histShard
	buf   []time.Duration
}

func (r *recorder) add(d time.Duration) {
	r.buf = append(r.buf, d)
	if len(r.buf) == cap(r.buf) {
		r.flush()
	}
}

func (r *recorder) flush() {
	if len(r.buf) == 0 {
		return
	}
	r.shard.mu.Lock()
	for _, d := range r.buf {
		Record(r.shard.h, d)
	}
	r.shard.mu.Unlock()
	r.buf = r.buf[:0]
}
