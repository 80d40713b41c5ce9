package netio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/net/nettest"
	"golang.org/x/sys/unix"
)

// pair returns two connected Conns over TCP loopback.
func pair(h *hub.Hub) (client, server *Conn, err error) {
	l, err := Listen(h, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	client, err = Dial(h, "tcp", l.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	server, err = l.AcceptConn()
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return client, server, nil
}

func isTimeout(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("error %v is not os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return fmt.Errorf("error %v is not a net.Error with Timeout() true", err)
	}
	return nil
}

func TestDeadlines(t *testing.T) {
	for _, tc := range []struct {
		name string
		test func(h *hub.Hub, c, s *Conn) error
	}{
		{name: "read deadline fires", test: func(h *hub.Hub, c, s *Conn) error {
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
			_, err := c.Read(make([]byte, 10))
			if err := isTimeout(err); err != nil {
				return err
			}
			if el := time.Since(start); el < 30*time.Millisecond {
				return fmt.Errorf("read timed out after %v, before its deadline", el)
			}
			// It stays expired until moved.
			if _, err := c.Read(make([]byte, 10)); isTimeout(err) != nil {
				return fmt.Errorf("second read: %v", err)
			}
			c.SetReadDeadline(time.Time{})
			s.Write([]byte("x"))
			_, err = c.Read(make([]byte, 10))
			return err
		}},
		{name: "deadline in the past", test: func(h *hub.Hub, c, s *Conn) error {
			s.Write([]byte("data waiting"))
			c.SetDeadline(time.Now().Add(-time.Second))
			if n, err := c.Read(make([]byte, 10)); n != 0 || isTimeout(err) != nil {
				return fmt.Errorf("read: %d, %v", n, err)
			}
			if n, err := c.Write([]byte("x")); n != 0 || isTimeout(err) != nil {
				return fmt.Errorf("write: %d, %v", n, err)
			}
			return nil
		}},
		{name: "moved later while parked", test: func(h *hub.Hub, c, s *Conn) error {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			h.Raw().Spawn(func() error {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				h.Raw().Sleep(60 * time.Millisecond) // well past the first deadline
				_, err := s.Write([]byte("late"))
				return err
			}, nil)
			buf := make([]byte, 10)
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != "late" {
				return fmt.Errorf("read %q, %v; want the late data", buf[:n], err)
			}
			return nil
		}},
		{name: "moved earlier while parked", test: func(h *hub.Hub, c, s *Conn) error {
			c.SetReadDeadline(time.Now().Add(time.Hour))
			h.Raw().Spawn(func() error {
				return c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			}, nil)
			_, err := c.Read(make([]byte, 10))
			return isTimeout(err)
		}},
		{name: "close wakes a parked reader", test: func(h *hub.Hub, c, s *Conn) error {
			h.Raw().Spawn(func() error { return c.Close() }, nil)
			_, err := c.Read(make([]byte, 10))
			if !errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("read: %v, want net.ErrClosed", err)
			}
			if err := c.Close(); !errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("second close: %v", err)
			}
			return nil
		}},
		{name: "write deadline with full buffers", test: func(h *hub.Hub, c, s *Conn) error {
			c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			chunk := make([]byte, 1<<20)
			total := 0
			for {
				n, err := c.Write(chunk)
				total += n
				if err != nil {
					if total == 0 {
						return fmt.Errorf("nothing written before the deadline")
					}
					return isTimeout(err)
				}
			}
		}},
		{name: "a waker's error comes out unchanged", test: func(h *hub.Hub, c, s *Conn) error {
			myErr := errors.New("my timeout")
			me := h.Raw().Current()
			h.Raw().AfterFunc(10*time.Millisecond, func() { h.Raw().Interrupt(me, myErr) })
			_, err := c.Read(make([]byte, 10))
			if !errors.Is(err, myErr) {
				return fmt.Errorf("read: %v, want %v", err, myErr)
			}
			return nil
		}},
		{name: "second simultaneous reader", test: func(h *hub.Hub, c, s *Conn) error {
			var second error
			h.Raw().Spawn(func() error {
				_, second = c.Read(make([]byte, 10))
				s.Write([]byte("x"))
				return nil
			}, nil)
			if _, err := c.Read(make([]byte, 10)); err != nil {
				return err
			}
			if !errors.Is(second, ErrBusy) {
				return fmt.Errorf("second reader: %v, want ErrBusy", second)
			}
			return nil
		}},
		{name: "kill unwinds a parked reader", test: func(h *hub.Hub, c, s *Conn) error {
			unwound := false
			g, _ := h.Raw().Spawn(func() error {
				defer func() { unwound = true }()
				_, err := c.Read(make([]byte, 10))
				return err
			}, nil)
			h.Raw().Yield()
			h.Raw().Kill(g)
			h.Raw().Yield()
			if !unwound || !errors.Is(g.Err(), hub.ErrKilled) {
				return fmt.Errorf("unwound %v, err %v", unwound, g.Err())
			}
			// The fd's read slot is free again.
			s.Write([]byte("y"))
			_, err := c.Read(make([]byte, 10))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				c, s, err := pair(h)
				if err != nil {
					return err
				}
				defer c.Close()
				defer s.Close()
				return tc.test(h, c, s)
			})
		})
	}
}

