// Command compare runs greenhub's servers and their peers side by side
// under the same load and writes the results as Markdown tables and SVG
// charts. It has two modes (-mode echo|http|all, default all):
//
//   - echo: greenhub's echo server against gnet, stdlib net, eventlet and
//     gevent, driven by bench/cmd/loadgen;
//   - http: greenhub's greenhttp (examples/hello) against net/http,
//     eventlet.wsgi and gevent.pywsgi, driven by wrk with GET /hello over
//     keep-alive connections.
//
// From the module root:
//
//	go run ./bench/cmd/compare              # full run, ~11 min, writes docs/performance/
//	go run ./bench/cmd/compare -quick       # CI smoke, ~1 min, writes to a temp dir
//	go run ./bench/cmd/compare -mode http -out /tmp/http   # HTTP only, ~4 min
//
// It builds bench/cmd/loadgen and the Go servers (examples/echo,
// bench/peers/gnetecho, bench/peers/stdecho; examples/hello,
// bench/peers/stdhttp) into a temporary directory, checks that
// /usr/bin/python3 can import eventlet and gevent for the Python servers
// (bench/peers/*.py; skipped with a note otherwise), then, for each server
// in turn: starts it on a free loopback port, waits until it accepts, runs
// the load generator as a subprocess at each workload while sampling the
// server's CPU time (/proc/PID/stat) over the measured window and its RSS
// (/proc/PID/status) at the end, and stops it. The echo mode then starts
// each server afresh to measure the RSS added by many idle connections.
// The HTTP mode first checks the routes every HTTP server serves (GET
// /hello, POST /echo, GET /stream?n=3) with a net/http client, and needs
// wrk: when it is not on PATH, compare installs Debian's wrk with apt-get
// if it runs as root, and otherwise skips the HTTP mode with a note. The
// workloads are run in several rounds over all servers and each cell
// reports its median round. Every process it starts is in its own process
// group and is stopped on every way out, Ctrl-C included; an interrupted
// run writes nothing. It exits 1 if any measurement failed (the outputs are
// written regardless), 2 on bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	mode      string // "echo", "http" or "all"
	quick     bool
	out       string
	filter    string
	warmup    time.Duration
	duration  time.Duration
	idleConns int
	workloads []workload
	python    string
	cpus      int
	loadgenMP int
	rounds    int
	render    string
	httpConns []int  // wrk's -c of each HTTP workload
	wrk       string // the wrk binary
}

