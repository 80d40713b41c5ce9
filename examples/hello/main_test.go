package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
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

// TestHelloProgram builds the program and, for each configuration, runs it
// on a free port, checks the three routes every server of the comparison
// serves, and stops it with SIGTERM while a stream is in flight: the stream
// completes and the exit status is 0.
func TestHelloProgram(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name string
		args []string
		// listening is how many "hello: listening" lines say that every
		// process serves: 1, or the parent's and one per worker.
		listening int
		// hup sends SIGHUP first and waits until both old workers have
		// exited: the routes are then served by the new generation.
		hup bool
	}{
		{"one hub", nil, 1, false},
		{"2 hubs", []string{"-hubs", "2"}, 1, false},
		{"2 workers", []string{"-workers", "2"}, 3, false},
		{"2 workers, SIGHUP", []string{"-workers", "2"}, 3, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testHello(t, bin, tt.args, tt.listening, tt.hup)
		})
	}
}

func testHello(t *testing.T, bin string, args []string, listening int, hup bool) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-pool", "8"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var (
		mu    sync.Mutex
		logs  strings.Builder
		addr  string
		count int
		old   int // old workers that exited after SIGHUP
	)
	ready := make(chan struct{})
	retired := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		re := regexp.MustCompile(`msg="hello: listening" addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil && addr == "" {
				addr = m[1] // the first: the parent's, with workers
			}
			if strings.Contains(sc.Text(), `msg="hello: listening"`) {
				if count++; count == listening {
					close(ready)
				}
			}
			if strings.Contains(sc.Text(), `msg="service: old worker exited"`) && strings.Contains(sc.Text(), "status=0") {
				if old++; old == 2 {
					close(retired)
				}
			}
			mu.Unlock()
		}
	}()
	log := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	var url string
	select {
	case <-ready:
		mu.Lock()
		url = "http://" + addr
		mu.Unlock()
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not log that it listens:\n%s", log())
	}
	if hup {
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case <-retired:
		case <-time.After(30 * time.Second):
			t.Fatalf("the old workers did not exit after SIGHUP:\n%s", log())
		}
		for _, want := range []string{"SIGHUP: starting a new generation of workers", "generation=2", "retiring an old worker"} {
			if !strings.Contains(log(), want) {
				t.Errorf("log lacks %q:\n%s", want, log())
			}
		}
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	get := func(method, path string, body io.Reader) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, body)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	tests := []struct {
		name, method, path string
		body               io.Reader
		want               []byte
		chunked            bool
	}{
		{"hello", "GET", "/hello", nil, []byte("Hello, World!"), false},
		{"echo", "POST", "/echo", strings.NewReader("ping"), []byte("ping"), false},
		{"echo chunked request", "POST", "/echo", io.MultiReader(strings.NewReader("chunked ping")), []byte("chunked ping"), false},
		{"stream", "GET", "/stream?n=5", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := get(tt.method, tt.path, tt.body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if tt.chunked {
				if len(b) != 5*1024 || len(resp.TransferEncoding) == 0 {
					t.Fatalf("stream: %d bytes, Transfer-Encoding %v", len(b), resp.TransferEncoding)
				}
				return
			}
			if !bytes.Equal(b, tt.want) {
				t.Fatalf("got %q, want %q", b, tt.want)
			}
			if tt.path == "/hello" && (resp.ContentLength != 13 || resp.Header.Get("Content-Type") != "text/plain") {
				t.Fatalf("hello: Content-Length %d, Content-Type %q", resp.ContentLength, resp.Header.Get("Content-Type"))
			}
		})
	}

	// SIGTERM with a stream in flight: it completes, then the exit is clean.
	req, _ := http.NewRequest("GET", url+"/stream?n=2000", nil)
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(first)+len(rest) != 2000*1024 {
		t.Fatalf("stream across SIGTERM: %d bytes, %v", len(first)+len(rest), err)
	}
	waited := make(chan error, 1)
	go func() { <-logDone; waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, log())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
}
