package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/bench/loadgen"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if procHelper() {
		return
	}
	goleak.VerifyTestMain(m)
}

func TestParseWorkloads(t *testing.T) {
	tests := []struct {
		in      string
		want    []workload
		wantErr bool
	}{
		{in: "100x64", want: []workload{{100, 64, 1}}},
		{in: "100x64, 1000x64x4", want: []workload{{100, 64, 1}, {1000, 64, 4}}},
		{in: "100", wantErr: true},
		{in: "100x0", wantErr: true},
		{in: "axb", wantErr: true},
		{in: "1x2x3x4", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseWorkloads(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseWorkloads(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !equalWorkloads(got, tt.want) {
			t.Errorf("parseWorkloads(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func equalWorkloads(a, b []workload) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseFlagsDefaults(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		warmup, window time.Duration
		idle           int
		workloads      int
	}{
		{name: "full", warmup: time.Second, window: 5 * time.Second, idle: 10000, workloads: 3},
		{name: "quick", args: []string{"-quick"}, warmup: 300 * time.Millisecond, window: time.Second, idle: 1000, workloads: 2},
		{name: "quick with overrides", args: []string{"-quick", "-duration", "3s", "-idle", "-1", "-workloads", "10x10"},
			warmup: 300 * time.Millisecond, window: 3 * time.Second, idle: -1, workloads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if o.warmup != tt.warmup || o.duration != tt.window || o.idleConns != tt.idle || len(o.workloads) != tt.workloads {
				t.Errorf("got warmup %v duration %v idle %d workloads %v", o.warmup, o.duration, o.idleConns, o.workloads)
			}
		})
	}
	for _, bad := range [][]string{
		{"-duration", "-1s"},
		{"extra"},
		{"-mode", "ftp"},
		{"-http-conns", "100,0"},
		{"-http-conns", "many"},
	} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestParseFlagsHTTP(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		mode       string
		echo, http bool
		conns      []int
		wrk        string
	}{
		{name: "default", mode: "all", echo: true, http: true, conns: []int{100, 1000}, wrk: "wrk"},
		{name: "quick", args: []string{"-quick"}, mode: "all", echo: true, http: true, conns: []int{100}, wrk: "wrk"},
		{name: "echo", args: []string{"-mode", "echo"}, mode: "echo", echo: true, conns: []int{100, 1000}, wrk: "wrk"},
		{name: "http with counts", args: []string{"-mode", "http", "-http-conns", "10, 20,30", "-wrk", "/opt/wrk"},
			mode: "http", http: true, conns: []int{10, 20, 30}, wrk: "/opt/wrk"},
		{name: "quick with counts", args: []string{"-quick", "-http-conns", "1000"}, mode: "all", echo: true, http: true, conns: []int{1000}, wrk: "wrk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if o.mode != tt.mode || o.echo() != tt.echo || o.http() != tt.http || !slices.Equal(o.httpConns, tt.conns) || o.wrk != tt.wrk {
				t.Errorf("got mode %q (echo %v, http %v), http conns %v, wrk %q", o.mode, o.echo(), o.http(), o.httpConns, o.wrk)
			}
		})
	}
}

func TestSelectServers(t *testing.T) {
	all := servers(4)
	names := func(ss []*server) string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	tests := []struct{ filter, want string }{
		{"", "greenhub,greenhub-4hubs,greenhub-4hubs-handoff,greenhub-4workers,gnet-1loop,gnet-4loops,stdlib-P1,stdlib-P4,eventlet,gevent"},
		{"gnet", "gnet-1loop,gnet-4loops"},
		{"greenhub, stdlib-P1", "greenhub,greenhub-4hubs,greenhub-4hubs-handoff,greenhub-4workers,stdlib-P1"},
		{"greenhub-4hubs", "greenhub-4hubs,greenhub-4hubs-handoff"},
		{"nothing", ""},
	}
	for _, tt := range tests {
		if got := names(selectServers(all, tt.filter)); got != tt.want {
			t.Errorf("selectServers(%q) = %s, want %s", tt.filter, got, tt.want)
		}
	}
	allHTTP := httpServers(4)
	for _, tt := range []struct{ filter, want string }{
		{"", "greenhttp,greenhttp-4hubs,nethttp-1p,nethttp-4p,eventlet.wsgi,gevent.pywsgi"},
		{"nethttp,eventlet,gevent", "nethttp-1p,nethttp-4p,eventlet.wsgi,gevent.pywsgi"},
		{"greenhub,gnet", ""},
	} {
		if got := names(selectServers(allHTTP, tt.filter)); got != tt.want {
			t.Errorf("selectServers(httpServers, %q) = %s, want %s", tt.filter, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{groupThousands(0), "0"},
		{groupThousands(999), "999"},
		{groupThousands(1000), "1,000"},
		{groupThousands(1234567), "1,234,567"},
		{fmtDur(0), "—"},
		{fmtDur(512 * time.Microsecond), "512 µs"},
		{fmtDur(5123 * time.Microsecond), "5.12 ms"},
		{fmtDur(51230 * time.Microsecond), "51.2 ms"},
		{fmtDur(1500 * time.Millisecond), "1.50 s"},
		{fmtBytes(3 << 20), "3.0 MiB"},
		{ratio(3, 2), "1.50"},
		{ratio(0, 2), "—"},
		{workload{100, 4096, 1}.String(), "100 conns × 4 KiB"},
		{workload{1000, 64, 4}.String(), "1,000 conns × 64 B, 4 in flight"},
		{oneLine("a |\n b"), `a \| b`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// syntheticReport is a report with made-up numbers: greenhub does 50,000
// msgs/s at 8 µs of CPU per message, gnet 40,000 at 10 µs, eventlet 15,000
// at 40 µs; stdlib's cell failed.
func syntheticReport() *report {
	w := workload{100, 64, 1}
	mk := func(server string, msgs float64, cpuPerMsg time.Duration, p99 time.Duration) cell {
		n := int64(msgs * 10)
		return cell{
			Server: server, Workload: w,
			Result: &loadgen.Result{Conns: 100, Size: 64, Inflight: 1, Window: 10 * time.Second,
				Msgs: n, MsgsPerSec: msgs, MBPerSec: msgs * 64 / 1e6,
				Latency: loadgen.Latency{Count: n, P50: p99 / 3, P99: p99, P999: 2 * p99, Max: 3 * p99}},
			CPU: cpuPerMsg * time.Duration(n), CPUPerMsg: cpuPerMsg, CPUOK: true, RSS: 8 << 20,
			User: cpuPerMsg / 4 * time.Duration(n), UserPerMsg: cpuPerMsg / 4,
		}
	}
	return &report{
		Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), CPU: "Test CPU", Cores: 2, Kernel: "Linux test",
		GoVersion: "go1.x", Warmup: 2 * time.Second, Duration: 10 * time.Second, IdleConns: 10000,
		Workloads: []workload{w},
		Servers: []serverInfo{{Name: "greenhub"}, {Name: "gnet-1loop"}, {Name: "stdlib-P1"}, {Name: "eventlet"},
			{Name: "gevent", Skip: "not installed"}},
		Rounds: 3,
		Runs: []cell{
			round(1, mk("greenhub", 45000, 9*time.Microsecond, 5*time.Millisecond)),
			round(2, mk("greenhub", 55000, 7*time.Microsecond, 3*time.Millisecond)),
			round(3, mk("greenhub", 50000, 8*time.Microsecond, 4*time.Millisecond)),
			round(1, mk("gnet-1loop", 40000, 10*time.Microsecond, 5*time.Millisecond)),
			round(1, mk("stdlib-P1", 30000, 10*time.Microsecond, 5*time.Millisecond)),
			{Round: 2, Server: "stdlib-P1", Workload: w, Err: "loadgen: exit status 1: boom"},
			round(1, mk("eventlet", 15000, 40*time.Microsecond, 20*time.Millisecond)),
		},
		Idle: []idle{
			{Server: "greenhub", Conns: 10000, Before: 5 << 20, After: 5<<20 + 30000000, PerConn: 3000},
			{Server: "stdlib-P1", Conns: 10000, Before: 5 << 20, After: 5<<20 + 90000000, PerConn: 9000},
		},
	}
}

func round(n int, c cell) cell {
	c.Round = n
	return c
}

func TestMarkdown(t *testing.T) {
	r := syntheticReport()
	r.aggregate()
	md := r.markdown()
	for _, want := range []string{
		"| greenhub | 50,000 | 45.0k–55.0k | 3.20 | 1.33 ms | 4.00 ms | 8.00 ms | 4.00 s | 8.00 µs | 2.00 µs | 8.0 MiB | 1.00 | 1.00 |",
		"| gnet-1loop | 40,000 | 40.0k–40.0k | 2.56 | 1.67 ms | 5.00 ms | 10.0 ms | 4.00 s | 10.00 µs | 2.50 µs | 8.0 MiB | 1.25 | 1.25 |",
		"| stdlib-P1 | FAILED: round 2: loadgen: exit status 1: boom |",
		"| msgs/s ≥ 1.0× gnet-1loop and CPU/msg ≤ 1.0× its, 100 conns × 64 B | 1.25×, CPU/msg 0.80× | yes |",
		"| msgs/s ≥ 2.5× eventlet and CPU/msg ≤ 0.2× its, 100 conns × 64 B | 3.33×, CPU/msg 0.20× | yes |",
		"| msgs/s ≥ 2.5× gevent and CPU/msg ≤ 0.2× its, 100 conns × 64 B | — | — |",
		"| msgs/s ≥ 1.0× stdlib-P1, 100 conns × 64 B | — | — |",
		"| p99 ≤ gnet-1loop's, 100 conns × 64 B | 4.00 ms vs 5.00 ms | yes |",
		"| RSS per idle connection ≤ stdlib-P1's | 3000 B vs 9000 B | yes |",
		"| stretch: RSS per idle connection ≤ 4 KiB | 3000 B | yes |",
		"| greenhub | 5.0 MiB | 33.6 MiB | 3,000 | 1.00 |",
		"- **gevent** (): skipped: not installed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks\n%s\nin\n%s", want, md)
		}
	}
}

// TestMarkdownMulti checks issue 12's goals for greenhub with one hub per
// CPU against gnet and stdlib with as many.
func TestMarkdownMulti(t *testing.T) {
	r := syntheticReport()
	r.CPUs = 2
	w := r.Workloads[0]
	mk := func(server string, msgs float64, cpuPerMsg, p99 time.Duration) cell {
		n := int64(msgs * 10)
		return cell{Server: server, Workload: w, Round: 1,
			Result: &loadgen.Result{Msgs: n, MsgsPerSec: msgs, Latency: loadgen.Latency{Count: n, P99: p99}},
			CPU:    cpuPerMsg * time.Duration(n), CPUPerMsg: cpuPerMsg, CPUOK: true}
	}
	r.Servers = append(r.Servers, serverInfo{Name: "greenhub-2hubs"}, serverInfo{Name: "gnet-2loops"}, serverInfo{Name: "stdlib-P2"})
	r.Runs = append(r.Runs,
		mk("greenhub-2hubs", 66000, 11*time.Microsecond, 3*time.Millisecond),
		mk("gnet-2loops", 60000, 12*time.Microsecond, 4*time.Millisecond),
		mk("stdlib-P2", 70000, 13*time.Microsecond, 2*time.Millisecond))
	r.aggregate()
	md := r.markdown()
	for _, want := range []string{
		"### Goals of issue 12 (greenhub-2hubs: greenhub with one hub per CPU)",
		"| msgs/s ≥ 1.0× gnet-2loops, 100 conns × 64 B | 1.10× | yes |",
		"| msgs/s ≥ 1.0× stdlib-P2, 100 conns × 64 B | 0.94× | **no** |",
		"| p99 ≤ gnet-2loops's, 100 conns × 64 B | 3.00 ms vs 4.00 ms | yes |",
		"| CPU/msg ≤ gnet-2loops's, 100 conns × 64 B | 0.92× (11.00 µs vs 12.00 µs) | yes |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks\n%s\nin\n%s", want, md)
		}
	}
	// Without the multi-hub server the table is left out.
	if md := syntheticReport().markdown(); strings.Contains(md, "issue 12") {
		t.Errorf("issue 12's goals without greenhub-2hubs:\n%s", md)
	}
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	r := syntheticReport()
	r.aggregate()
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "results.json", "throughput.svg", "cpu_per_msg.svg", "latency_p99.svg", "memory_per_conn.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".svg") && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is not an SVG", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	var back report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.markdown() != r.markdown() {
		t.Error("results.json does not round-trip to the same table")
	}

	// -render re-renders the same table from results.json.
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-render", filepath.Join(dir, "results.json"), "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("-render: exit %d: %s", code, &stderr)
	}
	if stdout.String() != r.markdown() {
		t.Error("-render printed a different table")
	}
	if _, err := os.Stat(filepath.Join(out, "throughput.svg")); err != nil {
		t.Error(err)
	}
}

func TestProcStats(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux-only")
	}
	pid := os.Getpid()
	end := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(end) { // burn a little CPU
	}
	user, sys, err := cpuTime(pid)
	if err != nil || user+sys <= 0 || user < 0 || sys < 0 {
		t.Errorf("cpuTime = %v, %v, %v", user, sys, err)
	}
	n, err := rss(pid)
	if err != nil || n < 1<<20 {
		t.Errorf("rss = %d, %v", n, err)
	}
	if cpu, kernel := machineInfo(); cpu == "" || !strings.HasPrefix(kernel, "Linux") {
		t.Errorf("machineInfo = %q, %q", cpu, kernel)
	}
}

