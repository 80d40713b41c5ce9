package study

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/timeline"
)

// tinyConfig is a study of one point, small enough for a test: every
// message is still spun, sent downstream and answered.
func tinyConfig(executors ...string) Config {
	p := Point{Work: 10 * time.Microsecond, Wait: time.Millisecond, Inflight: 8}
	return Config{
		Executors: executors,
		Sweeps:    Sweeps(p, []time.Duration{p.Work}, []time.Duration{p.Wait}, []int{p.Inflight}),
		Warmup:    20 * time.Millisecond,
		Duration:  150 * time.Millisecond,
		Rounds:    1,
		Conns:     2,
		Pool:      4,
		Hubs:      2,
		Size:      64,
	}
}

// TestEachExecutorAnswersEveryMessage runs every Go executor inside the
// test's process: the producer must get a reply for every request it sent
// (Run fails a cell with unanswered messages, a failed handler, a reply to
// nothing, or no reply in the window).
func TestEachExecutorAnswersEveryMessage(t *testing.T) {
	for _, ex := range GoExecutors {
		t.Run(ex, func(t *testing.T) {
			r, err := Run(context.Background(), tinyConfig(ex))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Cells) != 1 || len(r.Runs) != 1 {
				t.Fatalf("%d cells, %d runs; want 1 of each", len(r.Cells), len(r.Runs))
			}
			c := r.Cells[0]
			if c.Err != "" {
				t.Fatalf("cell failed: %s", c.Err)
			}
			if c.Msgs < 10 || c.Unanswered != 0 || c.Failures != 0 {
				t.Errorf("%d messages answered in the window, %d unanswered, %d handler failures", c.Msgs, c.Unanswered, c.Failures)
			}
			// Each message waits 1 ms downstream: no reply can come sooner.
			if c.Latency.P50 < time.Millisecond {
				t.Errorf("p50 latency %v is under the 1ms downstream wait", c.Latency.P50)
			}
		})
	}
}

// TestTraceHubCells: with Config.Trace, the hub executors' cells write a
// Chrome trace the timeline reads back, whose green threads block on
// their sockets; the goroutine executors write none.
func TestTraceHubCells(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(Hubs, Goroutines)
	cfg.Trace = dir
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Cells {
		if c.Err != "" {
			t.Fatalf("%s: %s", c.Executor, c.Err)
		}
	}
	p := cfg.Sweeps[0].Points[0]
	tr, err := timeline.ReadFile(filepath.Join(dir, TraceFile(Hubs, p, 1)))
	if err != nil {
		t.Fatal(err)
	}
	hubs := map[int]bool{}
	reads := 0
	for _, tk := range tr.Tracks {
		hubs[tk.PID] = true
		for _, in := range tk.Instants {
			if in.Name == "block" && strings.HasPrefix(in.Reason, "read fd") {
				reads++
			}
		}
	}
	if len(hubs) != cfg.Hubs || reads == 0 || tr.Truncated {
		t.Errorf("trace of %d hubs (want %d), %d blocks on a read, truncated %v", len(hubs), cfg.Hubs, reads, tr.Truncated)
	}
	if _, err := os.Stat(filepath.Join(dir, TraceFile(Goroutines, p, 1))); !os.IsNotExist(err) {
		t.Errorf("the goroutines executor wrote a trace (stat: %v)", err)
	}
}

// TestPoolBoundsConcurrency: with a pool of 1, K=8 messages of a 5 ms
// downstream wait go one at a time, so at most 200 per second get through,
// where a goroutine per message passes several times that.
func TestPoolBoundsConcurrency(t *testing.T) {
	cfg := tinyConfig(Pool, Goroutines)
	cfg.Pool = 1
	cfg.Conns = 1
	p := Point{Wait: 5 * time.Millisecond, Inflight: 8}
	cfg.Sweeps = Sweeps(p, []time.Duration{0}, []time.Duration{p.Wait}, []int{p.Inflight})
	cfg.Duration = 300 * time.Millisecond
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool, each := r.Cell(Pool, p), r.Cell(Goroutines, p)
	if pool.Err != "" || each.Err != "" {
		t.Fatalf("cells failed: %q, %q", pool.Err, each.Err)
	}
	if pool.MsgsPerSec > 210 {
		t.Errorf("a pool of 1 answered %.0f msg/s of 5ms waits: over the 200 it allows", pool.MsgsPerSec)
	}
	if each.MsgsPerSec < 2*pool.MsgsPerSec {
		t.Errorf("a goroutine per message answered %.0f msg/s, a pool of 1 %.0f: want at least twice", each.MsgsPerSec, pool.MsgsPerSec)
	}
}