// TestOutside: calls from a goroutine that is not the hub's get an error
// that errors.Is hub.ErrOutside and touch nothing.
func TestOutside(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		errs := make(chan error, 8)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Read(make([]byte, 1))
			errs <- err
			_, err = c.Write([]byte("x"))
			errs <- err
			errs <- c.SetDeadline(time.Now())
			errs <- c.Close()
			_, err = Dial(h, "tcp", "127.0.0.1:1")
			errs <- err
			_, err = Listen(h, "tcp", "127.0.0.1:0")
			errs <- err
			close(errs)
		}()
		if err := h.Offload(wg.Wait); err != nil {
			return err
		}
		for err := range errs {
			if !errors.Is(err, hub.ErrOutside) {
				return fmt.Errorf("call from outside: %v, want hub.ErrOutside", err)
			}
		}
		// Nothing was touched.
		return roundTrip2(c, s)
	})
}

func roundTrip2(c, s *Conn) error {
	if _, err := c.Write([]byte("ok")); err != nil {
		return err
	}
	buf := make([]byte, 2)
	_, err := io.ReadFull(s, buf)
	return err
}

func TestDial(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		// Refused.
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		l.Close()
		if _, err := Dial(h, "tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
		}
		// Cancelled by its context while connecting: a listener with a
		// full backlog never completes the handshake of a new client.
		l, err = (&ListenConfig{Backlog: 1}).Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		var fillers []*Conn
		defer func() {
			for _, c := range fillers {
				c.Close()
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h.Raw().AfterFunc(100*time.Millisecond, cancel)
		for {
			c, err := DialContext(ctx, h, "tcp", l.Addr().String())
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					return fmt.Errorf("dial: %v, want context.Canceled", err)
				}
				break
			}
			fillers = append(fillers, c)
			if len(fillers) > 100 {
				return fmt.Errorf("backlog never filled")
			}
		}
		// A cancelled dial leaves nothing behind for the next park.
		if err := h.Raw().Sleep(time.Millisecond); err != nil {
			return fmt.Errorf("sleep after cancelled dial: %v", err)
		}
		// Dialer.Timeout the same way.
		d := Dialer{Timeout: 30 * time.Millisecond}
		if _, err := d.Dial(h, "tcp", l.Addr().String()); isTimeout(err) != nil {
			return fmt.Errorf("dial with timeout: %v", err)
		}
		// Bad network.
		if _, err := Dial(h, "ip", "127.0.0.1"); err == nil {
			return fmt.Errorf("dial on network ip succeeded")
		}
		return nil
	})
}

