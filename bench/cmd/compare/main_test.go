package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/bench/loadgen"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
	if _, err := parseFlags([]string{"-duration", "-1s"}, &bytes.Buffer{}); err == nil {
		t.Error("negative duration accepted")
	}
	if _, err := parseFlags([]string{"extra"}, &bytes.Buffer{}); err == nil {
		t.Error("stray argument accepted")
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
		{"", "greenhub,greenhub-4hubs,gnet-1loop,gnet-4loops,stdlib-P1,stdlib-P4,eventlet,gevent"},
		{"gnet", "gnet-1loop,gnet-4loops"},
		{"greenhub, stdlib-P1", "greenhub,greenhub-4hubs,stdlib-P1"},
		{"nothing", ""},
	}
	for _, tt := range tests {
		if got := names(selectServers(all, tt.filter)); got != tt.want {
			t.Errorf("selectServers(%q) = %s, want %s", tt.filter, got, tt.want)
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
