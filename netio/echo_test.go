package netio

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/sys/unix"
)

// TestEchoManyClients: 1,000 concurrent clients (green threads of the
// same hub as the server), each sending 100 messages of random size
// 1–8192 bytes and checking every byte of the echo.
func TestEchoManyClients(t *testing.T) {
	for _, tc := range []struct {
		name      string
		network   string
		addr      string
		clients   int
		messages  int
		maxLength int
	}{
		{name: "IPv4", network: "tcp", addr: "127.0.0.1:0", clients: manyClients, messages: manyMessages, maxLength: 8192},
		{name: "IPv6", network: "tcp6", addr: "[::1]:0", clients: manyClients / 10, messages: manyMessages, maxLength: 8192},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				l, srv, err := startEcho(h, tc.network, tc.addr)
				if err != nil {
					return err
				}
				defer srv.Stop()
				clients := make([]func() error, tc.clients)
				for i := range clients {
					clients[i] = func() error {
						r := rand.New(rand.NewPCG(uint64(i), 42))
						c, err := Dial(h, tc.network, l.Addr().String())
						if err != nil {
							return err
						}
						defer c.Close()
						buf := make([]byte, tc.maxLength)
						for range tc.messages {
							msg := randomBytes(r, 1+r.IntN(tc.maxLength))
							if err := roundTrip(c, msg, buf); err != nil {
								return fmt.Errorf("client %d: %w", i, err)
							}
						}
						return nil
					}
				}
				if err := spawnAll(h, clients...); err != nil {
					return err
				}
				if ok, err := srv.Wait(10 * time.Second); !ok || err != nil {
					return fmt.Errorf("handlers still running: %d (%v)", srv.Active(), err)
				}
				return nil
			})
		})
	}
}

// TestBigTransfer: a client writes 16 MiB while another green thread of
// the same client reads the echo; kernel buffers fill both ways and
// nothing deadlocks.
func TestBigTransfer(t *testing.T) {
	const size = 16 << 20
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		c, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		data := randomBytes(rand.New(rand.NewPCG(1, 2)), size)
		got := make([]byte, 0, size)
		return spawnAll(h,
			func() error {
				for off := 0; off < size; off += 1 << 20 {
					if _, err := c.Write(data[off : off+1<<20]); err != nil {
						return err
					}
				}
				return c.CloseWrite()
			},
			func() error {
				buf := make([]byte, 128<<10)
				for {
					n, err := c.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						return err
					}
				}
				if !bytes.Equal(got, data) {
					return fmt.Errorf("received %d bytes, differing from the %d sent", len(got), size)
				}
				return nil
			})
	})
}

// TestHalfClose: the client writes, then CloseWrite; the server echoes
// everything, sees EOF and closes; the client reads it all, then EOF.
func TestHalfClose(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		c, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		msg := randomBytes(rand.New(rand.NewPCG(3, 4)), 100_000)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if err := c.CloseWrite(); err != nil {
			return err
		}
		got, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes differs (got %d)", len(msg), len(got))
		}
		if _, err := c.Write([]byte("x")); err == nil {
			return fmt.Errorf("write after CloseWrite succeeded")
		}
		return nil
	})
}

// TestResetClients: 200 clients reset their connections mid-stream
// (SO_LINGER 0); every handler ends and the server keeps serving.
func TestResetClients(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		clients := make([]func() error, 200)
		for i := range clients {
			clients[i] = func() error {
				c, err := Dial(h, "tcp", l.Addr().String())
				if err != nil {
					return err
				}
				// Mid-stream: the server is busy echoing a big write
				// that is never read.
				if _, err := c.Write(make([]byte, 64<<10)); err != nil {
					return err
				}
				if i%2 == 0 {
					if err := h.Raw().Yield(); err != nil {
						return err
					}
				}
				if err := c.SetLinger(0); err != nil {
					return err
				}
				return c.Close()
			}
		}
		if err := spawnAll(h, clients...); err != nil {
			return err
		}
		if ok, err := srv.Wait(10 * time.Second); !ok || err != nil {
			return fmt.Errorf("%d handlers still running after the resets (%v)", srv.Active(), err)
		}
		c, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		return roundTrip(c, []byte("still serving"), make([]byte, 64))
	})
}

