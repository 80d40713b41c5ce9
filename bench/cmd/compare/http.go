package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// The HTTP mode: every server serves the same three routes (see
// bench/peers/stdhttp), compare checks them once per start, and wrk drives
// GET /hello over keep-alive connections.

// Names of the HTTP servers the ratios and goals refer to.
const (
	greenhttpName = "greenhttp"
	nethttp1Name  = "nethttp-1p"
	eventletWSGI  = "eventlet.wsgi"
)

// helloReady is what examples/hello logs once it serves on all its hubs.
const helloReady = `msg="hello: listening"`

// httpPool is the green-thread pool of greenhttp and eventlet.wsgi: as many
// as the most connections wrk opens.
const httpPool = 1000

// httpServers returns the HTTP comparison's servers, greenhttp first. n is
// the number of CPUs used for the many-core variant.
func httpServers(n int) []*server {
	ns := fmt.Sprint(n)
	pool := fmt.Sprint(httpPool)
	return []*server{
		{Name: greenhttpName, Desc: "greenhub greenhttp, examples/hello, -pool " + pool, pkg: "./examples/hello",
			args: []string{"-pool", pool}, ready: helloReady, readyN: 1},
		{Name: "greenhttp-" + ns + "hubs", Desc: "greenhub greenhttp, examples/hello -hubs " + ns + ": a server, a greenpool of " + pool + " and a SO_REUSEPORT listener per hub", pkg: "./examples/hello",
			args: []string{"-pool", pool, "-hubs", ns}, ready: helloReady, readyN: 1},
		{Name: nethttp1Name, Desc: "net/http, goroutine per connection, GOMAXPROCS=1", pkg: "./bench/peers/stdhttp",
			env: []string{"GOMAXPROCS=1"}},
		{Name: "nethttp-" + ns + "p", Desc: "net/http, goroutine per connection, GOMAXPROCS=" + ns, pkg: "./bench/peers/stdhttp",
			env: []string{"GOMAXPROCS=" + ns}},
		{Name: eventletWSGI, Desc: "Python eventlet.wsgi.server, GreenPool(" + pool + "), TCP_NODELAY, access log off",
			script: "bench/peers/eventlet_wsgi.py", module: "eventlet.wsgi"},
		{Name: "gevent.pywsgi", Desc: "Python gevent.pywsgi.WSGIServer, TCP_NODELAY, access log off",
			script: "bench/peers/gevent_wsgi.py", module: "gevent.pywsgi"},
	}
}

// httpCell is one HTTP server × connection count measurement.
type httpCell struct {
	Server string     `json:"server"`
	Conns  int        `json:"conns"`
	Wrk    *wrkResult `json:"wrk,omitempty"`
	// CPU is the server's user+system CPU time from the start of the
	// measured wrk run to its exit, User the user part, Wall that window;
	// CPUPerReq is CPU / Wrk.Requests, UserPerReq User / Wrk.Requests.
	CPU        time.Duration `json:"cpu_ns"`
	User       time.Duration `json:"user_ns"`
	Wall       time.Duration `json:"wall_ns"`
	CPUPerReq  time.Duration `json:"cpu_per_req_ns"`
	UserPerReq time.Duration `json:"user_per_req_ns"`
	CPUOK      bool          `json:"cpu_ok"`
	RSS        int64         `json:"rss_bytes"` // VmRSS at the end of the run
	Err        string        `json:"error,omitempty"`
	// Round is the round of a single run (report.HTTPRuns); in a median
	// cell (report.HTTPCells) it is the round chosen, and Range holds the
	// lowest and highest req/s of all rounds.
	Round int        `json:"round"`
	Range [2]float64 `json:"req_per_sec_range"`
}

// checkHTTP checks the routes of the HTTP contract on the server at base
// ("http://127.0.0.1:8080") with a net/http client: GET /hello returns
// exactly "Hello, World!" as text/plain, POST /echo returns its body (with
// a Content-Length and chunked), GET /stream?n=3 returns 3 KiB.
func checkHTTP(ctx context.Context, base string) error {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	do := func(method, path string, body io.Reader, check func(*http.Response, []byte) error) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("%s %s: reading the body: %w", method, path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: status %s: %.100q", method, path, resp.Status, got)
		}
		if err := check(resp, got); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		return nil
	}
	body := func(want []byte) func(*http.Response, []byte) error {
		return func(_ *http.Response, got []byte) error {
			if !bytes.Equal(got, want) {
				return fmt.Errorf("body is %d bytes %.40q, want %d bytes %.40q", len(got), got, len(want), want)
			}
			return nil
		}
	}
	hello := []byte("Hello, World!")
	payload := bytes.Repeat([]byte("greenhub-echo-check-"), 3277)[:65536]
	steps := []func() error{
		func() error {
			return do("GET", "/hello", nil, func(resp *http.Response, got []byte) error {
				if err := body(hello)(resp, got); err != nil {
					return err
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					return fmt.Errorf("Content-Type %q, want text/plain", ct)
				}
				return nil
			})
		},
		func() error { return do("POST", "/echo", bytes.NewReader(payload), body(payload)) },
		// A reader that is not a *bytes.Reader hides the length: the client
		// sends the body chunked.
		func() error {
			return do("POST", "/echo", io.MultiReader(bytes.NewReader(payload)), body(payload))
		},
		func() error {
			return do("GET", "/stream?n=3", nil, func(_ *http.Response, got []byte) error {
				if len(got) != 3*1024 {
					return fmt.Errorf("body is %d bytes, want 3072", len(got))
				}
				return nil
			})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("correctness check: %w", err)
		}
	}
	return nil
}

