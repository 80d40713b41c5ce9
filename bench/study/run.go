package study

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/greenhub/greenhub/bench/loadgen"
)

// A Point is one workload of the sweep: each message's CPU work (C), its
// wait on the downstream call (D), and how many messages the producer
// keeps in flight (K).
type Point struct {
	Work     time.Duration `json:"work_ns"`
	Wait     time.Duration `json:"wait_ns"`
	Inflight int           `json:"inflight"`
}

func (p Point) String() string {
	return fmt.Sprintf("C=%v D=%v K=%d", p.Work, p.Wait, p.Inflight)
}

// TraceFile names the trace of executor ex at p in round (Config.Trace),
// e.g. "hub-C20us-D1ms-K16-r1.json" (ASCII, for the shell).
func TraceFile(ex string, p Point, round int) string {
	name := fmt.Sprintf("%s-C%v-D%v-K%d-r%d.json", ex, p.Work, p.Wait, p.Inflight, round)
	return strings.ReplaceAll(name, "µ", "u")
}

// A Sweep varies one of C, D and K, the others fixed.
type Sweep struct {
	Name   string  `json:"name"`   // "cpu", "wait" or "inflight"
	Title  string  `json:"title"`  // for the report
	Points []Point `json:"points"` // in the order of the varied quantity
}

// Label names p on the axis of s's charts: the quantity s varies.
func (s Sweep) Label(p Point) string {
	switch s.Name {
	case "cpu":
		return "C=" + fmtDuration(p.Work)
	case "wait":
		return "D=" + fmtDuration(p.Wait)
	}
	return fmt.Sprintf("K=%d", p.Inflight)
}

// Short says what s varies and what it holds, for chart titles:
// "K (C=20µs, D=5ms)".
func (s Sweep) Short() string {
	if len(s.Points) == 0 {
		return s.Name
	}
	p := s.Points[0]
	switch s.Name {
	case "cpu":
		return fmt.Sprintf("C (D=%s, K=%d)", fmtDuration(p.Wait), p.Inflight)
	case "wait":
		return fmt.Sprintf("D (C=%s, K=%d)", fmtDuration(p.Work), p.Inflight)
	}
	return fmt.Sprintf("K (C=%s, D=%s)", fmtDuration(p.Work), fmtDuration(p.Wait))
}

// Sweeps returns the three sweeps around a base point: C over cpu, D over
// wait, K over inflight, the other two at the base's values.
func Sweeps(base Point, cpu, wait []time.Duration, inflight []int) []Sweep {
	s := []Sweep{
		{Name: "cpu", Title: fmt.Sprintf("CPU work C per message, D=%v, K=%d", fmtDuration(base.Wait), base.Inflight)},
		{Name: "wait", Title: fmt.Sprintf("downstream wait D, C=%v, K=%d", fmtDuration(base.Work), base.Inflight)},
		{Name: "inflight", Title: fmt.Sprintf("messages in flight K, C=%v, D=%v", fmtDuration(base.Work), fmtDuration(base.Wait))},
	}
	for _, c := range cpu {
		s[0].Points = append(s[0].Points, Point{Work: c, Wait: base.Wait, Inflight: base.Inflight})
	}
	for _, d := range wait {
		s[1].Points = append(s[1].Points, Point{Work: base.Work, Wait: d, Inflight: base.Inflight})
	}
	for _, k := range inflight {
		s[2].Points = append(s[2].Points, Point{Work: base.Work, Wait: base.Wait, Inflight: k})
	}
	return s
}

