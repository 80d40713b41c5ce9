package hub

// Test-only hooks: a fake poller for what the kernel cannot provoke on
// demand — an event for a closed-and-reused fd, a failing poll, a system
// without a poller. The real epoll stays the default; only the tests that
// ask for these options use them.

import (
	"errors"
	"sync"
	"syscall"
	"time"
)

// fakeBlockLimit bounds a fake wait(-1) that has nothing to return: the
// test injects from the hub's thread or from a goroutine it controls, so
// a wait this long is a bug in the test, reported as a poll error instead
// of a hang.
const fakeBlockLimit = 10 * time.Second

// errFakeStuck is the poll error of a fake wait(-1) that found nothing to
// return within fakeBlockLimit.
var errFakeStuck = errors.New("hub: fake poller: wait(-1) found nothing to return")

// FakePoller implements the poller contract (pollerAPI) in memory:
// registrations are recorded with their sequence numbers, and wait returns
// the events a test injected, the wake-up if one was asked for, or the
// error set by FailWait. Any goroutine may call its exported methods.
type FakePoller struct {
	mu     sync.Mutex
	regs   map[int]uint32
	queue  []event
	woken  bool
	err    error
	waits  int
	signal chan struct{} // a new event or wake-up: a blocked wait looks again
	out    []event       // returned by wait, reused like the real poller's
}

// NewFakePoller returns a fake poller with nothing registered.
func NewFakePoller() *FakePoller {
	return &FakePoller{regs: make(map[int]uint32), signal: make(chan struct{}, 1)}
}

// WithFakePoller makes the hub poll p instead of the kernel.
func WithFakePoller(p *FakePoller) Option {
	return optionFunc(func(h *Hub) {
		h.newPoller = func() (pollerAPI, error) { return p, nil }
	})
}

// WithPollerError makes creating the poller fail with err, as the stub on
// systems without epoll or kqueue does.
func WithPollerError(err error) Option {
	return optionFunc(func(h *Hub) {
		h.newPoller = func() (pollerAPI, error) { return nil, err }
	})
}

// Seq returns the sequence number fd is registered with, and whether it is
// registered.
func (p *FakePoller) Seq(fd int) (uint32, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seq, ok := p.regs[fd]
	return seq, ok
}

// Inject queues an event for fd tagged with seq — readable, or writable if
// not readable — for the next wait to return. It does not check that fd
// is registered: an event for a stale registration is the point.
func (p *FakePoller) Inject(fd int, seq uint32, readable bool) {
	p.mu.Lock()
	p.queue = append(p.queue, event{fd: fd, seq: seq, hasSeq: true, readable: readable, writable: !readable})
	p.mu.Unlock()
	p.poke()
}

// Pending returns how many injected events no wait has returned yet.
func (p *FakePoller) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

// FailWait makes every later wait return err.
func (p *FakePoller) FailWait(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	p.poke()
}

// Waits returns how many times the hub has called wait.
func (p *FakePoller) Waits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}

func (p *FakePoller) poke() {
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *FakePoller) add(fd int, seq uint32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.regs[fd]; ok {
		return syscall.EEXIST
	}
	p.regs[fd] = seq
	return nil
}

func (p *FakePoller) del(fd int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.regs[fd]; !ok {
		return syscall.ENOENT
	}
	delete(p.regs, fd)
	return nil
}

// wait returns what is queued. With nothing queued, timeout 0 returns at
// once, a positive timeout waits that long (real time) for an injection,
// and -1 waits for one at most fakeBlockLimit, then fails.
func (p *FakePoller) wait(timeout time.Duration) ([]event, error) {
	p.mu.Lock()
	p.waits++
	p.mu.Unlock()
	var expired <-chan time.Time
	for {
		p.mu.Lock()
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return p.out[:0], err
		}
		if len(p.queue) > 0 || p.woken {
			p.out = p.out[:0]
			if p.woken {
				p.out = append(p.out, event{wake: true})
				p.woken = false
			}
			p.out = append(p.out, p.queue...)
			p.queue = p.queue[:0]
			p.mu.Unlock()
			return p.out, nil
		}
		p.mu.Unlock()
		if timeout == 0 {
			return p.out[:0], nil
		}
		if expired == nil {
			d := timeout
			if d < 0 {
				d = fakeBlockLimit
			}
			t := time.NewTimer(d)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-p.signal:
		case <-expired:
			if timeout < 0 {
				return p.out[:0], errFakeStuck
			}
			return p.out[:0], nil
		}
	}
}

func (p *FakePoller) wake() error {
	p.mu.Lock()
	p.woken = true
	p.mu.Unlock()
	p.poke()
	return nil
}

func (p *FakePoller) close() error { return nil }

var _ pollerAPI = (*FakePoller)(nil)
