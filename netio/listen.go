package netio

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
	"golang.org/x/sys/unix"
)

// ListenConfig holds the options for Listen and ListenPacket; the zero
// value is the default. Listen and ListenPacket use a zero ListenConfig.
type ListenConfig struct {
	// Backlog is the accept queue length; 0 means the system's maximum
	// (SOMAXCONN).
	Backlog int
	// ReusePort sets SO_REUSEPORT, so that several sockets (one per hub,
	// one per process) can listen on the same port and the kernel spreads
	// connections among them.
	ReusePort bool
	// NoReuseAddr leaves SO_REUSEADDR off (it is on by default for TCP
	// listeners, as in the stdlib).
	NoReuseAddr bool
	// DelayAccepted leaves Nagle's algorithm on for accepted connections;
	// by default they get TCP_NODELAY, as the stdlib's do.
	DelayAccepted bool
	// KeepAlive > 0 turns keep-alive probes on for accepted connections,
	// with that period. 0 leaves them off (one system call less per
	// accept than the stdlib's 15s default).
	KeepAlive time.Duration
	// ReadBuffer and WriteBuffer, if > 0, set SO_RCVBUF and SO_SNDBUF on
	// the listening socket; accepted connections inherit them.
	ReadBuffer, WriteBuffer int
	// Control, if not nil, is called after the socket is created and
	// before it is bound, as net.ListenConfig's Control is.
	Control func(network, address string, c syscall.RawConn) error
}

// Listen listens on a TCP or unix address of h: eventlet's listen. network
// is "tcp", "tcp4", "tcp6" or "unix"; address as for net.Listen (":0"
// picks a free port; "[::]:0" or "" with "tcp" is dual-stack). A host name
// is resolved on h's offload pool. The caller must be one of h's green
// threads.
func Listen(h *hub.Hub, network, address string) (*Listener, error) {
	var lc ListenConfig
	return lc.Listen(h, network, address)
}

// Listen is the package-level Listen with lc's options.
func (lc *ListenConfig) Listen(h *hub.Hub, network, address string) (*Listener, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	sysfd, family, k, ep, err := lc.bind(h, network, address, true)
	if err != nil {
		return nil, opErr(err)
	}
	backlog := lc.Backlog
	if backlog <= 0 {
		backlog = listenBacklog()
	}
	if err := unix.Listen(sysfd, backlog); err != nil {
		sysClose(sysfd)
		return nil, opErr(os.NewSyscallError("listen", err))
	}
	l := &Listener{lc: *lc}
	if err := l.init(h, sysfd, family, k.sotype, network); err != nil {
		return nil, opErr(err)
	}
	if family == unix.AF_UNIX && ep.path != "" && ep.path[0] != '@' {
		l.unlink = ep.path
	}
	return l, nil
}

// bind checks that the caller is on h's thread, resolves address for
// network (a stream network if stream, a datagram one otherwise), and
// returns a non-blocking socket bound to it with lc's options set, with
// what was resolved. Listen and ListenPacket share it.
func (lc *ListenConfig) bind(h *hub.Hub, network, address string, stream bool) (sysfd, family int, k kind, ep endpoint, err error) {
	k, err = parseNetwork(network)
	if err == nil && k.stream != stream {
		err = net.UnknownNetworkError(network)
	}
	if err == nil {
		err = onHubOf(h)
	}
	if err == nil {
		ep, err = resolve(h, k, network, address)
	}
	if err != nil {
		return -1, 0, k, ep, err
	}
	family = pickFamily(k, ep)
	sa, err := ep.sockaddr(family)
	if err != nil {
		return -1, 0, k, ep, err
	}
	if sysfd, err = lc.socket(family, k, network, address, ep, stream); err != nil {
		return -1, 0, k, ep, err
	}
	if err := unix.Bind(sysfd, sa); err != nil {
		sysClose(sysfd)
		return -1, 0, k, ep, os.NewSyscallError("bind", err)
	}
	return sysfd, family, k, ep, nil
}