// TestQuickGoPeers runs compare end to end, bounded, against the Go peers
// only (they need nothing but the Go toolchain): it builds, starts and
// stops the servers, runs loadgen, measures idle connections and writes
// the table and charts.
func TestQuickGoPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs servers; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("CPU and RSS figures need /proc")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"-quick", "-servers", "gnet-1loop,stdlib-P1", "-out", dir,
		"-warmup", "100ms", "-duration", "500ms", "-idle", "200", "-workloads", "20x64,10x4096x4"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, &stderr, &stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### 20 conns × 64 B", "### 10 conns × 4 KiB, 4 in flight", "| gnet-1loop | ", "| stdlib-P1 | ", "200 connections"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "FAILED") {
		t.Errorf("a measurement failed:\n%s", md)
	}
	if len(live.m) != 0 {
		t.Errorf("%d server processes still running", len(live.m))
	}
}

// TestQuickGreenhubMulti runs compare end to end, bounded, against
// greenhub's many-core variants: several hubs with each way of spreading
// connections, and worker processes, whose CPU time must be counted (the
// parent of the workers does nothing).
func TestQuickGreenhubMulti(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs servers; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("CPU and RSS figures need /proc")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"-mode", "echo", "-cpus", "2", "-servers", "greenhub-2", "-out", dir, "-rounds", "1",
		"-warmup", "100ms", "-duration", "500ms", "-idle", "200", "-workloads", "20x64"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, &stderr, &stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"greenhub-2hubs", "greenhub-2hubs-handoff", "greenhub-2workers"} {
		c := rep.cell(name, workload{20, 64, 1})
		if c == nil {
			t.Errorf("%s: no measurement:\n%s", name, &stdout)
			continue
		}
		// Echoing costs at least a read and a write per message, a few µs.
		if !c.CPUOK || c.CPUPerMsg < time.Microsecond {
			t.Errorf("%s: CPU per message %v (ok %v): the workers' CPU is not counted", name, c.CPUPerMsg, c.CPUOK)
		}
		if rep.idleOf(name) == nil {
			t.Errorf("%s: no idle memory measurement", name)
		}
	}
	if len(live.m) != 0 {
		t.Errorf("%d server processes still running", len(live.m))
	}
}

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file string
		want wrkResult
	}{
		{file: "wrk_nethttp_c100.txt", want: wrkResult{
			Requests: 54447, Runtime: time.Second, ReqPerSec: 54313.17, LatencyAvg: 1880 * time.Microsecond,
			P50: 1850 * time.Microsecond, P75: 2610 * time.Microsecond, P90: 3270 * time.Microsecond, P99: 5190 * time.Microsecond}},
		{file: "wrk_eventlet_c1000.txt", want: wrkResult{
			Requests: 9936, Runtime: 1070 * time.Millisecond, ReqPerSec: 9318.79, LatencyAvg: 94310 * time.Microsecond,
			P50: 90760 * time.Microsecond, P75: 119780 * time.Microsecond, P90: 149640 * time.Microsecond, P99: 209370 * time.Microsecond}},
		{file: "wrk_socket_errors.txt", want: wrkResult{
			Requests: 40995, Runtime: 1010 * time.Millisecond, ReqPerSec: 40731.43, LatencyAvg: 1210 * time.Microsecond,
			P50: 1210 * time.Microsecond, P75: 1750 * time.Microsecond, P90: 2100 * time.Microsecond, P99: 2670 * time.Microsecond,
			Read: 103, Write: 26724}},
		{file: "wrk_non2xx.txt", want: wrkResult{
			Requests: 70324, Runtime: time.Second, ReqPerSec: 70156.82, LatencyAvg: 1480 * time.Microsecond,
			P50: 1420 * time.Microsecond, P75: 2030 * time.Microsecond, P90: 2500 * time.Microsecond, P99: 5490 * time.Microsecond,
			Non2xx: 70324}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseWrk(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("parseWrk =\n%+v, want\n%+v", *got, tt.want)
			}
		})
	}

	good, err := os.ReadFile(filepath.Join("testdata", "wrk_nethttp_c100.txt"))
	if err != nil {
		t.Fatal(err)
	}
	without := func(line string) string { return strings.Replace(string(good), line, "", 1) }
	for _, bad := range []struct{ name, out string }{
		{name: "empty", out: ""},
		{name: "connect failure", out: "unable to connect to 127.0.0.1:1 Connection refused\n"},
		{name: "no --latency", out: without("     99%    5.19ms\n")},
		{name: "no total", out: without("  54447 requests in 1.00s, 5.97MB read\n")},
		{name: "no rate", out: without("Requests/sec:  54313.17\n")},
		{name: "bad percentile", out: strings.Replace(string(good), "5.19ms", "5.19parsecs", 1)},
		{name: "bad socket errors", out: string(good) + "  Socket errors: connect 0, lost 3\n"},
	} {
		if r, err := parseWrk(bad.out); err == nil {
			t.Errorf("%s: parseWrk = %+v, want an error", bad.name, r)
		}
	}
}

