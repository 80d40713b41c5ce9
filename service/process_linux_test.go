package service_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/service"
	"golang.org/x/sys/unix"
)

// The ProcessLauncher tests run the test binary as a parent process (see
// TestMain), which runs it again as workers, and watch both through the
// JSON records they write on a shared stderr pipe. Every wait is bounded.

// rec is one log record of the parent or a worker.
type rec struct {
	Time   time.Time `json:"time"`
	Msg    string    `json:"msg"`
	Role   string    `json:"role"`
	PID    int       `json:"pid"`
	Addr   string    `json:"addr"`
	Status *int      `json:"status"`
	Signal string    `json:"signal"`
	Gen    int       `json:"generation"`
}

// proc is a process under test and the records it and its descendants
// write.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	recs []rec
	raw  []string
	news chan struct{} // closed at each new record, then replaced

	eof    chan struct{} // every writer of stderr has exited
	exited chan struct{}
	status int
}

// startProc starts cmd with its stderr on a pipe the test reads.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	p := &proc{t: t, cmd: cmd, news: make(chan struct{}), eof: make(chan struct{}), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		defer close(p.eof)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var rc rec
			line := sc.Text()
			json.Unmarshal([]byte(line), &rc)
			p.mu.Lock()
			p.raw = append(p.raw, line)
			if rc.Msg != "" {
				p.recs = append(p.recs, rc)
				close(p.news)
				p.news = make(chan struct{})
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		cmd.Wait()
		p.status = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.status = -int(ws.Signal())
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill() // Pdeathsig takes its workers along
			<-p.exited
		}
		pids := p.pids("service: worker started")
		select {
		case <-p.eof:
		case <-time.After(5 * time.Second):
			t.Errorf("stderr still open 5s after the process exited: workers left behind")
		}
		reap(t, pids, 2*time.Second) // no-op if the parent reaped them
		if t.Failed() {
			p.mu.Lock()
			t.Logf("records:\n%s", strings.Join(p.raw, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// quickExit spares the processes the race detector's second at exit.
const quickExit = "GORACE=atexit_sleep_ms=0"

// startParent runs the test binary as a parent with env added.
func startParent(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envParent+"=1", quickExit), env...)
	return startProc(t, cmd)
}

// await waits up to d for cond, evaluated on the records so far.
func (p *proc) await(what string, d time.Duration, cond func(recs []rec) bool) {
	p.t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		ok := cond(p.recs)
		news := p.news
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-news:
		case <-p.eof:
			p.mu.Lock()
			ok := cond(p.recs)
			p.mu.Unlock()
			if !ok {
				p.t.Fatalf("%s: the processes exited first", what)
			}
			return
		case <-deadline:
			p.t.Fatalf("no %s within %v", what, d)
		}
	}
}

func count(recs []rec, msg string) int {
	n := 0
	for _, r := range recs {
		if r.Msg == msg {
			n++
		}
	}
	return n
}

// pids returns the pids of the records with msg.
func (p *proc) pids(msg string) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, r := range p.recs {
		if r.Msg == msg {
			pids = append(pids, r.PID)
		}
	}
	return pids
}

func (p *proc) records(msg string) []rec {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []rec
	for _, r := range p.recs {
		if r.Msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// addr waits for the parent's listening address.
func (p *proc) addr() string {
	p.t.Helper()
	p.await("listening address", 10*time.Second, func(recs []rec) bool { return count(recs, "test: listening") > 0 })
	return p.records("test: listening")[0].Addr
}

// serving waits until n workers have logged that they serve, and returns
// the pids of the workers started.
func (p *proc) serving(n int) []int {
	p.t.Helper()
	p.await(fmt.Sprintf("%d workers serving", n), 10*time.Second, func(recs []rec) bool { return count(recs, "test: serving") >= n })
	return p.pids("service: worker started")
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits up to d for the process to exit and returns its status.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.status
	case <-time.After(d):
		p.t.Fatalf("the process did not exit within %v", d)
		return 0
	}
}

// exchange sends msg on a new connection to addr and checks the echo.
func exchange(addr, msg string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != msg+"\n" {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

// noProc reports whether pid has no /proc entry: it has exited and been
// reaped (a zombie still has one).
func noProc(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return errors.Is(err, os.ErrNotExist)
}

// alive reports whether pid runs (exists and is no zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// reap waits up to d for every pid to be gone, reaping those that were
// reparented to the test process (the reaper) when their parent died.
func reap(t *testing.T, pids []int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			if wpid == pid || (errors.Is(err, unix.ECHILD) && noProc(pid)) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("worker %d still there %v after its parent exited", pid, d)
				return
			}
			time.Sleep(10 * time.Millisecond) // polling /proc: pacing
		}
	}
}