// Config is one study: the executors, the sweeps, and how long each cell
// is measured.
type Config struct {
	// Executors to measure, of GoExecutors and PythonExecutors.
	Executors []string
	Sweeps    []Sweep
	// Warmup runs before each cell's measured window of Duration.
	Warmup, Duration time.Duration
	// Rounds is how many times the whole sweep runs; each cell of the
	// report is its median round by throughput. Rounds go over every point
	// and executor in turn, so that a slow spell of a shared machine hits
	// them all alike rather than one.
	Rounds int
	// Conns is the number of producer connections; Pool the pool size of
	// Hub and Pool and of each hub of Hubs; Hubs the number of hubs; Size
	// each message's payload in bytes.
	Conns, Pool, Hubs, Size int
	// Serve is the command that runs a Go executor process: a program whose
	// arguments after these are ServeMain's (the study command's "serve").
	// Empty runs the executors inside this process, where their CPU and
	// memory cannot be told from the producer's (for tests).
	Serve []string
	// Python is the interpreter and script of the Python peers, e.g.
	// {"/usr/bin/python3", "bench/peers/oslo_executor.py"}.
	Python []string
	// Nice, when above 0, runs the executor processes at that niceness
	// (nice(1)), so that on a small machine the producer and the downstream
	// server, which stand for other machines, run as soon as they have
	// work: the executor still gets every cycle they leave.
	Nice int
	// Trace, if not empty, is a directory: each cell of the hub and hubs
	// executors writes a Chrome trace of its hubs there (package
	// timeline), named by TraceFile. Tracing costs the hub about 4× per
	// switch: a traced run measures the tracer too.
	Trace string
	// Log, if not nil, gets a line per cell.
	Log io.Writer
}

// Cell is what one executor did at one Point.
type Cell struct {
	Executor string `json:"executor"`
	Round    int    `json:"round"`
	Point
	Msgs       int64           `json:"msgs"` // Replies read in the window
	MsgsPerSec float64         `json:"msgs_per_sec"`
	Latency    loadgen.Latency `json:"latency"`
	// CPUPerMsg is the executor process's user+system CPU over the window
	// per message answered in it; HarnessCPUPerMsg the same for the
	// producer and downstream server (the study's own process).
	CPUPerMsg        time.Duration `json:"cpu_per_msg_ns"`
	HarnessCPUPerMsg time.Duration `json:"harness_cpu_per_msg_ns"`
	// MaxRSS is the executor process's peak resident set size; a fresh
	// process serves each cell.
	MaxRSS int64 `json:"max_rss_bytes"`
	// DownstreamLate is how late the downstream server's answers left,
	// beyond the Wait asked for.
	DownstreamLate loadgen.Latency `json:"downstream_late"`
	Unanswered     int64           `json:"unanswered,omitempty"`
	Failures       int64           `json:"failures,omitempty"`
	Err            string          `json:"error,omitempty"`
}

// Results is a whole study, as Run returns it and results.json holds it.
type Results struct {
	Started   time.Time     `json:"started"`
	Finished  time.Time     `json:"finished"`
	GoVersion string        `json:"go_version"`
	CPUs      int           `json:"cpus"`
	CPUModel  string        `json:"cpu_model"`
	Warmup    time.Duration `json:"warmup_ns"`
	Duration  time.Duration `json:"duration_ns"`
	Conns     int           `json:"conns"`
	Pool      int           `json:"pool"`
	Hubs      int           `json:"hubs"`
	Size      int           `json:"size"`
	Nice      int           `json:"nice"`
	Executors []string      `json:"executors"`
	Sweeps    []Sweep       `json:"sweeps"`
	Rounds    int           `json:"rounds"`
	// Cells holds the median round of each executor and point; Runs every
	// round.
	Cells []Cell   `json:"cells"`
	Runs  []Cell   `json:"runs"`
	Notes []string `json:"notes,omitempty"`
}

// Cell returns ex's cell at p, or nil.
func (r *Results) Cell(ex string, p Point) *Cell {
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Executor == ex && c.Point == p {
			return c
		}
	}
	return nil
}

// Failed counts the rounds of cells that failed.
func (r *Results) Failed() int {
	n := 0
	for _, c := range r.Runs {
		if c.Err != "" {
			n++
		}
	}
	return n
}