// TestExecutorProcess runs the hub executor as a process (this test
// binary, made an executor by serveEnv) and checks what it reports of its
// own resource use.
func TestExecutorProcess(t *testing.T) {
	t.Setenv(serveEnv, "1")
	cfg := tinyConfig(Hub)
	cfg.Serve = []string{os.Args[0]}
	cfg.Nice = 5
	p := Point{Work: 200 * time.Microsecond, Wait: time.Millisecond, Inflight: 8}
	cfg.Sweeps = Sweeps(p, []time.Duration{p.Work}, nil, nil)
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cells[0]
	if c.Err != "" {
		t.Fatalf("cell failed: %s", c.Err)
	}
	// The handler spins 200µs per message; getrusage's accounting is
	// coarser than a message, so allow a wide margin.
	if c.CPUPerMsg < 100*time.Microsecond || c.CPUPerMsg > 5*time.Millisecond {
		t.Errorf("executor CPU %v per message for 200µs of spinning", c.CPUPerMsg)
	}
	if c.MaxRSS < 1<<20 {
		t.Errorf("executor peak RSS %d bytes", c.MaxRSS)
	}
}

func TestExecutorProcessBadFlags(t *testing.T) {
	t.Setenv(serveEnv, "1")
	cfg := tinyConfig(Hubs)
	cfg.Serve = []string{os.Args[0]}
	cfg.Hubs = 3 // more hubs than the 2 connections: the executor refuses
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "each hub needs one") {
		t.Fatalf("Run with 3 hubs over 2 connections = %v, want a refusal", err)
	}
	cfg.Hubs = 2
	cfg.Serve = []string{os.Args[0], "-no-such-flag"} // ServeMain exits 2
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Cells[0]; !strings.Contains(c.Err, "exited before it connected") {
		t.Errorf("cell of an executor that rejected its flags: %q", c.Err)
	}
}

func TestWriteAndLoad(t *testing.T) {
	r, err := Run(context.Background(), tinyConfig(Hub, Goroutines))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(r, dir); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sweeps {
		for _, m := range Metrics {
			if _, err := os.Stat(filepath.Join(dir, ChartFile(s, m))); err != nil {
				t.Error(err)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"greenhub, 1 hub, greenpool 4", "goroutine per message", "cpu_throughput.svg"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	back, err := Load(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if Markdown(back) != string(md) {
		t.Error("results.json does not render back to results.md")
	}
}

func TestAggregatePicksMedianRound(t *testing.T) {
	p := Point{Inflight: 1}
	r := &Results{Executors: []string{Hub}, Sweeps: []Sweep{{Name: "inflight", Points: []Point{p}}}}
	for i, rate := range []float64{300, 100, 200} {
		r.Runs = append(r.Runs, Cell{Executor: Hub, Point: p, Round: i + 1, MsgsPerSec: rate})
	}
	r.Runs = append(r.Runs, Cell{Executor: Hub, Point: p, Round: 4, Err: "failed"})
	r.aggregate()
	if len(r.Cells) != 1 || r.Cells[0].Round != 3 {
		t.Errorf("aggregate chose %+v, want round 3 (the median, 200 msg/s)", r.Cells)
	}
	if r.Failed() != 1 {
		t.Errorf("Failed() = %d, want 1", r.Failed())
	}
}

// TestPythonPeers runs the Python executors (bench/peers/oslo_executor.py)
// when /usr/bin/python3 is there, eventlet only when it imports.
func TestPythonPeers(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no " + python)
	}
	executors := []string{PyThreads}
	if exec.Command(python, "-c", "import eventlet").Run() == nil {
		executors = append(executors, Eventlet)
	} else {
		t.Log("eventlet does not import: only the threading peer runs")
	}
	cfg := tinyConfig(executors...)
	cfg.Python = []string{python, filepath.Join("..", "peers", "oslo_executor.py")}
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Cells {
		if c.Err != "" {
			t.Errorf("%s: %s", c.Executor, c.Err)
			continue
		}
		if c.Msgs < 10 || c.CPUPerMsg <= 0 || c.MaxRSS < 1<<20 {
			t.Errorf("%s: %d messages, %v CPU per message, %d bytes of RSS", c.Executor, c.Msgs, c.CPUPerMsg, c.MaxRSS)
		}
	}
}