// A worker killed with SIGKILL is respawned at once and the port keeps
// answering.
func TestProcessRespawn(t *testing.T) {
	p := startParent(t)
	addr := p.addr()
	pids := p.serving(2)
	if err := exchange(addr, "hello"); err != nil {
		t.Fatal(err)
	}
	victim := pids[0]
	t0 := time.Now()
	syscall.Kill(victim, syscall.SIGKILL)
	p.await("a respawned worker", 2*time.Second, func(recs []rec) bool { return count(recs, "service: worker started") >= 3 })
	p.serving(3)
	t.Logf("respawned in %v", time.Since(t0))
	for i := range 20 {
		if err := exchange(addr, "after "+strconv.Itoa(i)); err != nil {
			t.Fatalf("exchange %d after the respawn: %v", i, err)
		}
	}
	exits := p.records("service: worker exited; respawning it")
	if len(exits) != 1 || exits[0].PID != victim || exits[0].Signal != "killed" {
		t.Errorf("exit records %+v; want the victim killed", exits)
	}
	p.signal(syscall.SIGTERM)
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
	for _, pid := range p.pids("service: worker started") {
		if !noProc(pid) {
			t.Errorf("worker %d left behind", pid)
		}
	}
}

// Workers that fail as they start are respawned no faster than oslo's
// throttle allows: with 2 workers, at most 6 forks in the first 3 seconds
// (throttle_test.go works the sequence out), where a loop without it
// would fork hundreds of times.
func TestProcessThrottle(t *testing.T) {
	p := startParent(t, envMode+"=fail")
	p.await("first worker", 10*time.Second, func(recs []rec) bool { return count(recs, "service: worker started") > 0 })
	t0 := p.records("service: worker started")[0].Time
	const window = 3 * time.Second
	time.Sleep(time.Until(t0.Add(window + 100*time.Millisecond))) // pacing: let the window pass
	n := 0
	for _, r := range p.records("service: worker started") {
		if r.Time.Sub(t0) < window {
			n++
		}
	}
	t.Logf("%d forks in %v", n, window)
	if n > 6 || n < 4 {
		t.Errorf("%d forks in the first %v; want 4 to 6", n, window)
	}
	if len(p.records("service: forking too fast, pausing")) == 0 {
		t.Error("no throttle pause logged")
	}
	p.signal(syscall.SIGTERM)
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
}

// A worker that exits with ExitNoRespawn is not respawned; with none
// left, the parent exits with it too.
func TestProcessNoRespawn(t *testing.T) {
	p := startParent(t, envMode+"=norespawn")
	if st := p.wait(10 * time.Second); st != service.ExitNoRespawn {
		t.Errorf("parent exit status %d, want ExitNoRespawn", st)
	}
	if n := len(p.pids("service: worker started")); n != 2 {
		t.Errorf("%d workers started; want 2 and no respawn", n)
	}
	if n := len(p.records("service: worker exited with ExitNoRespawn: it cannot recover; not respawning it")); n != 2 {
		t.Errorf("%d no-respawn records; want 2", n)
	}
}

// SIGHUP replaces every worker while clients connect and exchange a
// message in a loop: not one connection fails.
func TestProcessSIGHUPUnderLoad(t *testing.T) {
	p := startParent(t)
	addr := p.addr()
	old := p.serving(2)

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := exchange(addr, fmt.Sprintf("client %d message %d", i, j)); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	time.Sleep(200 * time.Millisecond) // pacing: load before the restart
	before := ok.Load()
	p.signal(syscall.SIGHUP)
	p.await("the old workers' exits", 10*time.Second, func(recs []rec) bool {
		return count(recs, "service: old worker exited") >= 2
	})
	p.serving(4)
	during := ok.Load() - before
	time.Sleep(200 * time.Millisecond) // pacing: load on the new generation
	after := ok.Load() - before - during

	t.Logf("exchanges: %d before, %d during, %d after the restart; %d failed", before, during, after, failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d exchanges failed; first: %v", failed.Load(), firstErr.Load())
	}
	if before == 0 || during == 0 || after == 0 {
		t.Errorf("no load at some point: %d, %d, %d", before, during, after)
	}
	for _, r := range p.records("service: old worker exited") {
		if r.Status == nil || *r.Status != 0 {
			t.Errorf("old worker %d exited with %v, want a graceful 0", r.PID, r.Status)
		}
	}
	all := p.pids("service: worker started")
	if len(all) != 4 {
		t.Fatalf("%d workers started; want 2 and 2 new", len(all))
	}
	for _, pid := range old {
		if !noProc(pid) {
			t.Errorf("old worker %d still there", pid)
		}
	}
	for _, pid := range all[2:] {
		if !alive(pid) {
			t.Errorf("new worker %d not running", pid)
		}
	}
	close(stop)
	wg.Wait()
	stop = make(chan struct{})
	p.signal(syscall.SIGTERM)
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
}

// SIGHUP with workers slow to start: the old workers are retired only once
// their replacements have started their service (the ready pipe), not when
// they have been forked.
func TestProcessSIGHUPWaitsForReady(t *testing.T) {
	p := startParent(t, envMode+"=slowstart")
	p.serving(2)
	p.signal(syscall.SIGHUP)
	p.await("the retirements", 10*time.Second, func(recs []rec) bool {
		return count(recs, "service: retiring an old worker") >= 2
	})
	serving := p.records("test: serving")
	if len(serving) < 4 {
		t.Fatalf("%d workers serving when the old ones were retired; want the 2 new ones too", len(serving))
	}
	lastNew := serving[3].Time
	for _, r := range p.records("service: retiring an old worker") {
		if r.Time.Before(lastNew) {
			t.Errorf("an old worker was retired at %v, before the new generation served (%v)", r.Time, lastNew)
		}
	}
	p.signal(syscall.SIGTERM)
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
}