// Points returns every distinct Point of the sweeps, in order of first
// appearance.
func (r *Results) points() []Point {
	var ps []Point
	for _, s := range r.Sweeps {
		for _, p := range s.Points {
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// Run measures every executor at every Point of cfg's sweeps, one cell
// after another, each executor in a fresh process (or in this one when
// cfg.Serve is empty). A cell that fails is recorded with its error and the
// study goes on; Run returns an error only when ctx ends (with what was
// measured so far) or cfg is unusable. It blocks; any goroutine may call
// it, one study at a time (the cells share the machine).
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if cfg.Conns < 1 || cfg.Pool < 1 || cfg.Hubs < 1 || cfg.Rounds < 1 || cfg.Size < 0 || cfg.Duration <= 0 || cfg.Warmup < 0 {
		return nil, fmt.Errorf("study: need conns, pool, hubs, rounds >= 1, size >= 0, duration > 0, warmup >= 0")
	}
	if cfg.Conns < cfg.Hubs && slices.Contains(cfg.Executors, Hubs) {
		return nil, fmt.Errorf("study: %d connections for %d hubs: each hub needs one", cfg.Conns, cfg.Hubs)
	}
	if cfg.Trace != "" {
		if err := os.MkdirAll(cfg.Trace, 0o755); err != nil {
			return nil, fmt.Errorf("study: trace directory: %w", err)
		}
	}
	r := &Results{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), CPUModel: cpuModel(),
		Warmup: cfg.Warmup, Duration: cfg.Duration, Conns: cfg.Conns, Pool: cfg.Pool, Hubs: cfg.Hubs, Size: cfg.Size, Nice: cfg.Nice,
		Rounds: cfg.Rounds, Executors: cfg.Executors, Sweeps: cfg.Sweeps,
	}
	if len(cfg.Serve) == 0 {
		r.Notes = append(r.Notes, "the executors ran inside the study's process: CPU and memory include the producer's")
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for _, p := range r.points() {
			for _, ex := range cfg.Executors {
				if ctx.Err() != nil {
					r.Finished = time.Now().UTC()
					return r, ctx.Err()
				}
				c := runCell(ctx, cfg, ex, p, round)
				if cfg.Log != nil {
					logCell(cfg.Log, c)
				}
				r.Runs = append(r.Runs, c)
			}
		}
	}
	r.aggregate()
	r.Finished = time.Now().UTC()
	return r, ctx.Err() // a cell cut short by ctx is no measurement
}

// aggregate sets Cells from Runs: for each executor and point, the round
// with the median throughput among those that succeeded (the lower median
// of an even count), or the first failure if none did.
func (r *Results) aggregate() {
	r.Cells = r.Cells[:0]
	for _, p := range r.points() {
		for _, ex := range r.Executors {
			var ok, failed []Cell
			for _, c := range r.Runs {
				if c.Executor != ex || c.Point != p {
					continue
				}
				if c.Err != "" {
					failed = append(failed, c)
				} else {
					ok = append(ok, c)
				}
			}
			switch {
			case len(ok) > 0:
				slices.SortFunc(ok, func(a, b Cell) int { return cmp.Compare(a.MsgsPerSec, b.MsgsPerSec) })
				r.Cells = append(r.Cells, ok[(len(ok)-1)/2])
			case len(failed) > 0:
				r.Cells = append(r.Cells, failed[0])
			}
		}
	}
}

func logCell(w io.Writer, c Cell) {
	if c.Err != "" {
		fmt.Fprintf(w, "study: %-10s %-28v FAILED: %s\n", c.Executor, c.Point, c.Err)
		return
	}
	fmt.Fprintf(w, "study: %-10s %-28v %8.0f msg/s  p50 %8v  p99 %8v  CPU %6.1f µs/msg  RSS %4d MiB  late p99 %v\n",
		c.Executor, c.Point, c.MsgsPerSec, c.Latency.P50.Round(time.Microsecond), c.Latency.P99.Round(time.Microsecond),
		float64(c.CPUPerMsg)/1e3, c.MaxRSS>>20, c.DownstreamLate.P99.Round(time.Microsecond))
}

// drainTimeout bounds the wait for the Replies still owed at a cell's end,
// and the executor's exit after the producer closed its connections.
const drainTimeout = 10 * time.Second

// runCell measures ex at p: it starts the downstream server and the
// producer's listener, starts the executor, which connects, runs the load
// for the warm-up and the measured window, asking the executor for its
// usage at the window's ends, then drains the load and waits for the
// executor to end.
func runCell(ctx context.Context, cfg Config, ex string, p Point, round int) (c Cell) {
	c = Cell{Executor: ex, Point: p, Round: round}
	fail := func(err error) Cell {
		c.Err = err.Error()
		return c
	}
	down, err := startDownstream()
	if err != nil {
		return fail(err)
	}
	defer func() { c.DownstreamLate = down.close() }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	defer ln.Close()
	scfg := ServeConfig{Executor: ex, Producer: ln.Addr().String(), Conns: cfg.Conns,
		Downstream: down.addr(), Pool: cfg.Pool, Hubs: cfg.Hubs}
	if cfg.Trace != "" && (ex == Hub || ex == Hubs) {
		scfg.Trace = filepath.Join(cfg.Trace, TraceFile(ex, p, round))
	}
	var e executor
	switch {
	case pythonMode[ex] != "":
		if len(cfg.Python) == 0 {
			return fail(errors.New("study: no Python command for the Python peers"))
		}
		pcfg := scfg
		pcfg.Executor = pythonMode[ex]
		pr, err := startProcess(cfg.Python, pcfg, cfg.Nice)
		if err != nil {
			return fail(err)
		}
		e = pr
	case len(cfg.Serve) > 0:
		pr, err := startProcess(cfg.Serve, scfg, cfg.Nice)
		if err != nil {
			return fail(err)
		}
		e = pr
	default:
		e = startInProcess(scfg)
	}
	conns, err := acceptN(ln, cfg.Conns, drainTimeout, e.died())
	if err != nil {
		return fail(errors.Join(err, e.wait(drainTimeout)))
	}
	l := startLoad(conns, p.Inflight, p.Work, p.Wait, cfg.Size)
	pause(ctx, cfg.Warmup)
	u0, err0 := e.usage()
	h0 := harnessCPU()
	start := time.Now()
	l.measuring.Store(true)
	pause(ctx, cfg.Duration)
	l.measuring.Store(false)
	window := time.Since(start)
	u1, err1 := e.usage()
	h1 := harnessCPU()
	unanswered, loadErr := l.finish(drainTimeout)
	waitErr := e.wait(drainTimeout)
	c.Msgs, c.Latency = l.result()
	c.MsgsPerSec = float64(c.Msgs) / window.Seconds()
	c.Unanswered, c.Failures, c.MaxRSS = unanswered, u1.Failures, u1.MaxRSS
	if c.Msgs > 0 {
		c.CPUPerMsg = (u1.User + u1.Sys - u0.User - u0.Sys) / time.Duration(c.Msgs)
		c.HarnessCPUPerMsg = (h1 - h0) / time.Duration(c.Msgs)
		if len(cfg.Serve) == 0 && pythonMode[ex] == "" {
			c.HarnessCPUPerMsg = 0 // inside the executor's figure
		}
	}
	switch err := errors.Join(err0, err1, loadErr, waitErr, ctx.Err()); {
	case err != nil:
		return fail(err)
	case unanswered > 0:
		return fail(fmt.Errorf("study: %d messages unanswered", unanswered))
	case c.Failures > 0:
		return fail(fmt.Errorf("study: %d handlers failed", c.Failures))
	case c.Msgs == 0:
		return fail(errors.New("study: no message answered in the window"))
	}
	return c
}

// harnessCPU returns this process's user+system CPU time.
func harnessCPU() time.Duration {
	u, err := selfUsage(0)
	if err != nil {
		return 0
	}
	return u.User + u.Sys
}

// pause waits for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or "".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
