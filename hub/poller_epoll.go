//go:build linux

package hub

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// wakeTag marks the eventfd's events; real tags carry an fd >= 0.
const wakeTag = -1

type poller struct {
	epfd    int
	eventfd int
	raw     [maxEvents]unix.EpollEvent
	events  []event
}

func newPoller() (pollerAPI, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// Edge-triggered: every write to the eventfd is a new edge, so the
	// counter never needs reading back (one system call saved per wake).
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: wakeTag}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return nil, err
	}
	return &poller{epfd: epfd, eventfd: efd, events: make([]event, 0, maxEvents)}, nil
}

func (p *poller) add(fd int, seq uint32) error {
	ev := unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd:     int32(fd),
		Pad:    int32(seq),
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (p *poller) del(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// wait converts the timeout to epoll's milliseconds, rounding up: a wait
// of 0.3ms becomes 1ms, never 0 (a busy spin until the deadline).
func (p *poller) wait(timeout time.Duration) ([]event, error) {
	ms := -1
	if timeout >= 0 {
		ms = int(min((timeout+time.Millisecond-1)/time.Millisecond, 1<<31-1))
	}
	var n int
	var err error
	if ms == 0 {
		n, err = p.pollNow()
	} else {
		n, err = unix.EpollWait(p.epfd, p.raw[:], ms)
	}
	p.events = p.events[:0]
	if err != nil {
		if err == unix.EINTR {
			return p.events, nil
		}
		return p.events, err
	}
	for i := range n {
		r := &p.raw[i]
		if r.Fd == wakeTag {
			p.events = append(p.events, event{wake: true})
			continue
		}
		p.events = append(p.events, event{
			fd:       int(r.Fd),
			seq:      uint32(r.Pad),
			hasSeq:   true,
			readable: r.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0,
			writable: r.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0,
			hup:      r.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0,
		})
	}
	return p.events, nil
}

// pollNow is epoll_wait with timeout 0 as a raw system call: it cannot
// block, so it skips the runtime's entersyscall/exitsyscall, which cost as
// much as the call itself. (epoll_pwait with no signal mask is epoll_wait
// on every architecture, arm64 included.)
func (p *poller) pollNow() (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
		uintptr(unsafe.Pointer(&p.raw[0])), uintptr(len(p.raw)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

var one = [8]byte{1}

func (p *poller) wake() error {
	for {
		_, err := unix.Write(p.eventfd, one[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: the counter is full, a wake-up is pending anyway
			return nil
		case unix.EINTR:
			continue
		}
		return err
	}
}

func (p *poller) close() error {
	err1 := unix.Close(p.eventfd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return err1
	}
	return err2
}

var _ pollerAPI = (*poller)(nil)