// SIGTERM: requests in flight complete, the parent exits 0 and has reaped
// every worker.
func TestProcessSIGTERMInFlight(t *testing.T) {
	p := startParent(t)
	addr := p.addr()
	pids := p.serving(2)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	c.Write([]byte("sleep 700\n"))
	if line, err := r.ReadString('\n'); line != "ack\n" || err != nil {
		t.Fatalf("got %q, %v; want ack", line, err)
	}
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	if line, err := r.ReadString('\n'); line != "slept\n" || err != nil {
		t.Fatalf("request in flight: got %q, %v; want its answer", line, err)
	}
	t.Logf("answered %v after SIGTERM", time.Since(t0))
	c.Close()
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
	// The parent has reaped them: no /proc entry, not even a zombie (a
	// zombie left behind would have been reparented to this process).
	for _, pid := range pids {
		if !noProc(pid) {
			t.Errorf("worker %d left behind (alive: %v)", pid, alive(pid))
		}
	}
	select {
	case <-p.eof:
	case <-time.After(2 * time.Second):
		t.Error("a process still holds stderr")
	}
}

// The parent killed with SIGKILL: its workers are gone within 2 seconds.
func TestProcessParentKilled(t *testing.T) {
	p := startParent(t)
	p.addr()
	pids := p.serving(2)
	p.signal(syscall.SIGKILL)
	p.wait(5 * time.Second)
	t0 := time.Now()
	reap(t, pids, 2*time.Second)
	t.Logf("workers gone %v after the parent", time.Since(t0))
}

// Workers ignore SIGINT; the parent stops gracefully on it.
func TestProcessSIGINT(t *testing.T) {
	p := startParent(t)
	addr := p.addr()
	pids := p.serving(2)
	for _, pid := range pids {
		if !ignores(t, pid, syscall.SIGINT) {
			t.Errorf("worker %d does not ignore SIGINT", pid)
		}
		syscall.Kill(pid, syscall.SIGINT)
	}
	time.Sleep(200 * time.Millisecond) // pacing: a SIGINT that was not ignored would have ended them
	for _, pid := range pids {
		if !alive(pid) {
			t.Errorf("worker %d died of SIGINT", pid)
		}
	}
	if err := exchange(addr, "still here"); err != nil {
		t.Fatal(err)
	}
	if n := len(p.pids("service: worker started")); n != 2 {
		t.Errorf("%d workers started; want 2", n)
	}
	p.signal(syscall.SIGINT)
	if st := p.wait(10 * time.Second); st != service.ExitOK {
		t.Errorf("parent exit status %d", st)
	}
}

// ignores reports whether pid ignores sig, from /proc/pid/status.
func ignores(t *testing.T, pid int, sig syscall.Signal) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return m&(1<<(uint(sig)-1)) != 0
		}
	}
	t.Fatal("no SigIgn line")
	return false
}

// A second SIGTERM while workers drain kills them.
func TestProcessSecondSIGTERM(t *testing.T) {
	p := startParent(t, envDrain+"=1h")
	addr := p.addr()
	p.serving(2)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("sleep 3600000\n"))
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "ack\n" || err != nil {
		t.Fatalf("got %q, %v; want ack", line, err)
	}
	p.signal(syscall.SIGTERM)
	p.await("an idle worker's exit", 10*time.Second, func(recs []rec) bool { return count(recs, "service: worker exited") >= 1 })
	t0 := time.Now()
	p.signal(syscall.SIGTERM)
	if st := p.wait(5 * time.Second); st != service.ExitFailure {
		t.Errorf("parent exit status %d, want ExitFailure", st)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("forced stop took %v", d)
	}
}

// Without Pdeathsig, the pipe alone tells a worker its parent is gone:
// the test plays the parent and closes its end.
func TestWorkerParentPipe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lf, _ := ln.(*net.TCPListener).File()
	ln.Close()
	defer lf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), quickExit, service.EnvWorker+"=0", service.EnvService+"=0", service.EnvFiles+"=1")
	cmd.ExtraFiles = []*os.File{pr, lf}
	p := startProc(t, cmd)
	pr.Close()
	p.serving(1)
	if err := exchange(lf.Name(), "x"); err == nil {
		t.Log("(the file name is no address)")
	}
	addr := ln.Addr().String()
	if err := exchange(addr, "before"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	pw.Close()
	st := p.wait(3 * time.Second)
	if d := time.Since(t0); d > time.Second+500*time.Millisecond {
		t.Errorf("worker exited %v after its parent's pipe closed", d)
	}
	if st != service.ExitFailure {
		t.Errorf("worker exit status %d, want ExitFailure", st)
	}
}