// TestSlowReader: one client sends megabytes and never reads, so the
// server's green thread for it parks in Write; another client's echoes
// stay prompt meanwhile.
func TestSlowReader(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		hog, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer hog.Close()
		sent := 0
		hogDone := false
		if _, err := h.Raw().Spawn(func() error {
			chunk := make([]byte, 256<<10)
			for sent < 64<<20 && !hogDone {
				n, err := hog.Write(chunk)
				sent += n
				if err != nil {
					return nil // closed at the end of the test
				}
			}
			return nil
		}, nil); err != nil {
			return err
		}
		// Let the hog fill every buffer between it and the server.
		for sent < 4<<20 {
			if err := h.Raw().Sleep(time.Millisecond); err != nil {
				return err
			}
		}
		c, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 1024)
		var worst time.Duration
		for i := range 200 {
			start := time.Now()
			if err := roundTrip(c, []byte("ping "+strconv.Itoa(i)), buf); err != nil {
				return err
			}
			worst = max(worst, time.Since(start))
		}
		hogDone = true
		if sent >= 64<<20 {
			return fmt.Errorf("the hog was never held back: kernel buffers absorbed %d bytes", sent)
		}
		if worst > 2*time.Second {
			return fmt.Errorf("slowest echo took %v while another client hogged the server", worst)
		}
		return nil
	})
}

// TestNoFDLeak: 10,000 connect/echo/close cycles leave the number of open
// file descriptors of the process unchanged.
func TestNoFDLeak(t *testing.T) {
	cycles := fdCycles
	hubtest.Main(t, func(h *hub.Hub) error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		before, err := openFDs()
		if err != nil {
			return err
		}
		msg, buf := []byte("leak?"), make([]byte, 16)
		for range cycles {
			c, err := Dial(h, "tcp", l.Addr().String())
			if err != nil {
				return err
			}
			if err := roundTrip(c, msg, buf); err != nil {
				return err
			}
			if err := c.Close(); err != nil {
				return err
			}
		}
		if ok, err := srv.Wait(10 * time.Second); !ok || err != nil {
			return fmt.Errorf("%d handlers still running (%v)", srv.Active(), err)
		}
		after, err := openFDs()
		if err != nil {
			return err
		}
		if after != before {
			return fmt.Errorf("open fds: %d before %d cycles, %d after", before, cycles, after)
		}
		return nil
	})
}

func openFDs() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		var n int
		// Not Linux: count with fcntl.
		for fd := range 4096 {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				n++
			}
		}
		return n, nil
	}
	return len(ents), nil
}

// TestRoundTrips: unix sockets, IPv6, and UDP over IPv4 and IPv6.
func TestRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		addr    string
	}{
		{name: "unix", network: "unix", addr: "@"},
		{name: "tcp6", network: "tcp6", addr: "[::1]:0"},
		{name: "tcp-dual-stack", network: "tcp", addr: ":0"},
		{name: "tcp4-localhost", network: "tcp4", addr: "localhost:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if addr == "@" {
				addr = t.TempDir() + "/echo.sock"
			}
			hubtest.Main(t, func(h *hub.Hub) error {
				l, srv, err := startEcho(h, tc.network, addr)
				if err != nil {
					return err
				}
				defer srv.Stop()
				dialAddr := l.Addr().String()
				if tc.network == "tcp" {
					dialAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
				}
				c, err := Dial(h, tc.network, dialAddr)
				if err != nil {
					return err
				}
				defer c.Close()
				if c.RemoteAddr().String() != l.Addr().String() && tc.network != "tcp" {
					return fmt.Errorf("RemoteAddr %v, listening on %v", c.RemoteAddr(), l.Addr())
				}
				return roundTrip(c, []byte("hello, "+tc.name), make([]byte, 64))
			})
		})
	}
	for _, tc := range []struct {
		name    string
		network string
		addr    string
	}{
		{name: "udp4", network: "udp4", addr: "127.0.0.1:0"},
		{name: "udp6", network: "udp6", addr: "[::1]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				srv, err := ListenPacket(h, tc.network, tc.addr)
				if err != nil {
					return err
				}
				defer srv.Close()
				if _, err := h.Raw().Spawn(func() error {
					buf := make([]byte, 2048)
					for {
						n, from, err := srv.ReadFrom(buf)
						if err != nil {
							return nil
						}
						if _, err := srv.WriteTo(buf[:n], from); err != nil {
							return err
						}
					}
				}, nil); err != nil {
					return err
				}
				// A PacketConn client with WriteTo/ReadFrom…
				cl, err := ListenPacket(h, tc.network, tc.addr)
				if err != nil {
					return err
				}
				defer cl.Close()
				for i := range 10 {
					msg := []byte("datagram " + strconv.Itoa(i))
					if _, err := cl.WriteTo(msg, srv.LocalAddr()); err != nil {
						return err
					}
					buf := make([]byte, 2048)
					n, from, err := cl.ReadFrom(buf)
					if err != nil {
						return err
					}
					if !bytes.Equal(buf[:n], msg) || from.String() != srv.LocalAddr().String() {
						return fmt.Errorf("got %q from %v", buf[:n], from)
					}
				}
				// …and a connected one through Dial.
				c, err := Dial(h, tc.network, srv.LocalAddr().String())
				if err != nil {
					return err
				}
				defer c.Close()
				return roundTrip(c, []byte("connected datagram"), make([]byte, 64))
			})
		})
	}
}
