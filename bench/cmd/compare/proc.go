package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A process is a server compare started, in its own process group so that
// stopping it stops everything it spawned, and so that a Ctrl-C typed at
// compare's terminal reaches compare alone, which then stops it.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer   // last bytes of its stdout and stderr
	done chan struct{} // closed when it has exited
	err  error         // its exit status, once done is closed
}

// live holds every process started and not yet reaped, so that stopAll can
// stop them on any way out of main.
var live = struct {
	sync.Mutex
	m map[*process]struct{}
}{m: map[*process]struct{}{}}

// startProcess starts bin with args and extra environment variables.
func startProcess(name, bin string, args, env []string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
	go func() {
		p.err = cmd.Wait()
		live.Lock()
		delete(live.m, p)
		live.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitAccepting dials addr until a connection succeeds, the process exits,
// ctx ends or timeout passes.
func (p *process) waitAccepting(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			var ee *exec.ExitError
			if errors.As(p.err, &ee) && ee.ExitCode() == 2 {
				return fmt.Errorf("%w: %s exited with status 2 before accepting: %s", errUsage, p.name, p.out.String())
			}
			return fmt.Errorf("%s exited before accepting (%v): %s", p.name, p.err, p.out.String())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting on %s after %v: %v", p.name, addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitLogged waits until the process's output holds n copies of line (its
// output's tail, which is enough for start-up), the process exits, ctx ends
// or timeout passes.
func (p *process) waitLogged(ctx context.Context, line string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for strings.Count(p.out.String(), line) < n {
		if p.exited() {
			return fmt.Errorf("%s exited before it served (%v): %s", p.name, p.err, p.out.String())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not log %d × %s within %v: %s", p.name, n, line, timeout, p.out.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// stop sends SIGTERM to the process group, then SIGKILL if it has not
// exited within grace, and waits for it. It reports whether it exited
// cleanly on SIGTERM.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return fmt.Errorf("%s had already exited: %v", p.name, p.err)
	}
	pgid := p.pid()
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s on SIGTERM: %v: %s", p.name, p.err, p.out.String())
		}
		return nil
	case <-time.After(grace):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s ignored SIGTERM for %v; killed", p.name, grace)
}

// stopAll kills every process still running and waits for them.
func stopAll() {
	live.Lock()
	ps := make([]*process, 0, len(live.m))
	for p := range live.m {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		syscall.Kill(-p.pid(), syscall.SIGKILL)
	}
	for _, p := range ps {
		<-p.done
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

var (
	errUnsupported = errors.New("not supported on this OS")
	// errUsage: the server rejected its command line (exit status 2, the
	// flag package's convention).
	errUsage = errors.New("server rejected its flags")
)
