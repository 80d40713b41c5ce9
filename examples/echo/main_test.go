package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/examples/internal/logsink"
	"github.com/greenhub/greenhub/timeline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEchoProgram builds the program and, for each configuration, runs it
// on a free port, echoes through it, keeps one connection idle across
// SIGTERM (the drain closes it) and checks the exit status and the log. A
// second SIGTERM during a long drain must end the program at once.
func TestEchoProgram(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "echo")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	drained := []string{"signal received", "draining", "closed the remaining connections", "shutdown complete"}
	tests := []struct {
		name string
		args []string
		// listening is how many "echo: listening" lines say that every
		// process serves: 1, or the parent's and one per worker.
		listening int
		// third: when the two clients take every slot (-pool 2, or 1 on
		// each of two hubs), a third waits in the backlog, and the accept
		// loop waits for a slot when SIGTERM comes.
		third bool
		// forced sends a second SIGTERM once the drain has begun.
		forced   bool
		wantExit int
		wantLogs []string
		// wantServed is the per-hub count of connections served, when it
		// is deterministic (handoff deals them in turn).
		wantServed string
		// traced runs with -trace and -exectrace and checks the traces:
		// the green threads' lanes are named.
		traced bool
	}{
		{name: "one hub", args: []string{"-pool", "2", "-drain", "300ms"}, listening: 1, third: true,
			wantLogs: append([]string{"pool=2 hubs=1", "graceful=true", "connections=2 drain=300ms"}, drained...), wantServed: "[2]"},
		{name: "2 hubs", args: []string{"-hubs", "2", "-drain", "300ms"}, listening: 1,
			wantLogs: append([]string{"hubs=2 spread=reuseport"}, drained...)},
		{name: "traced", args: []string{"-drain", "300ms"}, listening: 1, traced: true,
			wantLogs: drained},
		// With -pool 1 per hub, the third client waits in the backlog
		// while hub 0 waits for a free slot.
		{name: "2 hubs handoff", args: []string{"-hubs", "2", "-spread", "handoff", "-pool", "1", "-drain", "300ms"}, listening: 1, third: true,
			wantLogs: append([]string{"hubs=2 spread=handoff"}, drained...), wantServed: "[1 1]"},
		{name: "2 workers", args: []string{"-workers", "2", "-drain", "300ms"}, listening: 3,
			wantLogs: append([]string{"worker=0", "worker=1", "all workers have exited"}, drained...)},
		{name: "second SIGTERM", args: []string{"-drain", "1m"}, listening: 1, forced: true, wantExit: 1,
			wantLogs: []string{"draining", "forcing the stop", "forced stop; closed the connections", "shutdown complete"}},
		{name: "second SIGTERM, 2 hubs", args: []string{"-hubs", "2", "-drain", "1m"}, listening: 1, forced: true, wantExit: 1,
			wantLogs: []string{"draining", "forcing the stop", "forced stop; closed the connections", "shutdown complete"}},
		{name: "second SIGTERM, 2 workers", args: []string{"-workers", "2", "-drain", "1m"}, listening: 3, forced: true, wantExit: 1,
			wantLogs: []string{"draining", "second signal; killing the workers", "all workers have exited"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-addr", "127.0.0.1:0"}, tt.args...)
			dir := t.TempDir()
			chromeFile, execFile := filepath.Join(dir, "echo.json"), filepath.Join(dir, "echo.trace")
			if tt.traced {
				args = append(args, "-trace", chromeFile, "-exectrace", execFile)
			}
			cmd := exec.Command(bin, args...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			log := logsink.Follow(stderr)
			exited := make(chan error, 1)
			go func() { <-log.Ended(); exited <- cmd.Wait() }()

			if !log.WaitFor(`msg="echo: listening"`, tt.listening, 30*time.Second) {
				t.Fatalf("the server did not log that it listens:\n%s", log.String())
			}
			m := regexp.MustCompile(`msg="echo: listening" addr=(\S+)`).FindStringSubmatch(log.String())
			addr := m[1]

			// Echo, with messages up to 64 KiB and beyond.
			c := dial(t, addr)
			for _, size := range []int{1, 64, 4096, 65536, 200_000} {
				msg := bytes.Repeat([]byte{byte(size)}, size)
				go c.Write(msg)
				got := make([]byte, size)
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("echo of %d bytes: %v", size, err)
				}
			}
			// An idle connection that the drain must close.
			idle := dial(t, addr)
			if _, err := idle.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(idle, make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			if tt.third {
				dial(t, addr)
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			bound := 30 * time.Second
			if tt.forced {
				if !log.WaitFor(`msg="echo: draining"`, 1, 30*time.Second) {
					t.Fatalf("no drain after SIGTERM:\n%s", log.String())
				}
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				bound = 10 * time.Second // the drain would take a minute
			}
			select {
			case err := <-exited:
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				out := log.String()
				if code != tt.wantExit {
					t.Fatalf("exit status %d, want %d\n%s", code, tt.wantExit, out)
				}
				for _, want := range tt.wantLogs {
					if !strings.Contains(out, want) {
						t.Errorf("log lacks %q:\n%s", want, out)
					}
				}
				if tt.wantServed != "" && !strings.Contains(out, `served="`+tt.wantServed+`"`) && !strings.Contains(out, "served="+tt.wantServed+"\n") {
					t.Errorf("log lacks served=%s:\n%s", tt.wantServed, out)
				}
			case <-time.After(bound):
				t.Fatalf("the server did not exit within %v of the last SIGTERM:\n%s", bound, log.String())
			}
			// The drained connections were closed by the server.
			for _, conn := range []net.Conn{c, idle} {
				if _, err := conn.Read(make([]byte, 1)); err == nil {
					t.Errorf("connection still open after shutdown")
				}
			}
			if tt.traced {
				checkTraces(t, chromeFile, execFile)
			}
		})
	}
}

// checkTraces checks the traces of a run with two connections and SIGTERM:
// the Chrome trace names the green threads' lanes, and the execution
// trace is one.
func checkTraces(t *testing.T, chromeFile, execFile string) {
	t.Helper()
	tr, err := timeline.ReadFile(chromeFile)
	if err != nil {
		t.Fatal(err)
	}
	var lanes []string
	for _, track := range tr.Tracks {
		lanes = append(lanes, track.Name)
	}
	for _, want := range []string{"hub", "launcher", "signals", "accept", "wait services", "conn 1", "conn 2", "stop service 0", "drain bound"} {
		if !slices.Contains(lanes, want) {
			t.Errorf("no lane %q in %q", want, lanes)
		}
	}
	data, err := os.ReadFile(execFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("go 1.")) {
		t.Errorf("%s starts with %q, not a Go execution trace's header", execFile, data[:min(len(data), 16)])
	}
}

// TestEchoAddressInUse: a server that cannot listen exits 1 at once,
// whether hub 0, the group or the parent of the workers meets the error.
func TestEchoAddressInUse(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "echo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"one hub", nil},
		{"2 hubs", []string{"-hubs", "2"}},
		{"2 hubs handoff", []string{"-hubs", "2", "-spread", "handoff"}},
		{"2 workers", []string{"-workers", "2"}},
	} {
		args := tt.args
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"-addr", taken.Addr().String()}, args...)...)
			var out bytes.Buffer
			cmd.Stderr = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Errorf("exit: %v, want status 1\n%s", err, &out)
				}
				if !strings.Contains(out.String(), "address already in use") {
					t.Errorf("log does not say why:\n%s", &out)
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running after 30s:\n%s", &out)
			}
		})
	}
}

// dial connects to addr with a 30 s deadline on the connection; it is
// closed when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-hubs", "-1"}, "-hubs -1"},
		{[]string{"-workers", "0"}, "-workers 0"},
		{[]string{"-pool", "0"}, "-pool 0"},
		{[]string{"-spread", "random"}, `-spread "random"`},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-nosuchflag"}, "not defined"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(tt.args, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", tt.args, code, out.String())
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%q: message lacks %q:\n%s", tt.args, tt.want, out.String())
		}
	}
}
