//go:build linux

package netio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/sys/unix"
)

// Regression tests: each one failed before its fix. Where the standard
// library has the same operation, the test runs it too and holds netio to
// what it does.

// fullBacklog returns the address of a loopback listener whose accept
// queue is full: a connect to it stays in progress (the kernel drops the
// SYN) until it times out or is abandoned. It is closed when the test ends.
func fullBacklog(t *testing.T) string {
	t.Helper()
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(lfd) })
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(lfd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	// Fill the queue until a connect hangs (one connection with backlog 0
	// on Linux).
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return addr
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the accept queue never filled")
	return ""
}

// refusingAddr returns a loopback address where a TCP connect is refused:
// a port bound by a socket that does not listen.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
}

// TestRegressionAcceptAfterEMFILE: accept(2) failing with EMFILE cleared
// the listener's readiness, so once descriptors were free again the back-
// off retry took one waiting connection and the others waited for a new
// client to bring a new edge. The whole backlog must be drained.
func TestRegressionAcceptAfterEMFILE(t *testing.T) {
	const clients = 8
	starving, emfiles := false, 0
	accept0 := sysAccept
	sysAccept = func(fd int) (int, unix.Sockaddr, error) {
		if starving {
			emfiles++
			return -1, nil, unix.EMFILE
		}
		return accept0(fd)
	}
	defer func() { sysAccept = accept0 }()
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		starving = true
		// The connects complete in the kernel's backlog; the server's
		// accept fails.
		conns := make([]*Conn, clients)
		for i := range conns {
			c, err := Dial(h, "tcp", l.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			conns[i] = c
		}
		if err := hubtest.YieldUntil(h, 10000, func() bool { return emfiles > 0 }); err != nil {
			return fmt.Errorf("accept never failed: %w", err)
		}
		starving = false // descriptors are free again; no new client comes
		fns := make([]func() error, clients)
		for i, c := range conns {
			fns[i] = func() error {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 16)
				if err := roundTrip(c, []byte("hello"), buf); err != nil {
					return fmt.Errorf("client %d of %d waiting in the backlog: %w", i, clients, err)
				}
				return nil
			}
		}
		return spawnAll(h, fns...)
	}, hub.WithLogger(slogTo(io.Discard)))
}

// TestRegressionKillDuringDialClosesFD: a green thread killed while parked
// in Dial's connect left its socket open until Run returned. Every way out
// of Dial closes it.
func TestRegressionKillDuringDialClosesFD(t *testing.T) {
	const dials = 10
	addr := fullBacklog(t)
	if _, err := openFDs(); err != nil { // the runtime's lazy fds come now
		t.Fatal(err)
	}
	hubtest.Main(t, func(h *hub.Hub) error {
		before, err := openFDs()
		if err != nil {
			return err
		}
		gs := make([]*hub.G, dials)
		for i := range gs {
			if gs[i], err = h.Raw().Spawn(func() error {
				c, err := Dial(h, "tcp", addr)
				if err == nil {
					c.Close()
					return errors.New("dial to a full backlog did not park")
				}
				return err
			}, nil); err != nil {
				return err
			}
		}
		parked := func() bool {
			for _, g := range gs {
				if g.State() != "parked" || g.Reason().What != "write" {
					return false
				}
			}
			return true
		}
		if err := hubtest.YieldUntil(h, 1000, parked); err != nil {
			return fmt.Errorf("dials not parked in connect: %w", err)
		}
		if during, err := openFDs(); err != nil || during != before+dials {
			return fmt.Errorf("open fds while dialing: %d, want %d (%v)", during, before+dials, err)
		}
		for _, g := range gs {
			if err := h.Raw().Kill(g); err != nil {
				return err
			}
		}
		dead := func() bool {
			for _, g := range gs {
				if !g.Dead() {
					return false
				}
			}
			return true
		}
		if err := hubtest.YieldUntil(h, 1000, dead); err != nil {
			return err
		}
		after, err := openFDs()
		if err != nil {
			return err
		}
		if after != before {
			return fmt.Errorf("open fds: %d before %d killed dials, %d after: leaked", before, dials, after)
		}
		return nil
	})
}

