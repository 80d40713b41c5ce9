package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/bench/internal/chart"
	"github.com/greenhub/greenhub/bench/loadgen"
)

// A workload is one column group of the comparison.
type workload struct {
	Conns    int `json:"conns"`
	Size     int `json:"size"`
	Inflight int `json:"inflight"`
}

func (w workload) String() string {
	size := fmt.Sprintf("%d B", w.Size)
	if w.Size >= 1024 && w.Size%1024 == 0 {
		size = fmt.Sprintf("%d KiB", w.Size/1024)
	}
	s := fmt.Sprintf("%s conns × %s", groupThousands(w.Conns), size)
	if w.Inflight > 1 {
		s += fmt.Sprintf(", %d in flight", w.Inflight)
	}
	return s
}

// cell is one server × workload measurement.
type cell struct {
	Server   string          `json:"server"`
	Workload workload        `json:"workload"`
	Result   *loadgen.Result `json:"result,omitempty"`
	// CPU is the server's user+system CPU time over the measured window,
	// User the user part, Wall the window as compare saw it; CPUPerMsg is
	// CPU / Result.Msgs, UserPerMsg User / Result.Msgs.
	CPU        time.Duration `json:"cpu_ns"`
	User       time.Duration `json:"user_ns"`
	UserPerMsg time.Duration `json:"user_per_msg_ns"`
	Wall       time.Duration `json:"wall_ns"`
	CPUPerMsg  time.Duration `json:"cpu_per_msg_ns"`
	CPUOK      bool          `json:"cpu_ok"`
	RSS        int64         `json:"rss_bytes"` // VmRSS at the end of the window
	Err        string        `json:"error,omitempty"`
	// Round is the round of a single run (report.Runs); in a median cell
	// (report.Cells) it is the round chosen, and Range holds the lowest
	// and highest msgs/s of all rounds.
	Round int        `json:"round"`
	Range [2]float64 `json:"msgs_per_sec_range"`
}

// idle is one server's idle-connection memory measurement.
type idle struct {
	Server  string  `json:"server"`
	Conns   int     `json:"conns"`
	Before  int64   `json:"rss_before_bytes"`
	After   int64   `json:"rss_after_bytes"`
	PerConn float64 `json:"bytes_per_conn"`
	Err     string  `json:"error,omitempty"`
}

// runLoadgen runs the loadgen binary against addr, sampling the server's
// CPU time at the marks loadgen prints as the measured window starts and
// ends.
func runLoadgen(ctx context.Context, bin string, p *process, addr string, w workload, warmup, dur time.Duration, env []string) cell {
	c := cell{Server: p.name, Workload: w}
	ctx, cancel := context.WithTimeout(ctx, warmup+dur+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"-addr", addr,
		"-conns", fmt.Sprint(w.Conns),
		"-size", fmt.Sprint(w.Size),
		"-inflight", fmt.Sprint(w.Inflight),
		"-warmup", warmup.String(),
		"-duration", dur.String(),
		"-json", "-marks")
	cmd.Env = append(cmd.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.Err = err.Error()
		return c
	}
	if err := cmd.Start(); err != nil {
		c.Err = err.Error()
		return c
	}

	var (
		wg         sync.WaitGroup
		other      []string
		cpu0, cpu1 time.Duration
		usr0, usr1 time.Duration
		t0, t1     time.Time
		err0, err1 error
		sawS, sawE bool
		rssEnd     int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			switch line := sc.Text(); line {
			case "loadgen: measure start":
				t0 = time.Now()
				var sys time.Duration
				usr0, sys, err0 = cpuTime(p.pid())
				cpu0 = usr0 + sys
				sawS = true
			case "loadgen: measure end":
				t1 = time.Now()
				var sys time.Duration
				usr1, sys, err1 = cpuTime(p.pid())
				cpu1 = usr1 + sys
				rssEnd, _ = rss(p.pid())
				sawE = true
			default:
				if len(other) < 20 {
					other = append(other, line)
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	wg.Wait()
	werr := cmd.Wait()

	if stdout.Len() > 0 {
		var r loadgen.Result
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			c.Err = fmt.Sprintf("loadgen output: %v", err)
			return c
		}
		c.Result = &r
	}
	c.RSS = rssEnd
	if sawS && sawE {
		c.Wall = t1.Sub(t0)
		if err0 == nil && err1 == nil {
			c.CPU, c.User = cpu1-cpu0, usr1-usr0
			c.CPUOK = true
			if c.Result != nil && c.Result.Msgs > 0 {
				c.CPUPerMsg = c.CPU / time.Duration(c.Result.Msgs)
				c.UserPerMsg = c.User / time.Duration(c.Result.Msgs)
			}
		}
	}
	switch {
	case werr != nil:
		msg := strings.Join(other, "; ")
		if ctx.Err() != nil {
			msg = ctx.Err().Error() + "; " + msg
		}
		c.Err = fmt.Sprintf("loadgen: %v: %s", werr, msg)
	case c.Result == nil:
		c.Err = "loadgen printed no result"
	}
	if p.exited() {
		c.Err = strings.TrimPrefix(c.Err+"; ", "; ") + fmt.Sprintf("server exited: %v: %s", p.err, p.out.String())
	}
	return c
}

// measureIdle opens n connections to addr, echoes one 64-byte message on
// each (so the server has accepted it and set up whatever it keeps per
// connection), and reports the growth of the server's RSS divided by n.
func measureIdle(ctx context.Context, p *process, addr string, n int) idle {
	res := idle{Server: p.name, Conns: n}
	settle := func() {
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	settle()
	before, err := rss(p.pid())
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.Before = before

	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 50)
	msg := bytes.Repeat([]byte("idle-connection!"), 4)
	for i := range conns {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := func() error {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					return err
				}
				conns[i] = c
				c.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := c.Write(msg); err != nil {
					return err
				}
				in := make([]byte, len(msg))
				if _, err := io.ReadFull(c, in); err != nil {
					return err
				}
				if !bytes.Equal(in, msg) {
					return fmt.Errorf("echo mismatch")
				}
				return c.SetDeadline(time.Time{})
			}()
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("idle conn %d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	if first != nil {
		res.Err = first.Error()
		return res
	}
	settle()
	after, err := rss(p.pid())
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.After = after
	res.PerConn = float64(after-before) / float64(n)
	return res
}

// groupThousands formats n with commas: 10000 → "10,000".
func groupThousands(n int) string { return chart.Thousands(n) }
