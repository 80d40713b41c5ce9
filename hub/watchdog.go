package hub

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog watches the hub from its own goroutine and reports, once per
// stall, a green thread or hub callback that has held the hub's thread for
// longer than threshold: the hub made no switch and no poll in that time.
type watchdog struct {
	threshold time.Duration
	loopGoid  int64

	progress atomic.Uint64 // bumped by every switch and poll
	goid     atomic.Int64  // goroutine running on the hub's thread
	polling  atomic.Bool

	h    *Hub
	quit chan struct{}
	wg   sync.WaitGroup
}

func (w *watchdog) start(h *Hub) {
	w.h = h
	w.loopGoid = goroutineID()
	w.goid.Store(w.loopGoid)
	w.quit = make(chan struct{})
	w.wg.Add(1)
	go w.run()
}

func (w *watchdog) stop() {
	close(w.quit)
	w.wg.Wait()
}

// running is called on the hub's thread whenever control moves.
func (w *watchdog) running(goid int64) {
	w.goid.Store(goid)
	w.progress.Add(1)
}

func (w *watchdog) run() {
	defer w.wg.Done()
	tick := time.NewTicker(w.threshold / 4)
	defer tick.Stop()
	last, since, reported := w.progress.Load(), time.Now(), false
	for {
		select {
		case <-w.quit:
			return
		case now := <-tick.C:
			if p := w.progress.Load(); p != last || w.polling.Load() {
				last, since, reported = p, now, false
				continue
			}
			if held := now.Sub(since); !reported && held >= w.threshold {
				w.report(held)
				reported = true
			}
		}
	}
}

func (w *watchdog) report(held time.Duration) {
	goid := w.goid.Load()
	who := "hub callback"
	if goid != w.loopGoid {
		who = "green thread"
		if g := w.h.current.Load(); g != nil {
			who = "green thread " + g.String()
		}
	}
	stack := goroutineStack(goid)
	if wait := blockedIn(stack); wait != "" {
		w.h.logger.Error("hub: the hub's OS thread is blocked in "+wait+" by "+who+
			": a Go lock or channel wait on the hub's thread freezes every green thread, for good if the holder is a green thread parked on this hub"+
			" (a sync.Mutex held across a park, as crypto/tls does); use greensync.Mutex or RWMutex, a greensync bridge, or Hub.Offload",
			"held", held.Round(time.Millisecond),
			"threshold", w.threshold,
			"goroutine", goid,
			"stack", string(stack))
		return
	}
	w.h.logger.Warn("hub: blocked by "+who,
		"held", held.Round(time.Millisecond),
		"threshold", w.threshold,
		"goroutine", goid,
		"stack", string(stack))
}

// blockedIn returns what a goroutine stack says the goroutine waits in —
// "sync.Mutex.Lock", "chan receive", "select"… — when it is one of the Go
// runtime's blocking waits, or "" (running, in a system call…).
func blockedIn(stack []byte) string {
	_, rest, ok := bytes.Cut(stack, []byte(" ["))
	if !ok {
		return ""
	}
	status, _, ok := bytes.Cut(rest, []byte("]"))
	if !ok {
		return ""
	}
	status, _, _ = bytes.Cut(status, []byte(",")) // "sync.Mutex.Lock, 2 minutes"
	switch s := string(status); {
	case strings.HasPrefix(s, "sync."), strings.HasPrefix(s, "chan "), strings.HasPrefix(s, "select"),
		s == "semacquire", s == "sleep":
		return s
	}
	return ""
}

// goroutineID returns the calling goroutine's number, parsed from the first
// line of its stack trace ("goroutine 42 [running]:"). It costs about a
// microsecond, so only the watchdog and the portable getg use it.
func goroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}

// goroutineStack returns the stack of goroutine id, taken from a dump of
// all goroutines (which stops the world for the duration).
func goroutineStack(id int64) []byte {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	head := []byte("goroutine " + strconv.FormatInt(id, 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return nil
	}
	s := buf[i:]
	if j := bytes.Index(s, []byte("\n\n")); j >= 0 {
		s = s[:j]
	}
	return s
}