// echo and http report whether the mode includes the echo and the HTTP
// comparison.
func (o *options) echo() bool { return o.mode == "echo" || o.mode == "all" }
func (o *options) http() bool { return o.mode == "http" || o.mode == "all" }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "all", "what to compare: echo (the echo servers), http (the HTTP servers) or all")
	fs.BoolVar(&o.quick, "quick", false, "smoke mode: short windows, two echo workloads, 1,000 idle connections, HTTP at 100 connections only, output to a temp dir")
	fs.StringVar(&o.out, "out", "", "output `dir` (default docs/performance under the module root; a temp dir with -quick)")
	fs.StringVar(&o.filter, "servers", "", "comma-separated server name `prefixes` to run (default all)")
	fs.DurationVar(&o.warmup, "warmup", 0, "warm-up per workload (default 1s; 300ms with -quick; wrk's rounded up to whole seconds)")
	fs.DurationVar(&o.duration, "duration", 0, "measured window per workload (default 5s; 1s with -quick; wrk's rounded up to whole seconds)")
	fs.IntVar(&o.idleConns, "idle", 0, "idle connections for the memory test (default 10000; 1000 with -quick; -1 skips it)")
	wl := fs.String("workloads", "", "comma-separated `CONNSxSIZE[xINFLIGHT]` list (default 100x64,1000x64,100x4096; 100x64,100x4096 with -quick)")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter for the eventlet and gevent servers")
	fs.IntVar(&o.cpus, "cpus", runtime.NumCPU(), "CPU count for the many-core variants")
	fs.IntVar(&o.loadgenMP, "loadgen-procs", 0, "GOMAXPROCS for loadgen (0 = its default)")
	fs.StringVar(&o.render, "render", "", "measure nothing: re-render the tables and charts from an earlier `results.json` (into -out, default its directory)")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds over all servers; each cell reports its median round (default 3; 1 with -quick)")
	hc := fs.String("http-conns", "", "comma-separated wrk connection `counts` for the HTTP mode (default 100,1000; 100 with -quick)")
	fs.StringVar(&o.wrk, "wrk", "wrk", "the wrk `binary` for the HTTP mode")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	def := func(d *time.Duration, full, quick time.Duration) {
		if *d == 0 {
			*d = full
			if o.quick {
				*d = quick
			}
		}
	}
	def(&o.warmup, time.Second, 300*time.Millisecond)
	def(&o.duration, 5*time.Second, time.Second)
	if o.rounds == 0 {
		o.rounds = 3
		if o.quick {
			o.rounds = 1
		}
	}
	if o.idleConns == 0 {
		o.idleConns = 10000
		if o.quick {
			o.idleConns = 1000
		}
	}
	if *wl == "" {
		*wl = "100x64,1000x64,100x4096"
		if o.quick {
			*wl = "100x64,100x4096"
		}
	}
	var err error
	if o.workloads, err = parseWorkloads(*wl); err != nil {
		return nil, err
	}
	if *hc == "" {
		*hc = "100,1000"
		if o.quick {
			*hc = "100"
		}
	}
	if o.httpConns, err = parseCounts(*hc); err != nil {
		return nil, fmt.Errorf("-http-conns: %w", err)
	}
	switch o.mode {
	case "echo", "http", "all":
	default:
		return nil, fmt.Errorf("-mode %q: want echo, http or all", o.mode)
	}
	if o.warmup < 0 || o.duration <= 0 || o.cpus < 1 || o.rounds < 1 {
		return nil, errors.New("need -warmup >= 0, -duration > 0, -cpus >= 1, -rounds >= 1")
	}
	return o, nil
}

// parseWorkloads parses "100x64,1000x64x4".
func parseWorkloads(s string) ([]workload, error) {
	var ws []workload
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), "x")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("workload %q: want CONNSxSIZE[xINFLIGHT]", f)
		}
		n := make([]int, 3)
		n[2] = 1
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("workload %q: %q is not a positive number", f, p)
			}
			n[i] = v
		}
		ws = append(ws, workload{Conns: n[0], Size: n[1], Inflight: n[2]})
	}
	return ws, nil
}

// parseCounts parses "100,1000".
func parseCounts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		ns = append(ns, v)
	}
	return ns, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "compare:", err)
		}
		return 2
	}
	if o.render != "" {
		return render(o, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer stopAll()

	rep, err := compare(ctx, o, stderr)
	var skip *skipError
	if errors.As(err, &skip) {
		// Nothing to measure (-mode http without wrk): -quick, CI's run,
		// passes with the note; otherwise it is a failure.
		fmt.Fprintf(stderr, "compare: %v; nothing written\n", err)
		if o.quick {
			return 0
		}
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	if ctx.Err() != nil {
		// A partial run must not replace the last complete results.
		fmt.Fprintln(stderr, "compare: interrupted; nothing written")
		return 1
	}
	fmt.Fprint(stdout, rep.markdown())
	if err := rep.write(o.out); err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	fmt.Fprintf(stderr, "compare: wrote %s\n", o.out)
	if n := rep.failures(); n > 0 {
		fmt.Fprintf(stderr, "compare: %d measurements failed\n", n)
		return 1
	}
	return 0
}

// render re-renders the outputs of an earlier run from its results.json.
func render(o *options, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(o.render)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintf(stderr, "compare: %s: %v\n", o.render, err)
		return 1
	}
	if len(rep.Runs) > 0 {
		rep.aggregate()
	}
	if len(rep.HTTPRuns) > 0 {
		rep.aggregateHTTP()
	}
	if o.out == "" {
		o.out = filepath.Dir(o.render)
	}
	fmt.Fprint(stdout, rep.markdown())
	if err := rep.write(o.out); err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		return 1
	}
	fmt.Fprintf(stderr, "compare: wrote %s\n", o.out)
	return 0
}