// socket creates a non-blocking socket and sets the options common to
// listening and packet sockets.
func (lc *ListenConfig) socket(family int, k kind, network, address string, ep endpoint, listening bool) (int, error) {
	sysfd, err := sysSocket(family, k.sotype, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	fail := func(err error) (int, error) {
		sysClose(sysfd)
		return -1, err
	}
	if family == unix.AF_INET6 {
		// Dual-stack for the "tcp"/"udp" wildcard, IPv6 only otherwise.
		v6only := boolInt(k.family == unix.AF_INET6 || ep.ip != nil)
		unix.SetsockoptInt(sysfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only)
	}
	if family != unix.AF_UNIX && (listening && !lc.NoReuseAddr) {
		if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_REUSEADDR", err))
		}
	}
	if k.sotype == unix.SOCK_DGRAM && family != unix.AF_UNIX {
		unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	}
	if lc.ReusePort {
		if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_REUSEPORT", err))
		}
	}
	if lc.ReadBuffer > 0 {
		if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_RCVBUF, lc.ReadBuffer); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_RCVBUF", err))
		}
	}
	if lc.WriteBuffer > 0 {
		if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_SNDBUF, lc.WriteBuffer); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_SNDBUF", err))
		}
	}
	if lc.Control != nil {
		if err := lc.Control(network, address, controlOnly(sysfd)); err != nil {
			return fail(err)
		}
	}
	return sysfd, nil
}

// controlOnly is the RawConn given to a Control function before the socket
// is registered: only Control works.
type controlOnly int

func (c controlOnly) Control(f func(uintptr)) error  { f(uintptr(c)); return nil }
func (c controlOnly) Read(func(uintptr) bool) error  { return errors.ErrUnsupported }
func (c controlOnly) Write(func(uintptr) bool) error { return errors.ErrUnsupported }

func listenBacklog() int {
	return unix.SOMAXCONN
}

func onHubOf(h *hub.Hub) error {
	_, err := h.Raw().Caller()
	return err
}

// Listener is a non-blocking listening socket on a hub: a net.Listener
// whose Accept parks the calling green thread.
//
// Accept blocks, so only the hub's green threads may call it; Close, Addr
// and SetDeadline also work from hub callbacks; Addr from any goroutine.
// Other callers get an error that errors.Is hub.ErrOutside.
//
// When the process runs out of file descriptors (EMFILE, ENFILE) or
// kernel memory (ENOBUFS, ENOMEM), Accept logs once through the hub's
// logger, retries on a hub timer with a growing back-off (5ms to 1s) and
// on each new connection, and when descriptors are free again accepts
// every connection that waited, not only the next one;
// the green threads serving existing connections keep running meanwhile
// and the hub never spins. Errors about one connection that died in the
// queue (ECONNABORTED and friends) are skipped.
type Listener struct {
	fd     netFD
	lc     ListenConfig
	unlink string

	backoff  timers.Timer
	delay    time.Duration
	starved  bool // accept is failing for want of resources
	retry    bool // the back-off timer fired: try accept(2) even if not ready
	drain    bool // an accept failed for want of resources: the backlog is drained until EAGAIN
	nstarved uint64
}

var _ net.Listener = (*Listener)(nil)

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

func (l *Listener) init(h *hub.Hub, sysfd, family, sotype int, network string) error {
	if err := l.fd.init(h, sysfd, family, sotype, network); err != nil {
		return err
	}
	if sa, err := unix.Getsockname(sysfd); err == nil {
		l.fd.laddr = toAddr(sotype, sa)
	}
	l.backoff.F = func() {
		l.retry = true
		l.fd.pfd.WakeRead(nil)
	}
	return nil
}

// Accept waits for and returns the next connection (a *Conn).
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptConn()
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return c, nil
}

// AcceptConn is Accept returning the *Conn. It parks the calling green
// thread until a connection arrives, the deadline passes (an error that
// errors.Is os.ErrDeadlineExceeded), the Listener is closed (net.ErrClosed)
// or a waker sends an error.
func (l *Listener) AcceptConn() (*Conn, error) {
	nfd, sa, err := l.acceptFD()
	if err != nil {
		return nil, err
	}
	c, err := l.newConn(l.fd.h, nfd, sa)
	if err != nil {
		return nil, l.fd.opErr("accept", err)
	}
	return c, nil
}