func TestWrkUnits(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"674.42us", 674420 * time.Nanosecond},
		{"1.85ms", 1850 * time.Microsecond},
		{"1.02s", 1020 * time.Millisecond},
		{"1.50m", 90 * time.Second},
		{"2.00h", 2 * time.Hour},
		{"0.00us", 0},
	} {
		got, err := parseWrkDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "ms", "1.0", "-1.0ms", "nanus", "1.0 ms"} {
		if got, err := parseWrkDuration(bad); err == nil {
			t.Errorf("parseWrkDuration(%q) = %v, want an error", bad, got)
		}
	}
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{0, "1s"}, {300 * time.Millisecond, "1s"}, {time.Second, "1s"}, {1001 * time.Millisecond, "2s"}, {5 * time.Second, "5s"},
	} {
		if got := wrkSeconds(tt.in); got != tt.want {
			t.Errorf("wrkSeconds(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// syntheticHTTPReport is an HTTP-only report with made-up numbers: at 100
// connections greenhttp's median round does 65,000 req/s at 8 µs of CPU
// per request, nethttp-1p 50,000 at 10 µs, eventlet.wsgi 12,000 at 60 µs;
// at 1,000 connections greenhttp 40,000 with a p99 worse than
// nethttp-1p's, eventlet.wsgi was not measured and nethttp-2p failed.
func syntheticHTTPReport() *report {
	mk := func(round int, server string, conns int, reqs float64, cpuPerReq, p99 time.Duration) httpCell {
		n := int64(reqs * 10)
		return httpCell{
			Server: server, Conns: conns, Round: round,
			Wrk: &wrkResult{Requests: n, Runtime: 10 * time.Second, ReqPerSec: reqs,
				LatencyAvg: p99 / 4, P50: p99 / 3, P75: p99 / 2, P90: p99 * 2 / 3, P99: p99},
			CPU: cpuPerReq * time.Duration(n), CPUPerReq: cpuPerReq, CPUOK: true, RSS: 8 << 20,
			User: cpuPerReq / 4 * time.Duration(n), UserPerReq: cpuPerReq / 4, Wall: 10 * time.Second,
		}
	}
	withErrors := func(c httpCell) httpCell { c.Wrk.Read = 3; return c }
	return &report{
		Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), CPU: "Test CPU", Cores: 2, Kernel: "Linux test",
		GoVersion: "go1.x", Warmup: 2 * time.Second, Duration: 10 * time.Second, Rounds: 3, Mode: "http",
		WrkVersion: "wrk test/4.1.0",
		HTTPConns:  []int{100, 1000},
		HTTPServers: []serverInfo{{Name: "greenhttp", Desc: "green"}, {Name: "nethttp-1p"}, {Name: "nethttp-2p"},
			{Name: "eventlet.wsgi"}, {Name: "gevent.pywsgi", Skip: "cannot import gevent.pywsgi"}},
		HTTPRuns: []httpCell{
			mk(1, "greenhttp", 100, 60000, 9*time.Microsecond, 5*time.Millisecond),
			mk(2, "greenhttp", 100, 70000, 7*time.Microsecond, 3*time.Millisecond),
			withErrors(mk(3, "greenhttp", 100, 65000, 8*time.Microsecond, 4*time.Millisecond)),
			mk(1, "nethttp-1p", 100, 50000, 10*time.Microsecond, 5*time.Millisecond),
			mk(1, "nethttp-2p", 100, 55000, 11*time.Microsecond, 6*time.Millisecond),
			mk(1, "eventlet.wsgi", 100, 12000, 60*time.Microsecond, 20*time.Millisecond),
			mk(1, "greenhttp", 1000, 40000, 12*time.Microsecond, 50*time.Millisecond),
			mk(1, "nethttp-1p", 1000, 30000, 15*time.Microsecond, 40*time.Millisecond),
			{Round: 1, Server: "nethttp-2p", Conns: 1000, Err: "wrk: exit status 1: unable to connect"},
		},
	}
}

func TestHTTPMarkdown(t *testing.T) {
	r := syntheticHTTPReport()
	r.aggregateHTTP()
	md := r.markdown()
	for _, want := range []string{
		"2026-01-02 03:04 UTC, full run. Test CPU, 2 cores, Linux test, go1.x.\n\n### HTTP\n\ngreenhub's greenhttp against",
		"(wrk test/4.1.0)", "Each run: a 2s warm-up run of wrk, then a 10s measured run",
		"### HTTP, GET /hello, 100 conns\n",
		"| server | req/s | range | p50 | p99 | server CPU | CPU/req | user/req | RSS | errors | req/s ÷ nethttp-1p | CPU/req ÷ nethttp-1p | p99 ÷ nethttp-1p | req/s ÷ eventlet.wsgi |",
		"| greenhttp | 65,000 | 60.0k–70.0k | 1.33 ms | 4.00 ms | 5.20 s | 8.00 µs | 2.00 µs | 8.0 MiB | 3 | 1.30 | 0.80 | 0.80 | 5.42 |",
		"| nethttp-1p | 50,000 | 50.0k–50.0k | 1.67 ms | 5.00 ms | 5.00 s | 10.00 µs | 2.50 µs | 8.0 MiB | 0 | 1.00 | 1.00 | 1.00 | 4.17 |",
		"| eventlet.wsgi | 12,000 | 12.0k–12.0k | 6.67 ms | 20.0 ms | 7.20 s | 60.00 µs | 15.00 µs | 8.0 MiB | 0 | 0.24 | 6.00 | 4.00 | 1.00 |",
		"### HTTP, GET /hello, 1,000 conns\n",
		"| greenhttp | 40,000 | 40.0k–40.0k | 16.7 ms | 50.0 ms | 4.80 s | 12.00 µs | 3.00 µs | 8.0 MiB | 0 | 1.33 | 0.80 | 1.25 | — |",
		"| nethttp-2p | FAILED: round 1: wrk: exit status 1: unable to connect |",
		"### Goals for greenhttp (HTTP, GET /hello)\n",
		"| req/s ≥ 1.3× nethttp-1p, 100 conns | 1.30× | yes |",
		"| server CPU/req ≤ 0.75× nethttp-1p's, 100 conns | 0.80× (8.00 µs vs 10.00 µs) | **no** |",
		"| p99 ≤ nethttp-1p's, 100 conns | 4.00 ms vs 5.00 ms | yes |",
		"| req/s ≥ 5× eventlet.wsgi, 100 conns | 5.42× | yes |",
		"| req/s ≥ 1.3× nethttp-1p, 1,000 conns | 1.33× | yes |",
		"| p99 ≤ nethttp-1p's, 1,000 conns | 50.0 ms vs 40.0 ms | **no** |",
		"| req/s ≥ 5× eventlet.wsgi, 1,000 conns | — | — |",
		"### HTTP servers\n\n- **greenhttp**: green\n",
		"- **gevent.pywsgi** (): skipped: cannot import gevent.pywsgi",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks\n%s\nin\n%s", want, md)
		}
	}
	for _, unwanted := range []string{"msgs/s", "Goals of issue 6", "### Servers", "| gevent.pywsgi |"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("HTTP-only markdown has %q:\n%s", unwanted, md)
		}
	}
	if got := r.failures(); got != 1 {
		t.Errorf("failures() = %d, want 1", got)
	}
}