// TestRegressionNilAddr: a typed nil address panicked (WriteTo, a
// Dialer's LocalAddr), in Dial after socket(2), leaking the socket. The
// stdlib reports "missing address" for WriteTo and takes a nil LocalAddr
// as none.
func TestRegressionNilAddr(t *testing.T) {
	// The reference.
	spc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer spc.Close()
	_, stdErr := spc.WriteTo([]byte("x"), (*net.UDPAddr)(nil))
	if stdErr == nil {
		t.Fatal("stdlib: WriteTo to a nil *net.UDPAddr succeeded")
	}
	want := strings.ReplaceAll(stdErr.Error(), spc.LocalAddr().String(), "LADDR")
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	sc, err := (&net.Dialer{LocalAddr: (*net.TCPAddr)(nil)}).Dial("tcp", sl.Addr().String())
	if err != nil {
		t.Fatalf("stdlib: Dial with a nil *net.TCPAddr LocalAddr: %v", err)
	}
	sc.Close()

	hubtest.Main(t, func(h *hub.Hub) error {
		pc, err := ListenPacket(h, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		err = hubtest.Catch(func() error {
			_, err := pc.WriteTo([]byte("x"), (*net.UDPAddr)(nil))
			return err
		})
		if err == nil {
			return errors.New("WriteTo to a nil *net.UDPAddr succeeded")
		}
		if got := strings.ReplaceAll(err.Error(), pc.LocalAddr().String(), "LADDR"); got != want {
			return fmt.Errorf("WriteTo to a nil *net.UDPAddr: %q, stdlib: %q", got, want)
		}
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		before, err := openFDs()
		if err != nil {
			return err
		}
		for _, tc := range []struct {
			network string
			laddr   net.Addr
			addr    string
		}{
			{network: "tcp", laddr: (*net.TCPAddr)(nil), addr: l.Addr().String()},
			{network: "udp", laddr: (*net.UDPAddr)(nil), addr: pc.LocalAddr().String()},
		} {
			err := hubtest.Catch(func() error {
				c, err := (&Dialer{LocalAddr: tc.laddr}).Dial(h, tc.network, tc.addr)
				if err != nil {
					return err
				}
				return c.Close()
			})
			if err != nil {
				return fmt.Errorf("Dial %s with LocalAddr %#v: %v (the stdlib dials)", tc.network, tc.laddr, err)
			}
		}
		if after, err := openFDs(); err != nil || after != before {
			return fmt.Errorf("open fds: %d before the dials, %d after (%v)", before, after, err)
		}
		return nil
	})
}

// TestRegressionZeroByteWrite: Write(nil) with the send buffer full parked
// until the peer read or the deadline passed; the stdlib returns 0, nil at
// once.
func TestRegressionZeroByteWrite(t *testing.T) {
	// The reference: fill a stdlib connection's buffers, then write nothing.
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	sc, err := net.Dial("tcp", sl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ss, err := sl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	sc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	for err == nil {
		_, err = sc.Write(make([]byte, 64<<10))
	}
	sc.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if n, err := sc.Write(nil); n != 0 || err != nil {
		t.Fatalf("stdlib: Write(nil) on a full buffer: %d, %v", n, err)
	}

	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		chunk := make([]byte, 64<<10)
		for {
			n, err := c.TryWrite(chunk)
			if err != nil {
				return err
			}
			if n < len(chunk) {
				break // full
			}
		}
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Write(nil); n != 0 || err != nil {
			return fmt.Errorf("Write(nil) on a full buffer: %d, %v; the stdlib returns 0, <nil> at once", n, err)
		}
		return nil
	})
}