// acceptFD waits for the next connection and returns its descriptor,
// not registered with any hub yet.
func (l *Listener) acceptFD() (int, unix.Sockaddr, error) {
	fd := &l.fd
	if err := fd.green(); err != nil {
		return -1, nil, fd.opErr("accept", err)
	}
	ready := fd.pfd.ReadReady()
	for {
		if fd.pfd.Closed() {
			return -1, nil, fd.opErr("accept", net.ErrClosed)
		}
		if fd.rexp {
			return -1, nil, fd.opErr("accept", os.ErrDeadlineExceeded)
		}
		if ready || l.retry || l.drain {
			l.retry = false
			nfd, sa, err := sysAccept(fd.sysfd)
			if err == nil {
				l.recovered()
				return nfd, sa, nil
			}
			switch {
			case err == unix.EAGAIN:
				fd.pfd.ClearReadReady()
				l.drain = false
			case transientAccept(err):
				continue
			case err == unix.EMFILE || err == unix.ENFILE || err == unix.ENOBUFS || err == unix.ENOMEM:
				// The queue is not known to be empty: drain it until
				// EAGAIN once descriptors are free, so that every waiting
				// connection is accepted, not only the one the back-off
				// retry takes (the edge that announced them has passed).
				// Meanwhile wait for the back-off, not for readability
				// (the queue is readable, and a level wait would spin).
				l.drain = true
				fd.pfd.ClearReadReady()
				l.starve(err)
			default:
				return -1, nil, fd.opErr("accept", err)
			}
		}
		var err error
		if ready, err = fd.waitRead(); err != nil {
			return -1, nil, fd.opErr("accept", err)
		}
	}
}

// starve records an accept that failed for want of resources: the first
// one of a run is logged, and a back-off timer is armed if none is.
func (l *Listener) starve(err error) {
	l.nstarved++
	if !l.starved {
		l.starved = true
		l.delay = minBackoff
		l.fd.h.Raw().Logger().Warn("netio: accept: out of resources; backing off, existing connections are still served",
			"addr", addrString(l.fd.laddr), "err", err)
	} else {
		l.delay = min(2*l.delay, maxBackoff)
	}
	if !l.backoff.Scheduled() {
		l.fd.h.Raw().ScheduleTimer(&l.backoff, l.fd.h.Raw().Deadline(l.delay))
	}
}

func (l *Listener) recovered() {
	if !l.starved {
		return
	}
	l.starved = false
	if l.backoff.Scheduled() {
		l.fd.h.Raw().CancelTimer(&l.backoff)
	}
	l.fd.h.Raw().Logger().Info("netio: accept: accepting again", "addr", addrString(l.fd.laddr), "failed_attempts", l.nstarved)
	l.nstarved = 0
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func (l *Listener) newConn(h *hub.Hub, nfd int, sa unix.Sockaddr) (*Conn, error) {
	c := &Conn{}
	if err := c.fd.init(h, nfd, l.fd.family, l.fd.sotype, l.fd.net); err != nil {
		return nil, err
	}
	c.fd.raddr = toAddr(l.fd.sotype, sa)
	if lsa, err := unix.Getsockname(nfd); err == nil {
		c.fd.laddr = toAddr(l.fd.sotype, lsa)
	}
	if l.fd.family != unix.AF_UNIX {
		if !l.lc.DelayAccepted {
			unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		if l.lc.KeepAlive > 0 {
			c.SetKeepAlive(true)
			c.SetKeepAlivePeriod(l.lc.KeepAlive)
		}
	}
	return c, nil
}

// Close stops listening: a green thread parked in Accept wakes with
// net.ErrClosed. A unix socket's file is removed. Hub thread only.
func (l *Listener) Close() error {
	if err := l.fd.onHub(); err != nil {
		return l.fd.opErr("close", err)
	}
	if l.backoff.Scheduled() {
		l.fd.h.Raw().CancelTimer(&l.backoff)
	}
	err := l.fd.close()
	if err == nil && l.unlink != "" {
		unix.Unlink(l.unlink)
	}
	return err
}

// Addr returns the address listened on. Any goroutine.
func (l *Listener) Addr() net.Addr { return l.fd.laddr }

// SetDeadline makes a pending and future Accept fail once t has passed
// (see Conn.SetReadDeadline). Hub thread only.
func (l *Listener) SetDeadline(t time.Time) error { return l.fd.setDeadline(t, true, false) }

// SyscallConn returns the raw listening socket.
func (l *Listener) SyscallConn() (syscall.RawConn, error) { return rawConn{&l.fd}, nil }

// Hub returns the hub the Listener belongs to.
func (l *Listener) Hub() *hub.Hub { return l.fd.h }
