// Command study is the executor study of issue 13: one RPC-like workload
// served by four executors, swept from I/O-bound to CPU-bound, with the
// results written as Markdown tables and SVG charts (package bench/study
// does the work; this is its command line).
//
// A producer, playing the message broker, keeps K messages in flight over
// a few loopback TCP connections; each message's handler spins C of CPU
// work, calls a downstream server that answers after D, and replies. The
// executors are greenhub's eventlet executor (one hub, a green thread per
// message from a greenpool), a goroutine per message, a fixed pool of
// goroutines (oslo's threading executor), and greenhub on N hubs; with
// -python, oslo's eventlet and threading executors written in Python too
// (bench/peers/oslo_executor.py).
//
// From the module root:
//
//	go run ./bench/cmd/study           # full study, ~6 min, writes docs/study/
//	go run ./bench/cmd/study -quick    # CI smoke, ~10 s, writes to a temp dir
//	go run ./bench/cmd/study -render docs/study/results.json   # redraw only
//
// Each cell runs the executor as a fresh process, this program run again as
// "study serve ...", so that its CPU time (getrusage) and peak RSS are its
// own and not the producer's. An interrupted study writes nothing. It exits
// 1 if a cell failed (the outputs are written regardless), 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/bench/internal/module"
	"github.com/greenhub/greenhub/bench/study"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(study.ServeMain(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	quick     bool
	out       string
	render    string
	python    string
	executors []string
	cfg       study.Config
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("study", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "smoke mode: two points, short windows, output to a temp dir")
	fs.StringVar(&o.out, "out", "", "output `dir` (default docs/study under the module root; a temp dir with -quick)")
	fs.StringVar(&o.render, "render", "", "measure nothing: redraw the tables and charts from an earlier `results.json` (into -out, default its directory)")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter for the Python peers, eventlet (skipped with a note if it cannot import eventlet) and pythreads (empty skips both)")
	ex := fs.String("executors", strings.Join(study.GoExecutors, ","), "comma-separated Go executors to run, of hub, hubs, goroutines, pool (the Python peers come with -python)")
	c := &o.cfg
	fs.DurationVar(&c.Warmup, "warmup", 0, "warm-up per cell (default 300ms; 100ms with -quick)")
	fs.DurationVar(&c.Duration, "duration", 0, "measured window per cell (default 1s; 300ms with -quick)")
	fs.IntVar(&c.Rounds, "rounds", 0, "rounds over every cell; each reports its median round (default 3; 1 with -quick)")
	fs.IntVar(&c.Conns, "conns", max(2, runtime.NumCPU()), "producer connections (at least -hubs)")
	fs.IntVar(&c.Pool, "pool", 64, "pool size of the hub, pool and per-hub executors (oslo's executor_thread_pool_size)")
	fs.IntVar(&c.Hubs, "hubs", runtime.NumCPU(), "hubs of the hubs executor")
	fs.IntVar(&c.Size, "size", 256, "message payload in `bytes`")
	fs.StringVar(&c.Trace, "trace", "", "write a Chrome trace of every hub and hubs cell into `dir` (see cmd/timeline); tracing slows the hubs")
	fs.IntVar(&c.Nice, "nice", 10, "niceness of the executor processes, so that the producer and downstream server run first (0: none)")
	base := fs.String("base", "", "the point the sweeps go through, `C,D,K` (default 20µs,5ms,64; 20µs,1ms,16 with -quick)")
	cpu := fs.String("cpu", "", "CPU work per message to sweep, `durations` (default 0,20µs,200µs,1ms; 20µs,500µs with -quick)")
	wait := fs.String("wait", "", "downstream waits to sweep, `durations` (default 0,1ms,5ms,50ms; the base's with -quick)")
	inflight := fs.String("inflight", "", "messages in flight to sweep, `counts` (default 1,16,64,256,2048; the base's with -quick)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	def := func(s *string, full, quick string) {
		if *s == "" {
			*s = full
			if o.quick {
				*s = quick
			}
		}
	}
	def(base, "20µs,5ms,64", "20µs,1ms,16")
	parts := strings.Split(*base, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("-base %q: want C,D,K", *base)
	}
	def(cpu, "0,20µs,200µs,1ms", parts[0]+",500µs")
	def(wait, "0,1ms,5ms,50ms", parts[1])
	def(inflight, "1,16,64,256,2048", parts[2])
	var b study.Point
	var err error
	if b.Work, err = parseDuration(parts[0]); err != nil {
		return nil, fmt.Errorf("-base: %w", err)
	}
	if b.Wait, err = parseDuration(parts[1]); err != nil {
		return nil, fmt.Errorf("-base: %w", err)
	}
	if b.Inflight, err = strconv.Atoi(parts[2]); err != nil || b.Inflight < 1 {
		return nil, fmt.Errorf("-base: K %q is not a positive count", parts[2])
	}
	cs, err := parseDurations(*cpu)
	if err != nil {
		return nil, fmt.Errorf("-cpu: %w", err)
	}
	ds, err := parseDurations(*wait)
	if err != nil {
		return nil, fmt.Errorf("-wait: %w", err)
	}
	ks, err := parseCounts(*inflight)
	if err != nil {
		return nil, fmt.Errorf("-inflight: %w", err)
	}
	c.Sweeps = study.Sweeps(b, cs, ds, ks)
	if c.Warmup == 0 {
		c.Warmup = 300 * time.Millisecond
		if o.quick {
			c.Warmup = 100 * time.Millisecond
		}
	}
	if c.Duration == 0 {
		c.Duration = time.Second
		if o.quick {
			c.Duration = 300 * time.Millisecond
		}
	}
	if c.Rounds == 0 {
		c.Rounds = 3
		if o.quick {
			c.Rounds = 1
		}
	}
	for _, e := range strings.Split(*ex, ",") {
		e = strings.TrimSpace(e)
		switch e {
		case study.Hub, study.Hubs, study.Goroutines, study.Pool:
			o.executors = append(o.executors, e)
		default:
			return nil, fmt.Errorf("-executors: unknown executor %q", e)
		}
	}
	if c.Conns < 1 || c.Pool < 1 || c.Hubs < 1 || c.Rounds < 1 || c.Size < 0 || c.Warmup < 0 || c.Duration <= 0 {
		return nil, errors.New("need -conns, -pool, -hubs, -rounds >= 1, -size >= 0, -warmup >= 0, -duration > 0")
	}
	return o, nil
}

// parseDuration parses a Go duration, or "0"; "us" may be written "µs".
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration >= 0", s)
	}
	return d, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var ds []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := parseDuration(f)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func parseCounts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "study:", err)
		}
		return 2
	}
	if o.render != "" {
		r, err := study.Load(o.render)
		if err != nil {
			fmt.Fprintln(stderr, "study:", err)
			return 1
		}
		if o.out == "" {
			o.out = filepath.Dir(o.render)
		}
		return write(r, o.out, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := module.Root(ctx, "study")
	if err != nil {
		fmt.Fprintln(stderr, "study:", err)
		return 1
	}
	if o.out == "" {
		if o.quick {
			if o.out, err = os.MkdirTemp("", "greenhub-study-"); err != nil {
				fmt.Fprintln(stderr, "study:", err)
				return 1
			}
		} else {
			o.out = filepath.Join(root, "docs", "study")
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "study:", err)
		return 1
	}
	cfg := o.cfg
	cfg.Serve = []string{self, "serve"}
	cfg.Executors = o.executors
	cfg.Log = stderr
	var note string
	if o.python != "" {
		cfg.Python = []string{o.python, filepath.Join(root, "bench", "peers", "oslo_executor.py")}
		if err := exec.CommandContext(ctx, o.python, "-c", "import eventlet").Run(); err != nil {
			note = fmt.Sprintf("the Python eventlet peer was skipped: %s cannot import eventlet (apt-get install python3-eventlet)", o.python)
			fmt.Fprintln(stderr, "study:", note)
		} else {
			cfg.Executors = append(cfg.Executors, study.Eventlet)
		}
		cfg.Executors = append(cfg.Executors, study.PyThreads)
	}
	r, err := study.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "study: interrupted; nothing written:", err)
		return 1
	}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	if code := write(r, o.out, stdout, stderr); code != 0 {
		return code
	}
	if n := r.Failed(); n > 0 {
		fmt.Fprintf(stderr, "study: %d cells failed\n", n)
		return 1
	}
	return 0
}

func write(r *study.Results, dir string, stdout, stderr io.Writer) int {
	fmt.Fprint(stdout, study.Markdown(r))
	if err := study.Write(r, dir); err != nil {
		fmt.Fprintln(stderr, "study:", err)
		return 1
	}
	fmt.Fprintf(stderr, "study: wrote %s\n", dir)
	return 0
}
