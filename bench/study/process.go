package study

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Usage is an executor process's resource use since it started: user and
// system CPU time from getrusage(2), and the peak resident set size.
type Usage struct {
	User     time.Duration `json:"user_ns"`
	Sys      time.Duration `json:"sys_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"`
	Failures int64         `json:"failures"` // handlers that could not finish
}

// selfUsage returns this process's Usage.
func selfUsage(failures int64) (Usage, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}, fmt.Errorf("study: getrusage: %w", err)
	}
	rss, ok := peakRSS()
	if !ok {
		rss = int64(ru.Maxrss)
		if runtime.GOOS != "darwin" { // the BSDs count KiB, macOS bytes
			rss <<= 10
		}
	}
	return Usage{
		User:     time.Duration(ru.Utime.Nano()),
		Sys:      time.Duration(ru.Stime.Nano()),
		MaxRSS:   rss,
		Failures: failures,
	}, nil
}

// peakRSS returns the peak resident set size of this process's memory
// since its last exec, VmHWM in /proc/self/status, where Linux has it.
// getrusage's ru_maxrss will not do there: exec keeps in it the peak of the
// memory it replaced, which for a child of os/exec (started with vfork) is
// its parent's.
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(rest, "%d kB", &kb); err == nil {
				return kb << 10, true
			}
		}
	}
	return 0, false
}

// ServeMain is the main of an executor process, the study command's
// "serve" subcommand: it parses the flags the study passes (-executor,
// -producer, -conns, -downstream, -pool, -hubs), calibrates its busy loop,
// and runs Serve. Meanwhile each line "usage" read from stdin is answered
// on stdout with the process's Usage as one JSON line; the end of stdin
// ends the process (status 3), so that an executor never outlives the
// study that started it. It returns the exit status: 0 once the producer
// has closed the connections, 1 on failure, 2 on bad flags. The Python
// peers (bench/peers/oslo_executor.py) follow the same contract.
func ServeMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg ServeConfig
	fs := flag.NewFlagSet("study serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Executor, "executor", Hub, "the executor: hub, hubs, goroutines or pool")
	fs.StringVar(&cfg.Producer, "producer", "", "the producer's `address`")
	fs.IntVar(&cfg.Conns, "conns", 1, "connections to the producer")
	fs.StringVar(&cfg.Downstream, "downstream", "", "the downstream server's `address`")
	fs.IntVar(&cfg.Pool, "pool", 64, "pool size (per hub for hubs)")
	fs.IntVar(&cfg.Hubs, "hubs", runtime.NumCPU(), "hubs for the hubs executor")
	fs.StringVar(&cfg.Trace, "trace", "", "write a Chrome trace of the hub or hubs executor to `FILE`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var failures atomic.Int64
	var mu sync.Mutex // one answer at a time on stdout
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			if sc.Text() != "usage" {
				continue
			}
			u, err := selfUsage(failures.Load())
			if err != nil {
				fmt.Fprintln(stderr, err)
				os.Exit(1)
			}
			b, _ := json.Marshal(u)
			mu.Lock()
			stdout.Write(append(b, '\n'))
			mu.Unlock()
		}
		os.Exit(3)
	}()
	if err := Serve(cfg, Calibrate(), &failures); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// args returns the flags ServeMain parses for cfg.
func (c ServeConfig) args() []string {
	args := []string{"-executor", c.Executor, "-producer", c.Producer, "-conns", strconv.Itoa(c.Conns),
		"-downstream", c.Downstream, "-pool", strconv.Itoa(c.Pool), "-hubs", strconv.Itoa(c.Hubs)}
	if c.Trace != "" {
		args = append(args, "-trace", c.Trace)
	}
	return args
}

// An executor is one executor under measurement: a process (or, in tests,
// a goroutine) serving the producer's connections.
type executor interface {
	// usage returns its Usage so far.
	usage() (Usage, error)
	// died is closed when it has ended.
	died() <-chan struct{}
	// wait waits up to timeout for it to end (the producer has closed its
	// connections) and returns why it ended; after timeout it is killed.
	wait(timeout time.Duration) error
}

// process is an executor process: argv (the study command's "serve", or
// the Python peer) with cfg's flags, run by nice(1) when nice > 0.
type process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	errs  bytes.Buffer // its stderr; read once it has exited
	done  chan struct{}
	err   error
}

func startProcess(argv []string, cfg ServeConfig, nice int) (*process, error) {
	if nice > 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(nice)}, argv...)
	}
	p := &process{cmd: exec.Command(argv[0], append(argv[1:], cfg.args()...)...), done: make(chan struct{})}
	p.cmd.Stderr = &p.errs
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewReader(stdout)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("study: start %s: %w", argv[0], err)
	}
	go func() {
		err := p.cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%s %s: %w: %s", cfg.Executor, argv[0], err, bytes.TrimSpace(p.errs.Bytes()))
		}
		p.err = err
		close(p.done)
	}()
	return p, nil
}

func (p *process) died() <-chan struct{} { return p.done }

func (p *process) usage() (Usage, error) {
	if _, err := io.WriteString(p.stdin, "usage\n"); err != nil {
		return Usage{}, fmt.Errorf("study: ask for usage: %w", err)
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		<-p.done
		return Usage{}, errors.Join(fmt.Errorf("study: read usage: %w", err), p.err)
	}
	var u Usage
	if err := json.Unmarshal(line, &u); err != nil {
		return Usage{}, fmt.Errorf("study: usage %q: %w", line, err)
	}
	return u, nil
}

func (p *process) wait(timeout time.Duration) error {
	defer p.stdin.Close()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
	}
	p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("study: the executor did not end within %v of the producer's close; killed", timeout)
}

// inProcess is an executor run by Serve on a goroutine of this process,
// for tests: its usage is this whole process's.
type inProcess struct {
	failures atomic.Int64
	done     chan struct{}
	err      error
}

func startInProcess(cfg ServeConfig) *inProcess {
	e := &inProcess{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.err = Serve(cfg, Calibrate(), &e.failures)
	}()
	return e
}

func (e *inProcess) usage() (Usage, error) { return selfUsage(e.failures.Load()) }
func (e *inProcess) died() <-chan struct{} { return e.done }

func (e *inProcess) wait(timeout time.Duration) error {
	select {
	case <-e.done:
		return e.err
	case <-time.After(timeout):
		return fmt.Errorf("study: the executor did not end within %v of the producer's close", timeout)
	}
}
