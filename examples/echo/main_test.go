package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEchoProgram builds the program, runs it on a free port, echoes
// through it, keeps one connection idle across SIGTERM (the drain closes
// it) and checks the exit status is 0.
func TestEchoProgram(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "echo")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-pool", "2", "-drain", "300ms")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// The log: find the address, keep the rest.
	var logMu sync.Mutex
	var logs bytes.Buffer
	addrCh := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		re := regexp.MustCompile(`msg="echo: listening" addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not log its address")
	}

	// Echo, with messages up to 64 KiB and beyond.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	for _, size := range []int{1, 64, 4096, 65536, 200_000} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		go c.Write(msg)
		got := make([]byte, size)
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes: %v", size, err)
		}
	}
	// An idle connection that the drain must close.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := idle.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(idle, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// With -pool 2 both slots are taken: a third client waits in the
	// backlog, and the accept loop waits for a slot when SIGTERM comes.
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { <-logDone; done <- cmd.Wait() }()
	select {
	case err := <-done:
		logMu.Lock()
		out := logs.String()
		logMu.Unlock()
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, out)
		}
		for _, want := range []string{"signal received", "draining", "closed the remaining connections", "shutdown complete"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	// The drained connections were closed by the server.
	for _, conn := range []net.Conn{c, idle} {
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection still open after shutdown")
		}
	}
}

func TestHubsFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-hubs", "2"}, &out); code != 2 {
		t.Fatalf("-hubs 2: exit %d, want 2\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "reserved") {
		t.Errorf("no explanation:\n%s", out.String())
	}
}