// TestMarkdownBothModes renders a run of both modes: the echo part first,
// unchanged, then the HTTP part, then the notes; and a run whose HTTP mode
// was skipped.
func TestMarkdownBothModes(t *testing.T) {
	echo := syntheticReport()
	echo.aggregate()
	echoMD := echo.markdown()

	both := syntheticReport()
	h := syntheticHTTPReport()
	both.Mode, both.WrkVersion = "all", h.WrkVersion
	both.HTTPConns, both.HTTPServers, both.HTTPRuns = h.HTTPConns, h.HTTPServers, h.HTTPRuns
	both.note("a note")
	both.aggregate()
	both.aggregateHTTP()
	md := both.markdown()
	if !strings.HasPrefix(md, echoMD) {
		t.Errorf("the echo part changed:\n%s\nwant it to start with\n%s", md, echoMD)
	}
	rest := strings.TrimPrefix(md, echoMD)
	if !strings.HasPrefix(rest, "\n### HTTP\n\ngreenhub's greenhttp against") || !strings.HasSuffix(rest, "\nNotes:\n\n- a note\n") {
		t.Errorf("after the echo part:\n%s", rest)
	}
	if strings.Contains(rest, "Test CPU") {
		t.Errorf("the HTTP part repeats the machine line:\n%s", rest)
	}

	skipped := syntheticReport()
	skipped.HTTPSkip = "wrk is not installed (Debian: apt-get install wrk)"
	skipped.aggregate()
	if got, want := skipped.markdown(), echoMD+"\n### HTTP\n\nSkipped: wrk is not installed (Debian: apt-get install wrk)\n"; got != want {
		t.Errorf("with the HTTP mode skipped:\n%s\nwant\n%s", got, want)
	}
}

