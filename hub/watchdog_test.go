package hub_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// recordHandler is a slog.Handler that hands every record's message and
// attributes, as text, to a channel.
type recordHandler struct{ records chan string }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h recordHandler) WithGroup(string) slog.Handler            { return h }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	select {
	case h.records <- b.String():
	default: // the test reads only the first few
	}
	return nil
}

// TestMutexAcrossParkWatchdog: a green thread holds a sync.Mutex across a
// park and another green thread of the same hub locks it. The hub's OS
// thread blocks in sync.Mutex.Lock — for good, were the test not to unlock
// the mutex from outside — and the watchdog names the case, the lock and
// the blocked green thread.
func TestMutexAcrossParkWatchdog(t *testing.T) {
	records := make(chan string, 16)
	h := hub.New(hub.WithWatchdog(20*time.Millisecond), hub.WithLogger(slog.New(recordHandler{records})))
	var mu sync.Mutex
	var rescued atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- h.Run(func() error {
			holder := greenthread.Spawn(h, func() (struct{}, error) {
				mu.Lock()
				greenthread.Sleep(h, time.Millisecond) // parks holding a sync.Mutex
				if !rescued.Load() {
					mu.Unlock()
				}
				return struct{}{}, nil
			})
			contender := greenthread.Spawn(h, func() (struct{}, error) {
				greenthread.Current(h).G().SetName("contender")
				mu.Lock() // blocks the hub's OS thread: the holder can never run again
				mu.Unlock()
				return struct{}{}, nil
			})
			if _, err := contender.Wait(); err != nil {
				return err
			}
			_, err := holder.Wait()
			return err
		})
	}()
	deadline := time.After(time.Minute)
	for {
		select {
		case rec := <-records:
			if !strings.Contains(rec, "blocked in") {
				continue
			}
			for _, want := range []string{"ERROR", "sync.Mutex.Lock", "green thread contender", "greensync.Mutex"} {
				if !strings.Contains(rec, want) {
					t.Errorf("watchdog report lacks %q:\n%s", want, rec)
				}
			}
			rescued.Store(true)
			mu.Unlock() // what no green thread can do now: let the hub go on
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("no watchdog report of the hub's thread blocked in sync.Mutex.Lock")
		}
	}
}
