package bench

import (
	"io"
	"net"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

const echoMsg = 64

// BenchmarkEchoLoopback: one client green thread and one server green
// thread on one hub exchange 64-byte messages over real TCP loopback; one
// op is one round trip. Per round trip: the client's write, the server's
// read and write, the client's read, and the polls that wake them.
func BenchmarkEchoLoopback(b *testing.B) {
	b.ReportAllocs()
	h := hub.New()
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		if _, err := h.Raw().Spawn(func() error {
			c, err := l.AcceptConn()
			if err != nil {
				return err
			}
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return nil
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return nil
				}
			}
		}, nil); err != nil {
			return err
		}
		c, err := netio.Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		// The client reads into a buffer larger than the message, as a
		// server does: a short read tells netio the socket is drained.
		msg, buf := make([]byte, echoMsg), make([]byte, 4096)
		if err := echoOnce(c, msg, buf); err != nil { // warm up: accept, first wake-ups
			return err
		}
		b.ResetTimer()
		for range b.N {
			if err := echoOnce(c, msg, buf); err != nil {
				return err
			}
		}
		b.StopTimer()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRawEchoLoopback is the baseline: the same exchange with
// blocking stdlib net, a server goroutine and the benchmark's goroutine as
// client, GOMAXPROCS unchanged.
func BenchmarkRawEchoLoopback(b *testing.B) {
	b.ReportAllocs()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	msg, buf := make([]byte, echoMsg), make([]byte, 4096)
	if err := echoOnce(c, msg, buf); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := echoOnce(c, msg, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	<-done
}

// echoOnce writes msg and reads len(msg) bytes back into buf, which is at
// least as long.
func echoOnce(c io.ReadWriter, msg, buf []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	for got := 0; got < len(msg); {
		n, err := c.Read(buf[got:])
		if err != nil {
			return err
		}
		got += n
	}
	return nil
}
