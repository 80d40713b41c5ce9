package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/examples/internal/logsink"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
	"github.com/greenhub/greenhub/timeline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of the tests.
const wait = 30 * time.Second

// start runs the program with args on a free port in this process and
// returns its address, its log and its exit status to come.
func start(t *testing.T, args ...string) (string, *logsink.Sink, <-chan int) {
	t.Helper()
	log := logsink.New()
	exit := make(chan int, 1)
	go func() { exit <- run(append([]string{"-addr", "127.0.0.1:0"}, args...), log) }()
	m := log.Await(t, regexp.MustCompile(`msg="lineserver: listening" addr=(\S+)`), wait)
	return m[1], log, exit
}

// sigterm sends SIGTERM to this process; the server's NotifySignal takes it.
func sigterm(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// exitStatus waits for run's exit status.
func exitStatus(t *testing.T, exit <-chan int, log *logsink.Sink) int {
	t.Helper()
	select {
	case code := <-exit:
		return code
	case <-time.After(wait):
		t.Fatalf("run did not return:\n%s", log)
		return -1
	}
}

// talk sends lines on c and returns the answers, one per line.
func talk(t *testing.T, c net.Conn, r *bufio.Reader, lines ...string) []string {
	t.Helper()
	if _, err := io.WriteString(c, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range lines {
		s, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, strings.TrimSuffix(s, "\n"))
	}
	return got
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(wait))
	return c, bufio.NewReader(c)
}

// TestGracefulStop: after SIGTERM the server accepts no one new but goes
// on serving the connection it has until the client closes it, then
// exits 0 without closing anything itself.
func TestGracefulStop(t *testing.T) {
	addr, log, exit := start(t, "-drain", "1m")
	c, r := dial(t, addr)
	if got := talk(t, c, r, "hello", "world"); strings.Join(got, " ") != "HELLO WORLD" {
		t.Fatalf("answers %q, want HELLO WORLD", got)
	}

	sigterm(t)
	log.Await(t, regexp.MustCompile(`msg="lineserver: draining" connections=1`), wait)
	if nc, err := net.Dial("tcp", addr); err == nil {
		nc.Close()
		t.Errorf("a new connection was accepted after SIGTERM")
	}
	if got := talk(t, c, r, "still here"); got[0] != "STILL HERE" {
		t.Errorf("during the drain: %q, want STILL HERE", got[0])
	}
	c.Close()

	if code := exitStatus(t, exit, log); code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, log)
	}
	out := log.String()
	for _, want := range []string{`msg="lineserver: stopping" signal=terminated`, `drain=1m0s`, `msg="lineserver: stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "drain period over") {
		t.Errorf("a graceful stop closed connections:\n%s", out)
	}
}

// TestDrainPeriodOver: a client that stays idle past -drain is closed by
// the server, which then exits 0.
func TestDrainPeriodOver(t *testing.T) {
	addr, log, exit := start(t, "-drain", "100ms")
	c, r := dial(t, addr)
	talk(t, c, r, "idle from now on")

	sigterm(t)
	if code := exitStatus(t, exit, log); code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, log)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle client read %v after the drain, want EOF", err)
	}
	if out := log.String(); !strings.Contains(out, `msg="lineserver: drain period over" closed=1`) {
		t.Errorf("log lacks the forced close:\n%s", out)
	}
}

// TestSecondSignal: a second SIGTERM during a long drain closes the
// connections at once, and the server exits 0.
func TestSecondSignal(t *testing.T) {
	addr, log, exit := start(t, "-drain", "1m")
	c, r := dial(t, addr)
	talk(t, c, r, "idle from now on")

	sigterm(t)
	log.Await(t, regexp.MustCompile(`msg="lineserver: draining" connections=1`), wait)
	sigterm(t)
	if code := exitStatus(t, exit, log); code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, log)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("client read %v after the second signal, want EOF", err)
	}
	if out := log.String(); !strings.Contains(out, `msg="lineserver: second signal" closed=1`) {
		t.Errorf("log lacks the second signal:\n%s", out)
	}
}

// TestTraceFlag: -trace FILE records the run; the handler's green thread
// is seen parking on its socket between lines.
func TestTraceFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lineserver.json")
	addr, log, exit := start(t, "-trace", path)
	c, r := dial(t, addr)
	talk(t, c, r, "one", "two")
	c.Close()
	sigterm(t)
	if code := exitStatus(t, exit, log); code != 0 {
		t.Fatalf("exit status %d\n%s", code, log)
	}
	tr, err := timeline.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, track := range tr.Tracks {
		for _, in := range track.Instants {
			if in.Name == "block" && strings.HasPrefix(in.Reason, "read fd") {
				reads++
			}
		}
	}
	if reads < 2 { // the accept loop's and the handler's, at least
		t.Errorf("%d blocks on a read in the trace, want at least 2", reads)
	}
}

// TestBurst: lines that arrive together are answered in order, whatever
// the pieces they arrive in, and a last line without a newline is answered
// too.
func TestBurst(t *testing.T) {
	addr, log, exit := start(t)
	defer func() {
		sigterm(t)
		exitStatus(t, exit, log)
	}()
	c, _ := dial(t, addr)
	var in, want strings.Builder
	for i := range 500 {
		line := strings.Repeat(string(rune('a'+i%26)), i%70) + "\n"
		in.WriteString(line)
		want.WriteString(strings.ToUpper(line))
	}
	in.WriteString("no newline")
	want.WriteString("NO NEWLINE")
	go func() {
		io.WriteString(c, in.String())
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != want.String() {
		t.Fatalf("read %d bytes (%v), want %d", len(got), err, want.Len())
	}
}

// TestStopFromGoroutine is the first try that fails: a plain goroutine
// that waits for a signal and stops the server is refused, because
// netio's objects belong to their hub's thread.
func TestStopFromGoroutine(t *testing.T) {
	h := hub.New()
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &netio.Server{Handler: shout}
		stopErr := make(chan error, 1)
		greenthread.SpawnN(h, func() { // runs once Serve waits in Accept
			go func() {
				sigs := make(chan os.Signal, 1)
				signal.Notify(sigs, syscall.SIGUSR1)
				defer signal.Stop(sigs)
				syscall.Kill(syscall.Getpid(), syscall.SIGUSR1) // the operator
				<-sigs
				stopErr <- srv.Stop() // wrong: not on the hub's thread
				// The refused Stop changed nothing; the same call sent
				// through the hub's door runs on its thread and ends Serve.
				h.Submit(func() { srv.Stop() })
			}()
		})
		if err := srv.Serve(l); err != nil {
			return err
		}
		err = <-stopErr // sent before the Submit: never blocks
		if !errors.Is(err, hub.ErrOutside) {
			t.Errorf("Stop from a goroutine: %v, want hub.ErrOutside", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-pool", "0"}, {"-drain", "-1s"}, {"extra"}, {"-nosuch"}} {
		var out bytes.Buffer
		if code := run(args, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