// measureHTTPServer checks the routes of one fresh instance of s and runs
// wrk against it at each connection count.
func measureHTTPServer(ctx context.Context, s *server, root, wrk string, o *options, rep *report,
	logf func(string, ...any)) []httpCell {
	fail := func(err error) []httpCell {
		var cs []httpCell
		for _, n := range o.httpConns {
			cs = append(cs, httpCell{Server: s.Name, Conns: n, Err: err.Error()})
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
		s.skip = err.Error()
		rep.skipHTTP(s.Name, s.skip)
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
	base := "http://" + addr
	if err := checkHTTP(ctx, base); err != nil {
		return fail(err)
	}
	var cs []httpCell
	for _, n := range o.httpConns {
		if ctx.Err() != nil {
			break
		}
		c := runWrk(ctx, wrk, p, base+"/hello", n, o.warmup, o.duration)
		if c.Err != "" {
			logf("%s %d conns: FAILED: %s", s.Name, n, c.Err)
		} else {
			logf("%-16s %-22s %9.0f req/s   p99 %8v  CPU %6.2fs  %6.2f µs/req",
				s.Name, groupThousands(n)+" conns", c.Wrk.ReqPerSec, c.Wrk.P99.Round(time.Microsecond),
				c.CPU.Seconds(), float64(c.CPUPerReq)/1e3)
		}
		cs = append(cs, c)
		if p.exited() {
			for _, n2 := range o.httpConns[len(cs):] {
				cs = append(cs, httpCell{Server: s.Name, Conns: n2, Err: "server had exited"})
			}
			break
		}
	}
	return cs
}

// runWrk runs wrk against url with conns connections on one thread: a
// warm-up run, then the measured run with --latency, sampling the server's
// CPU time just before the measured run starts and just after it exits.
func runWrk(ctx context.Context, bin string, p *process, url string, conns int, warmup, dur time.Duration) httpCell {
	c := httpCell{Server: p.name, Conns: conns}
	ctx, cancel := context.WithTimeout(ctx, warmup+dur+2*time.Minute)
	defer cancel()
	wrk := func(d time.Duration, extra ...string) (string, error) {
		args := append([]string{"-t1", "-c" + fmt.Sprint(conns), "-d" + wrkSeconds(d), "--timeout", "10s"}, extra...)
		cmd := exec.CommandContext(ctx, bin, append(args, url)...)
		cmd.SysProcAttr = sysProcAttr()
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String() + " " + lastLine(stdout.String()))
			if ctx.Err() != nil {
				msg = ctx.Err().Error() + "; " + msg
			}
			return "", fmt.Errorf("wrk: %v: %s", err, msg)
		}
		return stdout.String(), nil
	}
	serverGone := func() bool {
		if p.exited() {
			c.Err = strings.TrimPrefix(c.Err+"; ", "; ") + fmt.Sprintf("server exited: %v: %s", p.err, p.out.String())
			return true
		}
		return false
	}

	if warmup > 0 {
		if _, err := wrk(warmup); err != nil {
			c.Err = "warm-up: " + err.Error()
			serverGone()
			return c
		}
		// Let the server finish with the warm-up's connections, closed as
		// wrk exited, before the window opens.
		select {
		case <-ctx.Done():
			c.Err = ctx.Err().Error()
			return c
		case <-time.After(200 * time.Millisecond):
		}
	}
	t0 := time.Now()
	usr0, sys0, err0 := cpuTime(p.pid())
	out, err := wrk(dur, "--latency")
	usr1, sys1, err1 := cpuTime(p.pid())
	c.Wall = time.Since(t0)
	c.RSS, _ = rss(p.pid())
	if err != nil {
		c.Err = err.Error()
		serverGone()
		return c
	}
	if c.Wrk, err = parseWrk(out); err != nil {
		c.Err = err.Error()
		return c
	}
	if err0 == nil && err1 == nil {
		c.CPU, c.User = usr1+sys1-usr0-sys0, usr1-usr0
		c.CPUOK = true
		if c.Wrk.Requests > 0 {
			c.CPUPerReq = c.CPU / time.Duration(c.Wrk.Requests)
			c.UserPerReq = c.User / time.Duration(c.Wrk.Requests)
		}
	}
	switch {
	case c.Wrk.Requests == 0:
		c.Err = "wrk completed no requests"
	case c.Wrk.Non2xx > 0:
		// A server of the contract answers every GET /hello with 200.
		c.Err = fmt.Sprintf("%d of %d responses were not 2xx or 3xx", c.Wrk.Non2xx, c.Wrk.Requests)
	}
	serverGone()
	return c
}
