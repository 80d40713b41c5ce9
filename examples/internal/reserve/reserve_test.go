package reserve

import (
	"context"
	"net"
	"syscall"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// reusePort is a net.ListenConfig whose listeners have SO_REUSEPORT, as
// netio.ListenConfig{ReusePort: true} makes them.
var reusePort = net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
	if err != nil {
		return err
	}
	return serr
}}

// TestReserve: the reserved address takes no connection, a SO_REUSEPORT
// listener may join it, a plain one may not.
func TestReserve(t *testing.T) {
	tests := []struct {
		addr     string
		wantHost string // of the address to listen on
	}{
		{"127.0.0.1:0", "127.0.0.1"},
		{":0", ""}, // a wildcard stays a wildcard
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			f, addr, err := Reserve(tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host != tt.wantHost || port == "0" {
				t.Fatalf("Reserve(%q) = %q, %v", tt.addr, addr, err)
			}
			if again, err := Addr(f, tt.addr); err != nil || again != addr {
				t.Errorf("Addr = %q, %v; want %q", again, err, addr)
			}
			dialAddr := net.JoinHostPort("127.0.0.1", port)
			if c, err := net.Dial("tcp", dialAddr); err == nil {
				c.Close()
				t.Fatal("the reserved address accepted a connection")
			}
			if l, err := net.Listen("tcp", addr); err == nil {
				l.Close()
				t.Fatal("a listener without SO_REUSEPORT took the reserved port")
			}
			l, err := reusePort.Listen(context.Background(), "tcp", addr)
			if err != nil {
				t.Fatalf("a SO_REUSEPORT listener cannot join: %v", err)
			}
			defer l.Close()
			c, err := net.Dial("tcp", dialAddr)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}

func TestReserveErrors(t *testing.T) {
	for _, addr := range []string{"no-port", "127.0.0.1:http-nope"} {
		if f, _, err := Reserve(addr); err == nil {
			f.Close()
			t.Errorf("Reserve(%q): no error", addr)
		}
	}
}