// compare builds and runs everything and returns the report; an error means
// nothing could be measured.
func compare(ctx context.Context, o *options, log io.Writer) (*report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(log, "compare: "+format+"\n", a...) }

	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	if o.out == "" {
		if o.quick {
			if o.out, err = os.MkdirTemp("", "greenhub-compare-"); err != nil {
				return nil, err
			}
		} else {
			o.out = filepath.Join(root, "docs", "performance")
		}
	}
	tmp, err := os.MkdirTemp("", "greenhub-compare-bin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	scrub = strings.NewReplacer(tmp, "$BUILD", root+string(filepath.Separator), "", root, ".")

	var ss, hs []*server
	if o.echo() {
		ss = selectServers(servers(o.cpus), o.filter)
	}
	if o.http() {
		hs = selectServers(httpServers(o.cpus), o.filter)
	}
	if len(ss)+len(hs) == 0 {
		return nil, fmt.Errorf("no server matches -servers %q", o.filter)
	}
	if o.mode == "all" && o.filter != "" && (len(ss) == 0 || len(hs) == 0) {
		part := "echo"
		if len(hs) == 0 {
			part = "HTTP"
		}
		logf("no %s server matches -servers %q; the %s comparison is skipped", part, o.filter, part)
	}
	// wrk is looked for (and installed) first, so that a run does not
	// find it missing only after the echo comparison's minutes.
	var wrk, httpSkip string
	if len(hs) > 0 {
		if wrk, err = findWrk(ctx, o.wrk, log); err != nil {
			httpSkip = err.Error()
			if len(ss) == 0 {
				return nil, &skipError{"HTTP mode skipped: " + httpSkip}
			}
			logf("HTTP mode skipped: %s", httpSkip)
			hs = nil
		}
	}

	var lg string
	if len(ss) > 0 {
		logf("building loadgen and servers")
		if lg, err = goBuild(ctx, root, tmp, "./bench/cmd/loadgen"); err != nil {
			return nil, err
		}
		prepare(ctx, root, tmp, o.python, ss)
	}
	if len(hs) > 0 {
		logf("building the HTTP servers")
		prepare(ctx, root, tmp, o.python, hs)
	}

	rep := newReport(o, ss, hs)
	rep.HTTPSkip = httpSkip
	if len(ss) > 0 && o.idleConns > 0 {
		lim, err := raiseNofile()
		if err != nil {
			rep.note("could not raise RLIMIT_NOFILE: %v", err)
		}
		if need := uint64(o.idleConns) + 256; lim < need {
			rep.note("RLIMIT_NOFILE is %d, too low for %d idle connections; using %d", lim, o.idleConns, lim-256)
			o.idleConns = int(lim) - 256
			rep.IdleConns = o.idleConns
		}
	}
	if len(hs) > 0 {
		rep.WrkVersion = wrkVersion(ctx, wrk)
		// wrk and the servers need a descriptor per connection.
		if lim, err := raiseNofile(); err != nil {
			rep.note("could not raise RLIMIT_NOFILE: %v", err)
		} else if need := uint64(slices.Max(o.httpConns)) + 256; lim < need {
			rep.note("RLIMIT_NOFILE is %d, too low for %d HTTP connections", lim, need-256)
		}
	}
	var lgEnv []string
	if o.loadgenMP > 0 {
		lgEnv = append(lgEnv, fmt.Sprintf("GOMAXPROCS=%d", o.loadgenMP))
	}

	inRounds(ctx, o.rounds, ss, "", logf, func(s *server, round int) {
		cs := measureServer(ctx, s, root, lg, o, lgEnv, rep, logf)
		for i := range cs {
			cs[i].Round = round
		}
		rep.Runs = append(rep.Runs, cs...)
	})
	for _, s := range ss {
		if o.idleConns > 0 && ctx.Err() == nil && s.skip == "" {
			id := measureServerIdle(ctx, s, root, o.idleConns, rep)
			if id.Err != "" {
				logf("%s idle: %s", s.Name, id.Err)
			} else {
				logf("%s: %s idle connections, %.0f bytes of RSS each", s.Name, groupThousands(id.Conns), id.PerConn)
			}
			rep.Idle = append(rep.Idle, id)
		}
	}
	// The HTTP comparison comes last: the echo servers' idle test above
	// needs no wrk, and a run without it has its echo results complete.
	inRounds(ctx, o.rounds, hs, "HTTP ", logf, func(s *server, round int) {
		cs := measureHTTPServer(ctx, s, root, wrk, o, rep, logf)
		for i := range cs {
			cs[i].Round = round
		}
		rep.HTTPRuns = append(rep.HTTPRuns, cs...)
	})
	rep.aggregate()
	rep.aggregateHTTP()
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// inRounds calls measure for each server that is not skipped, round after
// round. Rounds go over every server in turn, so that a slow spell of a
// shared machine hits all servers alike rather than one.
func inRounds(ctx context.Context, rounds int, ss []*server, what string, logf func(string, ...any),
	measure func(s *server, round int)) {
	for round := 1; round <= rounds && ctx.Err() == nil; round++ {
		for _, s := range ss {
			if ctx.Err() != nil {
				break
			}
			if s.skip != "" {
				if round == 1 {
					logf("skipping %s: %s", s.Name, s.skip)
				}
				continue
			}
			if rounds > 1 {
				logf("%sround %d/%d: %s", what, round, rounds, s.Name)
			}
			measure(s, round)
		}
	}
}

// skipError says that compare had nothing it could measure, and why.
type skipError struct{ why string }

func (e *skipError) Error() string { return e.why }

// measureServer runs every workload against one fresh instance of s.
func measureServer(ctx context.Context, s *server, root, lg string, o *options, lgEnv []string, rep *report,
	logf func(string, ...any)) []cell {
	fail := func(err error) []cell {
		var cs []cell
		for _, w := range o.workloads {
			cs = append(cs, cell{Server: s.Name, Workload: w, Err: err.Error()})
		}
		logf("%s: %v", s.Name, err)
		return cs
	}
	addr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	p, err := s.start(ctx, root, addr)
	if errors.Is(err, errUsage) {
		// This build of the server does not take these flags (say, a
		// server that supports one hub only): a skip, not a failure.
		s.skip = err.Error()
		rep.skip(s.Name, s.skip)
		logf("skipping %s: %s", s.Name, s.skip)
		return nil
	}
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := p.stop(5 * time.Second); err != nil {
			rep.note("stopping %s: %v", s.Name, err)
		}
	}()
	var cs []cell
	for _, w := range o.workloads {
		if ctx.Err() != nil {
			break
		}
		c := runLoadgen(ctx, lg, p, addr, w, o.warmup, o.duration, lgEnv)
		if c.Err != "" {
			logf("%s %v: FAILED: %s", s.Name, w, c.Err)
		} else {
			logf("%-16s %-22v %9.0f msgs/s  p99 %8v  CPU %6.2fs  %6.2f µs/msg",
				s.Name, w, c.Result.MsgsPerSec, c.Result.Latency.P99.Round(time.Microsecond),
				c.CPU.Seconds(), float64(c.CPUPerMsg)/1e3)
		}
		cs = append(cs, c)
		if p.exited() {
			for _, w2 := range o.workloads[len(cs):] {
				cs = append(cs, cell{Server: s.Name, Workload: w2, Err: "server had exited"})
			}
			break
		}
	}
	return cs
}

// measureServerIdle measures the RSS per idle connection on a fresh
// instance of s, so that memory left over from the workloads does not
// hide the growth.
func measureServerIdle(ctx context.Context, s *server, root string, n int, rep *report) idle {
	addr, err := freeAddr()
	if err != nil {
		return idle{Server: s.Name, Conns: n, Err: err.Error()}
	}
	p, err := s.start(ctx, root, addr)
	if err != nil {
		return idle{Server: s.Name, Conns: n, Err: err.Error()}
	}
	defer func() {
		if err := p.stop(5 * time.Second); err != nil {
			rep.note("stopping %s after the idle test: %v", s.Name, err)
		}
	}()
	return measureIdle(ctx, p, addr, n)
}
