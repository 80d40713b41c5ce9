package logsink_test

import (
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/greenhub/greenhub/examples/internal/logsink"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestWaits: a waiter wakes at the write that satisfies it, and gives up
// at its timeout or at the end of a followed reader.
func TestWaits(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		sub   string
		n     int
		want  bool
	}{
		{"found once", []string{"a\n", "ready\n"}, "ready", 1, true},
		{"found twice", []string{"ready\n", "x\n", "ready\n"}, "ready", 2, true},
		{"too few", []string{"ready\n"}, "ready", 2, false},
		{"absent", []string{"a\n", "b\n"}, "ready", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := io.Pipe()
			s := logsink.Follow(r)
			go func() {
				for _, l := range tt.lines {
					io.WriteString(w, l)
				}
				w.Close() // the end: a waiter that is not satisfied gives up
			}()
			if got := s.WaitFor(tt.sub, tt.n, 10*time.Second); got != tt.want {
				t.Errorf("WaitFor(%q, %d) = %v, want %v; log %q", tt.sub, tt.n, got, tt.want, s.String())
			}
		})
	}
}

func TestAwaitAndTimeout(t *testing.T) {
	s := logsink.New()
	go s.Write([]byte("msg=listening addr=127.0.0.1:6000\n"))
	m := s.Await(t, regexp.MustCompile(`addr=(\S+)`), 10*time.Second)
	if m[1] != "127.0.0.1:6000" {
		t.Errorf("Await matched %q", m)
	}
	if s.WaitFor("never", 1, 10*time.Millisecond) {
		t.Error("WaitFor found a line nobody wrote")
	}
}

// ExampleSink: a test gives the program a Sink as its log and waits for
// the line it needs.
func ExampleSink() {
	log := logsink.New()
	go fmt.Fprintln(log, `level=INFO msg="echo: listening" addr=127.0.0.1:6000`)
	fmt.Println(log.WaitFor("listening", 1, 10*time.Second))
	// Output: true
}