// TestStdlib: bufio, io.Copy, net/textproto and http.ReadRequest work on
// netio Conns inside green threads.
func TestStdlib(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &Server{Handler: func(c *Conn) {
			r := bufio.NewReader(c)
			req, err := http.ReadRequest(r)
			if err != nil {
				fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
				return
			}
			body, _ := io.ReadAll(req.Body)
			tp := textproto.NewWriter(bufio.NewWriter(c))
			tp.PrintfLine("HTTP/1.1 200 OK")
			tp.PrintfLine("X-Path: %s", req.URL.Path)
			tp.PrintfLine("Content-Length: %d", len(body))
			tp.PrintfLine("")
			tp.W.Write(body)
			tp.W.Flush()
			// then echo the rest with io.Copy until EOF
			io.Copy(c, r)
		}}
		h.Raw().Spawn(func() error { return srv.Serve(l) }, nil)
		defer srv.Stop()
		c, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /green HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
		tr := textproto.NewReader(bufio.NewReader(c))
		status, err := tr.ReadLine()
		if err != nil || status != "HTTP/1.1 200 OK" {
			return fmt.Errorf("status %q, %v", status, err)
		}
		hdr, err := tr.ReadMIMEHeader()
		if err != nil || hdr.Get("X-Path") != "/green" {
			return fmt.Errorf("header %v, %v", hdr, err)
		}
		body := make([]byte, 5)
		if _, err := io.ReadFull(tr.R, body); err != nil || string(body) != "hello" {
			return fmt.Errorf("body %q, %v", body, err)
		}
		io.WriteString(c, "copied by io.Copy\n")
		c.CloseWrite()
		rest, err := io.ReadAll(tr.R)
		if err != nil || string(rest) != "copied by io.Copy\n" {
			return fmt.Errorf("rest %q, %v", rest, err)
		}
		return nil
	})
}

// TestNettest holds Conn to golang.org/x/net/nettest's conformance suite,
// through Bridge, since the suite calls from plain goroutines.
func TestNettest(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		h := hub.New()
		type pairResult struct {
			c, s *Conn
			err  error
		}
		ready := make(chan pairResult, 1)
		quit := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- h.Run(func() error {
				c, s, err := pair(h)
				ready <- pairResult{c, s, err}
				if err != nil {
					return err
				}
				// Keep the hub running until stop.
				return h.Offload(func() { <-quit })
			})
		}()
		r := <-ready
		if r.err != nil {
			close(quit)
			<-done
			return nil, nil, nil, r.err
		}
		stop = func() {
			h.Submit(func() { r.c.Close(); r.s.Close() })
			close(quit)
			<-done
		}
		return Bridge(r.c), Bridge(r.s), stop, nil
	})
}

// TestAdopt: sockets made by the stdlib, handed over as a listener and as
// an *os.File.
func TestAdopt(t *testing.T) {
	std, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer std.Close()
	f, err := std.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hubtest.Main(t, func(h *hub.Hub) error {
		for _, adopt := range []func() (*Listener, error){
			func() (*Listener, error) { return AdoptListener(h, std) },
			func() (*Listener, error) { return FileListener(h, f) },
		} {
			l, err := adopt()
			if err != nil {
				return err
			}
			if l.Addr().String() != std.Addr().String() {
				return fmt.Errorf("adopted listener on %v, want %v", l.Addr(), std.Addr())
			}
			srv := &Server{Handler: echoHandler}
			h.Raw().Spawn(func() error { return srv.Serve(l) }, nil)
			c, err := Dial(h, "tcp", l.Addr().String())
			if err != nil {
				return err
			}
			if err := roundTrip(c, []byte("adopted"), make([]byte, 16)); err != nil {
				return err
			}
			c.Close()
			srv.Stop()
			if ok, _ := srv.Wait(5 * time.Second); !ok {
				return fmt.Errorf("handler did not end")
			}
		}
		// A stdlib conn handed over.
		var stdConn net.Conn
		var derr error
		h.Offload(func() { stdConn, derr = net.Dial("tcp", std.Addr().String()) })
		if derr != nil {
			return derr
		}
		defer stdConn.Close()
		var peer net.Conn
		h.Offload(func() { peer, derr = std.Accept() })
		if derr != nil {
			return derr
		}
		defer peer.Close()
		c, err := AdoptConn(h, stdConn)
		if err != nil {
			return err
		}
		defer c.Close()
		if c.RemoteAddr().String() != std.Addr().String() {
			return fmt.Errorf("adopted conn's RemoteAddr %v", c.RemoteAddr())
		}
		if _, err := c.Write([]byte("from green")); err != nil {
			return err
		}
		buf := make([]byte, 10)
		h.Offload(func() { _, derr = io.ReadFull(peer, buf) })
		if derr != nil || string(buf) != "from green" {
			return fmt.Errorf("peer read %q, %v", buf, derr)
		}
		return nil
	})
}