func TestWriteHTTPReport(t *testing.T) {
	dir := t.TempDir()
	r := syntheticHTTPReport()
	r.aggregateHTTP()
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"http_throughput.svg", "http_latency_p99.svg", "http_cpu_per_req.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("greenhttp")) {
			t.Errorf("%s is not an SVG with greenhttp's bars", f)
		}
	}
	for _, f := range []string{"throughput.svg", "memory_per_conn.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("an HTTP-only run wrote the echo chart %s", f)
		}
	}
	// -render re-renders the same tables from results.json.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-render", filepath.Join(dir, "results.json"), "-out", t.TempDir()}, &stdout, &stderr); code != 0 {
		t.Fatalf("-render: exit %d: %s", code, &stderr)
	}
	if stdout.String() != r.markdown() {
		t.Errorf("-render printed\n%s\nwant\n%s", &stdout, r.markdown())
	}
}

// contractHandler serves the HTTP contract, or breaks it as told.
func contractHandler(break_ string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if break_ == "html" {
			w.Header().Set("Content-Type", "text/html")
		}
		body := "Hello, World!"
		if break_ == "newline" {
			body += "\n"
		}
		io.WriteString(w, body)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if break_ == "chunked" && len(r.TransferEncoding) > 0 {
			http.Error(w, "chunked bodies not supported", http.StatusLengthRequired)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if break_ == "truncate" {
			b = b[:len(b)/2]
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if break_ == "short stream" {
			n--
		}
		for range n {
			w.Write(bytes.Repeat([]byte("x"), 1024))
			w.(http.Flusher).Flush()
		}
	})
	return mux
}