// TestRegressionReadAfterCloseIsErrClosed: with a deadline in the past,
// calls after Close reported the timeout; the stdlib reports
// net.ErrClosed, the more lasting condition.
func TestRegressionReadAfterCloseIsErrClosed(t *testing.T) {
	past := time.Now().Add(-time.Second)
	buf := make([]byte, 8)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	type calls = map[string]func() error
	check := func(who string, cs calls) error {
		var errs []error
		for name, call := range cs {
			if err := call(); !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("%s: %s after Close with a past deadline: %v, want net.ErrClosed", who, name, err))
			}
		}
		return errors.Join(errs...)
	}

	// The reference.
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := net.Dial("tcp", sl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	spc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc.SetDeadline(past)
	spc.SetDeadline(past)
	sl.(*net.TCPListener).SetDeadline(past)
	sc.Close()
	spc.Close()
	sl.Close()
	if err := check("stdlib", calls{
		"Conn.Read":           func() error { _, err := sc.Read(buf); return err },
		"Conn.Write":          func() error { _, err := sc.Write(buf); return err },
		"PacketConn.ReadFrom": func() error { _, _, err := spc.ReadFrom(buf); return err },
		"PacketConn.WriteTo":  func() error { _, err := spc.WriteTo(buf, to); return err },
		"Listener.Accept":     func() error { _, err := sl.Accept(); return err },
	}); err != nil {
		t.Fatal(err)
	}

	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer s.Close()
		pc, err := ListenPacket(h, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		for _, set := range []func(time.Time) error{c.SetDeadline, pc.SetDeadline, l.SetDeadline} {
			if err := set(past); err != nil {
				return err
			}
		}
		c.Close()
		pc.Close()
		l.Close()
		return check("netio", calls{
			"Conn.Read":           func() error { _, err := c.Read(buf); return err },
			"Conn.Write":          func() error { _, err := c.Write(buf); return err },
			"PacketConn.ReadFrom": func() error { _, _, err := pc.ReadFrom(buf); return err },
			"PacketConn.WriteTo":  func() error { _, err := pc.WriteTo(buf, to); return err },
			"Listener.Accept":     func() error { _, err := l.Accept(); return err },
		})
	})
}

// msgReader is what *net.UDPConn offers to tell a truncated datagram.
type msgReader interface {
	ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error)
	ReadMsgUDPAddrPort(b, oob []byte) (n, oobn, flags int, addr netip.AddrPort, err error)
}

// unixMsgReader is what *net.UnixConn offers.
type unixMsgReader interface {
	ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error)
}

