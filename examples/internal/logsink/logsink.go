// Package logsink keeps an example program's log for its tests and lets a
// test wait for a line without polling: each write wakes the waiters.
package logsink

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sink is an io.Writer that keeps what is written to it. Any goroutine may
// call its methods.
type Sink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
	ended   chan struct{} // closed when a followed reader ends (Follow)
}

// New returns an empty Sink, to give a program as its log.
func New() *Sink {
	return &Sink{changed: make(chan struct{}), ended: make(chan struct{})}
}

// Follow returns a Sink fed line by line from r (a child process's stderr)
// by a goroutine that ends when r does.
func Follow(r io.Reader) *Sink {
	s := New()
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.Write(append(sc.Bytes(), '\n'))
		}
	}()
	return s
}

func (s *Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
	return s.buf.Write(p)
}

// Ended is closed when the reader a Sink follows has ended; never for a
// Sink made with New.
func (s *Sink) Ended() <-chan struct{} { return s.ended }

// String returns everything written so far.
func (s *Sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Await returns re's first match in the log once there is one; it fails t
// if none comes within timeout.
func (s *Sink) Await(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	var m []string
	if !s.until(timeout, func(text string) bool {
		m = re.FindStringSubmatch(text)
		return m != nil
	}) {
		t.Fatalf("the log never matched %s:\n%s", re, s.String())
	}
	return m
}

// WaitFor reports whether the log holds n lines containing sub within
// timeout, or by the end of a followed reader.
func (s *Sink) WaitFor(sub string, n int, timeout time.Duration) bool {
	return s.until(timeout, func(text string) bool { return strings.Count(text, sub) >= n })
}

// until waits for cond to hold of the log, checking it at each write, up
// to timeout or the end of a followed reader.
func (s *Sink) until(timeout time.Duration, cond func(text string) bool) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok := cond(s.buf.String())
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-s.ended:
			return cond(s.String())
		case <-deadline:
			return false
		}
	}
}