func TestCheckHTTP(t *testing.T) {
	tests := []struct {
		break_  string
		wantErr string
	}{
		{break_: ""},
		{break_: "newline", wantErr: "GET /hello: body is 14 bytes"},
		{break_: "html", wantErr: `GET /hello: Content-Type "text/html"`},
		{break_: "truncate", wantErr: "POST /echo: body is 32768 bytes"},
		{break_: "chunked", wantErr: "POST /echo: status 411"},
		{break_: "short stream", wantErr: "GET /stream?n=3: body is 2048 bytes, want 3072"},
	}
	for _, tt := range tests {
		t.Run(tt.break_, func(t *testing.T) {
			srv := httptest.NewServer(contractHandler(tt.break_))
			defer srv.Close()
			err := checkHTTP(context.Background(), srv.URL)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("checkHTTP: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("checkHTTP error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// TestHTTPWithoutWrk: without wrk the HTTP mode is skipped with a note;
// -quick (CI) passes, a full run fails, and neither writes anything.
func TestHTTPWithoutWrk(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{args: []string{"-quick"}, code: 0},
		{args: nil, code: 1},
	} {
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		args := append(tt.args, "-mode", "http", "-servers", "nethttp-1p", "-wrk", filepath.Join(dir, "no-wrk"), "-out", dir)
		if code := run(context.Background(), args, &stdout, &stderr); code != tt.code {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s", args, code, tt.code, &stderr)
		}
		if !strings.Contains(stderr.String(), "HTTP mode skipped") {
			t.Errorf("%q: stderr lacks the note:\n%s", args, &stderr)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Errorf("%q wrote %v", args, files)
		}
	}
}

// TestQuickHTTP runs the HTTP mode end to end, bounded, against the
// net/http peer with one thread.
func TestQuickHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("CPU and RSS figures need /proc")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"-quick", "-mode", "http", "-servers", "nethttp-1p", "-out", dir,
		"-duration", "1s", "-http-conns", "20"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s\nstdout:\n%s", code, &stderr, &stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### HTTP, GET /hello, 20 conns", "| nethttp-1p | ", "Each run: a 1s warm-up run of wrk, then a 1s measured run"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "FAILED") {
		t.Errorf("a measurement failed:\n%s", md)
	}
	for _, f := range []string{"http_throughput.svg", "http_latency_p99.svg", "http_cpu_per_req.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if len(live.m) != 0 {
		t.Errorf("%d server processes still running", len(live.m))
	}
}