// TestRegressionUDPTruncation: a datagram longer than the buffer was cut
// short with no way to know; ReadMsgUDP reports MSG_TRUNC in its flags as
// the stdlib's does.
func TestRegressionUDPTruncation(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 10)
	type msg struct {
		n, flags int
		from     string
	}
	// The reference.
	sa, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sa.SetReadDeadline(time.Now().Add(5 * time.Second))
	var want [2]msg
	for i, size := range []int{10, len(big)} {
		if _, err := sb.WriteTo(big, sa.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		n, _, flags, from, err := sa.ReadMsgUDP(make([]byte, size), nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = msg{n: n, flags: flags, from: strings.ReplaceAll(from.String(), sb.LocalAddr().String(), "FROM")}
	}
	if want[0].flags&syscall.MSG_TRUNC == 0 || want[1].flags&syscall.MSG_TRUNC != 0 {
		t.Fatalf("stdlib flags: %+v", want)
	}

	hubtest.Main(t, func(h *hub.Hub) error {
		a, err := ListenPacket(h, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer a.Close()
		b, err := ListenPacket(h, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer b.Close()
		a.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, ok := any(a).(msgReader)
		if !ok {
			return errors.New("PacketConn has no ReadMsgUDP: a truncated datagram cannot be told from a whole one")
		}
		for i, size := range []int{10, len(big)} {
			if _, err := b.WriteTo(big, a.LocalAddr()); err != nil {
				return err
			}
			n, _, flags, from, err := r.ReadMsgUDP(make([]byte, size), nil)
			if err != nil {
				return err
			}
			got := msg{n: n, flags: flags, from: strings.ReplaceAll(from.String(), b.LocalAddr().String(), "FROM")}
			if got != want[i] {
				return fmt.Errorf("ReadMsgUDP into %d bytes: %+v, stdlib: %+v", size, got, want[i])
			}
		}
		if _, err := b.WriteTo(big, a.LocalAddr()); err != nil {
			return err
		}
		n, _, flags, ap, err := r.ReadMsgUDPAddrPort(make([]byte, 10), nil)
		if err != nil || n != 10 || flags&syscall.MSG_TRUNC == 0 || ap.String() != b.LocalAddr().String() {
			return fmt.Errorf("ReadMsgUDPAddrPort: %d, %#x, %v, %v", n, flags, ap, err)
		}

		// unixgram: ReadMsgUnix.
		dir := t.TempDir()
		ua, err := ListenPacket(h, "unixgram", filepath.Join(dir, "a"))
		if err != nil {
			return err
		}
		defer ua.Close()
		ub, err := ListenPacket(h, "unixgram", filepath.Join(dir, "b"))
		if err != nil {
			return err
		}
		defer ub.Close()
		if _, err := ub.WriteTo(big, ua.LocalAddr()); err != nil {
			return err
		}
		ur, ok := any(ua).(unixMsgReader)
		if !ok {
			return errors.New("PacketConn has no ReadMsgUnix")
		}
		n, _, flags, uaddr, err := ur.ReadMsgUnix(make([]byte, 10), nil)
		if err != nil || n != 10 || flags&syscall.MSG_TRUNC == 0 || uaddr == nil || uaddr.Name != filepath.Join(dir, "b") {
			return fmt.Errorf("ReadMsgUnix: %d, %#x, %v, %v", n, flags, uaddr, err)
		}
		return nil
	})
}

// TestRegressionDialErrorNamesAddress: dial errors did not name the
// address dialed ("dial tcp: connect: connection refused"); they read as
// the stdlib's.
func TestRegressionDialErrorNamesAddress(t *testing.T) {
	refused, hanging := refusingAddr(t), fullBacklog(t)
	const timeout = 100 * time.Millisecond
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	cases := []struct {
		name    string
		addr    string
		timeout time.Duration
		laddr   net.Addr
	}{
		{name: "refused", addr: refused},
		{name: "refused from a local address", addr: refused, laddr: local},
		{name: "timeout", addr: hanging, timeout: timeout},
	}
	want := make([]string, len(cases))
	for i, tc := range cases {
		d := net.Dialer{Timeout: tc.timeout}
		if tc.laddr != nil {
			d.LocalAddr = tc.laddr
		}
		c, err := d.Dial("tcp", tc.addr)
		if err == nil {
			c.Close()
			t.Fatalf("stdlib: %s: dial succeeded", tc.name)
		}
		want[i] = err.Error()
	}
	hubtest.Main(t, func(h *hub.Hub) error {
		var errs []error
		for i, tc := range cases {
			d := Dialer{Timeout: tc.timeout, LocalAddr: tc.laddr}
			c, err := d.Dial(h, "tcp", tc.addr)
			if err == nil {
				c.Close()
				errs = append(errs, fmt.Errorf("%s: dial succeeded", tc.name))
				continue
			}
			if err.Error() != want[i] {
				errs = append(errs, fmt.Errorf("%s: %q, stdlib: %q", tc.name, err, want[i]))
			}
		}
		return errors.Join(errs...)
	})
}

// TestRegressionForeignGoroutineUseIsLoud: a socket used from a goroutine
// that is not one of its hub's green threads (http.Server.Serve's
// per-connection goroutines) failed with hub.ErrOutside and nothing else,
// and net/http logs nothing: a silent hang. The first such call on a
// socket logs a warning naming the fix.
func TestRegressionForeignGoroutineUseIsLoud(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		pc, err := ListenPacket(h, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		buf := make([]byte, 8)
		calls := []func() error{
			func() error { _, err := c.Read(buf); return err },
			func() error { _, err := c.Write(buf); return err },
			func() error { _, err := l.Accept(); return err },
			func() error { return l.SetDeadline(time.Time{}) },
			func() error { _, _, err := pc.ReadFrom(buf); return err },
			func() error { return pc.SetReadDeadline(time.Time{}) },
		}
		var errs []error
		if err := h.Offload(func() { // a plain goroutine
			for i, call := range calls {
				if err := call(); !errors.Is(err, hub.ErrOutside) {
					errs = append(errs, fmt.Errorf("call %d from a goroutine: %v, want hub.ErrOutside", i, err))
				}
			}
		}); err != nil {
			return err
		}
		out := logs.String()
		if n := strings.Count(out, "level=WARN"); n != 3 {
			errs = append(errs, fmt.Errorf("%d warnings for 3 sockets used twice each from a goroutine, want one per socket:\n%s", n, out))
		}
		if n := strings.Count(out, "netio.Bridge"); n != 3 {
			errs = append(errs, fmt.Errorf("the warnings do not all name netio.Bridge:\n%s", out))
		}
		return errors.Join(errs...)
	}, hub.WithLogger(logger))
}

// TestRegressionDeadlineSaturates: a read deadline far in the future
// (time.Unix(1<<62, 0)) overflowed the hub's clock into the past and made
// Read fail at once; the stdlib waits.
func TestRegressionDeadlineSaturates(t *testing.T) {
	far := time.Unix(1<<62, 0)
	// The reference: the deadline does not get in the way.
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	sc, err := net.Dial("tcp", sl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ss, err := sl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	sc.SetReadDeadline(far)
	ss.Write([]byte("x"))
	if _, err := sc.Read(make([]byte, 1)); err != nil {
		t.Fatalf("stdlib: Read with deadline %v: %v", far, err)
	}

	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		if err := c.SetReadDeadline(far); err != nil {
			return err
		}
		var rerr error
		reader, err := h.Raw().Spawn(func() error {
			_, rerr = c.Read(make([]byte, 1))
			return nil
		}, nil)
		if err != nil {
			return err
		}
		// Let the reader park and a turn of timers pass before the data.
		if err := hubtest.YieldUntil(h, 100, func() bool { return reader.State() == "parked" || reader.Dead() }); err != nil {
			return err
		}
		for range 3 {
			h.Raw().Yield()
		}
		if _, err := s.Write([]byte("x")); err != nil {
			return err
		}
		if err := hubtest.YieldUntil(h, 1000, reader.Dead); err != nil {
			return err
		}
		if rerr != nil {
			return fmt.Errorf("Read with deadline %v: %v; the stdlib waits for data", far, rerr)
		}
		return nil
	})
}

// TestRegressionStopFromGoroutineChangesNothing: Server.Stop called from a
// plain goroutine (the first try at a signal handler) used to mark the
// server stopped before it found it was on the wrong thread, so the right
// Stop afterwards, from a green thread, did nothing and Serve never
// returned. Now the refused Stop changes nothing: the server still
// accepts, and the green thread's Stop ends Serve.
func TestRegressionStopFromGoroutineChangesNothing(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		if err := dialRoundTrip(h, l.Addr().String()); err != nil { // Serve is running
			return err
		}
		refused := make(chan error, 1)
		go func() { refused <- srv.Stop() }()
		err, _, _ = greensync.Recv(h, (<-chan error)(refused))
		if !errors.Is(err, hub.ErrOutside) {
			return fmt.Errorf("Stop from a goroutine: %v, want hub.ErrOutside", err)
		}
		if err := dialRoundTrip(h, l.Addr().String()); err != nil {
			return fmt.Errorf("after the refused Stop: %w", err)
		}
		if err := srv.Stop(); err != nil {
			return err
		}
		if _, err := Dial(h, "tcp", l.Addr().String()); err == nil {
			return errors.New("the listener still accepts after Stop")
		}
		return nil
	})
}

// dialRoundTrip dials an echo server at addr and checks one round trip.
func dialRoundTrip(h *hub.Hub, addr string) error {
	c, err := Dial(h, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return roundTrip(c, []byte("ping"), make([]byte, 4))
}
