//go:build darwin || freebsd

package hub

import (
	"time"

	"golang.org/x/sys/unix"
)

// wakeIdent is the EVFILT_USER identifier of the wake-up event; it lives in
// its own filter's namespace, so it cannot collide with an fd.
const wakeIdent = 0

type poller struct {
	kq     int
	raw    [maxEvents]unix.Kevent_t
	events []event
}

func newPoller() (pollerAPI, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	ev := unix.Kevent_t{Ident: wakeIdent, Filter: unix.EVFILT_USER, Flags: unix.EV_ADD | unix.EV_CLEAR}
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return &poller{kq: kq, events: make([]event, 0, maxEvents)}, nil
}

// add registers both filters with EV_CLEAR, kqueue's edge-triggered mode.
// kqueue's udata is a pointer, so the sequence tag is not carried: events
// come back with hasSeq false and the hub trusts the fd table.
func (p *poller) add(fd int, seq uint32) error {
	var changes [2]unix.Kevent_t
	unix.SetKevent(&changes[0], fd, unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR)
	unix.SetKevent(&changes[1], fd, unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_CLEAR)
	_, err := unix.Kevent(p.kq, changes[:], nil, nil)
	return err
}

func (p *poller) del(fd int) error {
	var changes [2]unix.Kevent_t
	unix.SetKevent(&changes[0], fd, unix.EVFILT_READ, unix.EV_DELETE)
	unix.SetKevent(&changes[1], fd, unix.EVFILT_WRITE, unix.EV_DELETE)
	_, err := unix.Kevent(p.kq, changes[:], nil, nil)
	return err
}

// wait passes the timeout to kevent in nanoseconds; no rounding is needed.
func (p *poller) wait(timeout time.Duration) ([]event, error) {
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.raw[:], ts)
	p.events = p.events[:0]
	if err != nil {
		if err == unix.EINTR {
			return p.events, nil
		}
		return p.events, err
	}
	for i := range n {
		r := &p.raw[i]
		switch r.Filter {
		case unix.EVFILT_USER:
			p.events = append(p.events, event{wake: true})
		case unix.EVFILT_READ:
			p.events = append(p.events, event{fd: int(r.Ident), readable: true, hup: r.Flags&(unix.EV_EOF|unix.EV_ERROR) != 0})
		case unix.EVFILT_WRITE:
			p.events = append(p.events, event{fd: int(r.Ident), writable: true})
		}
	}
	return p.events, nil
}

func (p *poller) wake() error {
	ev := unix.Kevent_t{Ident: wakeIdent, Filter: unix.EVFILT_USER, Fflags: unix.NOTE_TRIGGER}
	for {
		_, err := unix.Kevent(p.kq, []unix.Kevent_t{ev}, nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

func (p *poller) close() error { return unix.Close(p.kq) }

var _ pollerAPI = (*poller)(nil)
