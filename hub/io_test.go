package hub_test

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// pollEvery mirrors the hub's scheduling tick: a poll at least every 61
// resumptions while green threads stay ready.
const pollEvery = 61

// A green thread spinning on Yield keeps the ready queue full, yet a green
// thread parked on a pipe read is woken within a scheduling tick of the
// write, whether a green thread or a plain goroutine wrote.
func TestYieldDoesNotStarvePipeRead(t *testing.T) {
	tests := []struct {
		name      string
		goroutine bool
	}{
		{name: "green thread writes"},
		{name: "goroutine writes", goroutine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			r, w := pipe(t, false)
			var written, read atomic.Bool
			spinsAfterWrite := 0
			goroutineDone := make(chan struct{})
			mustRun(t, h, func() error {
				fd, err := h.Raw().Register(r)
				if err != nil {
					return err
				}
				gr := newGroup(h)
				gr.spawn(func() error {
					n, err := readSome(fd, make([]byte, 16))
					if n != 5 || err != nil {
						t.Errorf("read %d, %v; want 5, nil", n, err)
					}
					read.Store(true)
					return nil
				}, nil)
				gr.spawn(func() error {
					for !read.Load() {
						if written.Load() {
							spinsAfterWrite++
						}
						if spinsAfterWrite > 1e6 {
							return errors.New("reader starved")
						}
						if err := h.Raw().Yield(); err != nil {
							return err
						}
					}
					return nil
				}, nil)
				write := func() {
					if _, err := unix.Write(w, []byte("hello")); err != nil {
						t.Errorf("write: %v", err)
					}
					written.Store(true)
				}
				if tt.goroutine {
					go func() { defer close(goroutineDone); write() }()
				} else {
					close(goroutineDone)
					gr.spawn(func() error {
						for range 100 { // the reader has parked long since
							if err := h.Raw().Yield(); err != nil {
								return err
							}
						}
						write()
						return nil
					}, nil)
				}
				return gr.wait()
			})
			<-goroutineDone
			if spinsAfterWrite > 2*pollEvery {
				t.Errorf("the reader woke %d spins after the write, want at most %d", spinsAfterWrite, 2*pollEvery)
			}
		})
	}
}

// A lone green thread spinning on Yield makes no poll system call when no
// fd is registered; with one registered the hub polls (timeout 0) about
// every 61 resumptions.
func TestYieldSpinnerPolls(t *testing.T) {
	const spins = 100 * pollEvery
	tests := []struct {
		name      string
		registerd bool
		wantPolls int
	}{
		{name: "no fd", wantPolls: 0},
		{name: "one fd", registerd: true, wantPolls: spins / pollEvery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hub.New()
			r, _ := pipe(t, false)
			var before, after hub.Stats
			mustRun(t, h, func() error {
				if tt.registerd {
					if _, err := h.Raw().Register(r); err != nil {
						return err
					}
				} else {
					unix.Close(r)
				}
				gr := newGroup(h)
				gr.spawn(func() error {
					before = h.Stats()
					for range spins {
						if err := h.Raw().Yield(); err != nil {
							return err
						}
					}
					after = h.Stats()
					return nil
				}, nil)
				return gr.wait() // main parks: the spinner is alone
			})
			polls := int(after.Polls - before.Polls)
			resumes := int(after.Resumes - before.Resumes)
			if resumes < spins || resumes > spins+2 {
				t.Errorf("%d resumes for %d yields", resumes, spins)
			}
			if polls < tt.wantPolls-1 || polls > tt.wantPolls+1 {
				t.Errorf("%d polls during %d yields, want %d (stats before %+v, after %+v)", polls, spins, tt.wantPolls, before, after)
			}
			if !tt.registerd && after.Skipped-before.Skipped < uint64(spins/pollEvery-1) {
				t.Errorf("%d periodic polls skipped, want about %d", after.Skipped-before.Skipped, spins/pollEvery)
			}
		})
	}
}

// Killing a green thread parked on an fd unwinds it and unregisters it as
// the fd's reader: a later write wakes nobody, and another green thread
// can then read.
func TestKillWhileParkedOnFD(t *testing.T) {
	tr := &recordingTracer{}
	h := hub.New(hub.WithTracer(tr))
	r, w := pipe(t, false)
	deferred := false
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		gr := newGroup(h)
		reader, err := gr.spawn(func() error {
			defer func() { deferred = true }()
			_, err := readSome(fd, make([]byte, 1))
			t.Errorf("killed reader's read returned: %v", err)
			return err
		}, nil)
		if err != nil {
			return err
		}
		reader.SetName("reader")
		if err := yieldUntil(h, 10, func() bool { return reader.State() == "parked" }); err != nil {
			return err
		}
		if rd, _ := fd.Waiters(); rd != reader {
			t.Errorf("fd reader = %v, want the parked reader", rd)
		}
		if err := h.Raw().Kill(reader); err != nil {
			return err
		}
		if err := gr.wait(); err != nil {
			return err
		}
		if !errors.Is(reader.Err(), hub.ErrKilled) || !deferred {
			t.Errorf("reader: err %v, deferred call ran %v; want ErrKilled, true", reader.Err(), deferred)
		}
		if rd, wr := fd.Waiters(); rd != nil || wr != nil {
			t.Errorf("fd waiters after the kill: %v, %v; want none", rd, wr)
		}
		mark := len(tr.events)
		if _, err := unix.Write(w, []byte("x")); err != nil {
			return err
		}
		for range 3 * pollEvery { // let the hub poll and see the write
			if err := h.Raw().Yield(); err != nil {
				return err
			}
		}
		for _, e := range tr.events[mark:] {
			if e == "wake reader" {
				t.Errorf("the write woke the killed reader")
			}
		}
		n, err := readSome(fd, make([]byte, 4))
		if n != 1 || err != nil {
			t.Errorf("read after the kill = %d, %v; want 1, nil", n, err)
		}
		return nil
	})
}

// One reader per fd at a time (ErrBusy for a second); closing the fd wakes
// its waiter with net.ErrClosed; a closed fd refuses waits and a second
// Close.
func TestFDWaitersAndClose(t *testing.T) {
	h := hub.New()
	r, _ := pipe(t, false)
	mustRun(t, h, func() error {
		fd, err := h.Raw().Register(r)
		if err != nil {
			return err
		}
		var firstErr error
		gr := newGroup(h)
		first, _ := gr.spawn(func() error { firstErr = fd.WaitRead(); return nil }, nil)
		if err := yieldUntil(h, 10, func() bool { return first.State() == "parked" }); err != nil {
			return err
		}
		if err := fd.WaitRead(); !errors.Is(err, hub.ErrBusy) {
			t.Errorf("second WaitRead = %v, want ErrBusy", err)
		}
		if err := fd.Close(); err != nil {
			return err
		}
		if err := gr.wait(); err != nil {
			return err
		}
		if !errors.Is(firstErr, net.ErrClosed) {
			t.Errorf("WaitRead on a closed fd returned %v, want net.ErrClosed", firstErr)
		}
		if err := fd.WaitRead(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WaitRead after Close = %v, want net.ErrClosed", err)
		}
		if err := fd.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want net.ErrClosed", err)
		}
		return nil
	})
}