// TestFaultInjection swaps the system call seams.
func TestFaultInjection(t *testing.T) {
	t.Run("EAGAIN storm on read", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			c, s, err := pair(h)
			if err != nil {
				return err
			}
			defer c.Close()
			defer s.Close()
			storms, calls := 0, 0
			orig := sysRead
			sysRead = func(fd int, p []byte) (int, error) {
				calls++
				if storms < 100 {
					storms++
					// Spurious: there is data but the kernel says EAGAIN
					// once per wake-up; a timer makes the next edge.
					h.Raw().AfterFunc(0, func() { c.fd.pfd.WakeRead(nil) })
					return -1, unix.EAGAIN
				}
				return orig(fd, p)
			}
			defer func() { sysRead = orig }()
			s.Write([]byte("through the storm"))
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != "through the storm" {
				return fmt.Errorf("read %q, %v", buf[:n], err)
			}
			if calls < 101 {
				return fmt.Errorf("only %d read calls", calls)
			}
			return nil
		})
	})
	t.Run("ECONNRESET", func(t *testing.T) {
		hubtest.Main(t, func(h *hub.Hub) error {
			c, s, err := pair(h)
			if err != nil {
				return err
			}
			defer c.Close()
			defer s.Close()
			orig := sysRead
			sysRead = func(int, []byte) (int, error) { return -1, unix.ECONNRESET }
			defer func() { sysRead = orig }()
			_, err = c.Read(make([]byte, 8))
			if !errors.Is(err, syscall.ECONNRESET) {
				return fmt.Errorf("read: %v, want ECONNRESET", err)
			}
			var oe *net.OpError
			if !errors.As(err, &oe) || oe.Op != "read" {
				return fmt.Errorf("read: %v is not a read *net.OpError", err)
			}
			return nil
		})
	})
	t.Run("ECONNABORTED skipped, EMFILE backs off", func(t *testing.T) {
		var logs syncBuffer
		hubtest.Main(t, func(h *hub.Hub) error {
			l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			defer srv.Stop()
			orig := sysAccept
			faults := []error{unix.ECONNABORTED, unix.EMFILE, unix.EMFILE, unix.ENFILE}
			calls := 0
			sysAccept = func(fd int) (int, unix.Sockaddr, error) {
				calls++
				if len(faults) > 0 {
					err := faults[0]
					faults = faults[1:]
					return -1, nil, err
				}
				return orig(fd)
			}
			defer func() { sysAccept = orig }()
			c, err := Dial(h, "tcp", l.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			if err := roundTrip(c, []byte("after faults"), make([]byte, 16)); err != nil {
				return err
			}
			if len(faults) != 0 {
				return fmt.Errorf("faults left: %v", faults)
			}
			if n := strings.Count(logs.String(), "out of resources"); n != 1 {
				return fmt.Errorf("logged %d times:\n%s", n, logs.String())
			}
			return nil
		}, hub.WithLogger(slogTo(&logs)))
	})
}

// TestServe: a custom spawner bounds the handlers; Stop ends Serve with nil.
func TestServe(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		spawned := 0
		srv := &Server{
			Handler: echoHandler,
			Spawn: func(fn func()) error {
				spawned++
				_, err := h.Raw().Spawn(func() error { fn(); return nil }, nil)
				return err
			},
		}
		var serveErr error
		served := false
		h.Raw().Spawn(func() error { serveErr = srv.Serve(l); served = true; return nil }, nil)
		for range 3 {
			c, err := Dial(h, "tcp", l.Addr().String())
			if err != nil {
				return err
			}
			if err := roundTrip(c, []byte("hi"), make([]byte, 2)); err != nil {
				return err
			}
			c.Close()
		}
		if spawned != 3 {
			return fmt.Errorf("spawned %d, want 3", spawned)
		}
		srv.Stop()
		if ok, _ := srv.Wait(5 * time.Second); !ok {
			return fmt.Errorf("handlers still running")
		}
		h.Raw().Yield()
		if !served || serveErr != nil {
			return fmt.Errorf("Serve ended %v with %v", served, serveErr)
		}
		// CloseConns cuts off a handler parked in Read.
		l2, srv2, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		c, err := Dial(h, "tcp", l2.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		roundTrip(c, []byte("x"), make([]byte, 1))
		srv2.Stop()
		if n := srv2.CloseConns(); n != 1 {
			return fmt.Errorf("CloseConns closed %d", n)
		}
		if ok, _ := srv2.Wait(5 * time.Second); !ok {
			return fmt.Errorf("handler not cut off")
		}
		_, err = c.Read(make([]byte, 1))
		if err != io.EOF {
			return fmt.Errorf("client read after CloseConns: %v, want EOF", err)
		}
		return nil
	})
}

