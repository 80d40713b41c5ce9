package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what compare reads from the output of one wrk run with
// --latency.
type wrkResult struct {
	Requests   int64         `json:"requests"`       // "N requests in D, B read"
	Runtime    time.Duration `json:"runtime_ns"`     // the D of that line
	ReqPerSec  float64       `json:"req_per_sec"`    // "Requests/sec:"
	LatencyAvg time.Duration `json:"latency_avg_ns"` // the Latency row of "Thread Stats"
	P50        time.Duration `json:"p50_ns"`         // "Latency Distribution"
	P75        time.Duration `json:"p75_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	// Socket errors, all 0 when wrk prints no "Socket errors:" line.
	Connect int64 `json:"connect_errors"`
	Read    int64 `json:"read_errors"`
	Write   int64 `json:"write_errors"`
	Timeout int64 `json:"timeouts"`
	// Non2xx counts the responses with a status outside 200–399.
	Non2xx int64 `json:"non_2xx"`
}

// socketErrors is the sum of wrk's socket error counts.
func (w *wrkResult) socketErrors() int64 { return w.Connect + w.Read + w.Write + w.Timeout }

// parseWrk parses the report wrk 4 prints with --latency:
//
//	Running 1s test @ http://127.0.0.1:8080/hello
//	  1 threads and 100 connections
//	  Thread Stats   Avg      Stdev     Max   +/- Stdev
//	    Latency     1.88ms    1.18ms  10.86ms   68.39%
//	    Req/Sec    54.94k     4.69k   64.31k    70.00%
//	  Latency Distribution
//	     50%    1.85ms
//	     75%    2.61ms
//	     90%    3.27ms
//	     99%    5.19ms
//	  54447 requests in 1.00s, 5.97MB read
//	  Socket errors: connect 0, read 103, write 26724, timeout 0
//	  Non-2xx or 3xx responses: 70324
//	Requests/sec:  54313.17
//	Transfer/sec:      5.96MB
//
// It needs the request count, Requests/sec and the 99th percentile; the
// other lines are optional.
func parseWrk(out string) (*wrkResult, error) {
	var (
		r                        wrkResult
		sawTotal, sawRate, saw99 bool
		inDist                   bool
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(err error) error { return fmt.Errorf("wrk output: %q: %w", line, err) }
		switch {
		case line == "Latency Distribution":
			inDist = true
			continue
		case inDist && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return nil, bad(err)
			}
			switch f[0] {
			case "50%":
				r.P50 = d
			case "75%":
				r.P75 = d
			case "90%":
				r.P90 = d
			case "99%":
				r.P99, saw99 = d, true
			}
			continue
		case f[0] == "Latency" && len(f) == 5:
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return nil, bad(err)
			}
			r.LatencyAvg = d
		case len(f) == 6 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return nil, bad(err)
			}
			r.Requests, r.Runtime, sawTotal = n, d, true
		case strings.HasPrefix(line, "Socket errors:"):
			// "Socket errors: connect 0, read 103, write 26724, timeout 0"
			ptrs := map[string]*int64{"connect": &r.Connect, "read": &r.Read, "write": &r.Write, "timeout": &r.Timeout}
			for _, part := range strings.Split(strings.TrimPrefix(line, "Socket errors:"), ",") {
				kv := strings.Fields(part)
				if len(kv) != 2 || ptrs[kv[0]] == nil {
					return nil, bad(errors.New("unknown socket error count"))
				}
				n, err := strconv.ParseInt(kv[1], 10, 64)
				if err != nil {
					return nil, bad(err)
				}
				*ptrs[kv[0]] = n
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil {
				return nil, bad(err)
			}
			r.Non2xx = n
		case f[0] == "Requests/sec:" && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, bad(err)
			}
			r.ReqPerSec, sawRate = v, true
		}
		inDist = false
	}
	switch {
	case !sawTotal:
		return nil, errors.New("wrk output: no \"N requests in\" line")
	case !sawRate:
		return nil, errors.New("wrk output: no Requests/sec line")
	case !saw99:
		return nil, errors.New("wrk output: no 99% line (was it run with --latency?)")
	}
	return &r, nil
}

// parseWrkDuration parses a time as wrk prints it: a decimal number and one
// of the units us, ms, s, m, h ("674.42us", "1.02s").
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{ // "ms" and "us" before "s"
		{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour},
	}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v < 0 || v != v {
			return 0, fmt.Errorf("bad time %q", s)
		}
		return time.Duration(v*float64(u.unit) + 0.5), nil
	}
	return 0, fmt.Errorf("bad time %q", s)
}

// wrkSeconds is d as wrk's -d takes it: whole seconds, rounded up, at
// least one.
func wrkSeconds(d time.Duration) string {
	s := max(1, int64((d+time.Second-1)/time.Second))
	return fmt.Sprintf("%ds", s)
}

// findWrk returns the path of the wrk binary name. If it is missing, name
// is the plain "wrk" and compare runs as root on a machine with apt-get,
// it installs Debian's wrk first (as .ci/run does), logging to log. An
// error says why the HTTP mode cannot run.
func findWrk(ctx context.Context, name string, log io.Writer) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if name != "wrk" {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	apt, aerr := exec.LookPath("apt-get")
	if aerr != nil || os.Geteuid() != 0 {
		return "", errors.New("wrk is not installed (Debian: apt-get install wrk)")
	}
	fmt.Fprintln(log, "compare: wrk not found; installing Debian's wrk with apt-get")
	install := func(args ...string) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v: %s", strings.Join(args, " "), err, lastLine(string(out)))
		}
		return nil
	}
	err = install("install", "-y", "-qq", "wrk")
	if err != nil {
		// A fresh machine may have no package lists yet.
		if err = install("update", "-qq"); err == nil {
			err = install("install", "-y", "-qq", "wrk")
		}
	}
	if err != nil {
		return "", fmt.Errorf("wrk is not installed and installing it failed: %v", err)
	}
	return exec.LookPath(name)
}

// wrkVersion returns the first line of `wrk -v` ("wrk debian/4.1.0-3+b2
// [epoll] Copyright …" → "wrk debian/4.1.0-3+b2 [epoll]").
func wrkVersion(ctx context.Context, bin string) string {
	out, _ := exec.CommandContext(ctx, bin, "-v").CombinedOutput() // exits 1 after printing
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