func TestSyscallConn(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		rc, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var nodelay int
		var gerr error
		if err := rc.Control(func(fd uintptr) {
			nodelay, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY)
		}); err != nil || gerr != nil {
			return fmt.Errorf("control: %v %v", err, gerr)
		}
		if nodelay == 0 {
			return fmt.Errorf("TCP_NODELAY is off by default")
		}
		h.Raw().Spawn(func() error { _, err := s.Write([]byte("raw")); return err }, nil)
		buf := make([]byte, 8)
		var n int
		err = rc.Read(func(fd uintptr) bool {
			var rerr error
			n, rerr = unix.Read(int(fd), buf)
			return rerr != unix.EAGAIN
		})
		if err != nil || string(buf[:n]) != "raw" {
			return fmt.Errorf("raw read %q, %v", buf[:n], err)
		}
		for _, set := range []func() error{
			func() error { return c.SetNoDelay(false) },
			func() error { return c.SetKeepAlive(true) },
			func() error { return c.SetKeepAlivePeriod(30 * time.Second) },
			func() error { return c.SetReadBuffer(1 << 16) },
			func() error { return c.SetWriteBuffer(1 << 16) },
			func() error { return c.SetLinger(-1) },
		} {
			if err := set(); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestListenConfig(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		lc := ListenConfig{ReusePort: true, KeepAlive: time.Minute, ReadBuffer: 1 << 16}
		l1, err := lc.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l1.Close()
		// SO_REUSEPORT: a second listener on the same port.
		l2, err := lc.Listen(h, "tcp", l1.Addr().String())
		if err != nil {
			return fmt.Errorf("second listener with SO_REUSEPORT: %w", err)
		}
		defer l2.Close()
		if _, err := Listen(h, "tcp", l1.Addr().String()); err == nil {
			return fmt.Errorf("a listener without SO_REUSEPORT shared the port")
		}
		// An accept deadline.
		l1.SetDeadline(time.Now().Add(10 * time.Millisecond))
		_, err = l1.Accept()
		return isTimeout(err)
	})
}

// TestListenerClose: Close wakes a green thread parked in Accept with
// net.ErrClosed, and a unix socket's file is removed.
func TestListenerClose(t *testing.T) {
	path := t.TempDir() + "/l.sock"
	hubtest.Main(t, func(h *hub.Hub) error {
		for _, tc := range []struct{ network, addr string }{
			{network: "tcp", addr: "127.0.0.1:0"},
			{network: "unix", addr: path},
		} {
			l, err := Listen(h, tc.network, tc.addr)
			if err != nil {
				return err
			}
			h.Raw().Spawn(func() error { return l.Close() }, nil)
			if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("%s: accept after close: %v, want net.ErrClosed", tc.network, err)
			}
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unix socket file left behind: %v", err)
		}
		return nil
	})
}

// TestBridgeAfterStop: a bridged Conn whose hub has stopped reports
// hub.ErrStopped instead of hanging.
func TestBridgeAfterStop(t *testing.T) {
	var bc net.Conn
	hubtest.Main(t, func(h *hub.Hub) error {
		c, s, err := pair(h)
		if err != nil {
			return err
		}
		defer s.Close()
		bc = Bridge(c)
		return nil
	})
	if _, err := bc.Read(make([]byte, 1)); !errors.Is(err, hub.ErrStopped) {
		t.Fatalf("read after the hub stopped: %v, want hub.ErrStopped", err)
	}
	if err := bc.Close(); !errors.Is(err, hub.ErrStopped) {
		t.Fatalf("close after the hub stopped: %v", err)
	}
}
