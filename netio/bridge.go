package netio

import (
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// Bridge returns a net.Conn through which plain goroutines use c, which
// stays on its hub: each call is handed to the hub through its door
// (hub.Submit) and, if it blocks, runs in a green thread of its own while
// the calling goroutine waits for the result. Reads are serialized among
// themselves, and so are writes, as the stdlib's net.Conn does, so
// concurrent readers queue instead of getting ErrBusy. It is the path for
// code that must stay on goroutines (the nettest conformance suite, a
// library that spawns its own goroutines); green threads should use c
// directly, which costs no thread hop.
//
// Calls after the hub has stopped return an error that errors.Is
// hub.ErrStopped.
func Bridge(c *Conn) net.Conn {
	return &connBridge{bridge: bridge{h: c.fd.h, c: c}, conn: c}
}

// BridgeTLS is Bridge for a TLSConn: the returned net.Conn also has
// CloseWrite and ConnectionState.
func BridgeTLS(c *TLSConn) net.Conn {
	return &tlsBridge{bridge: bridge{h: c.h, c: c}, conn: c}
}

// bridge forwards the net.Conn methods of c, a connection of h (a *Conn
// or a *TLSConn): Read and Write in green threads, the rest as hub
// callbacks.
type bridge struct {
	h   *hub.Hub
	c   net.Conn
	rmu sync.Mutex
	wmu sync.Mutex
}

type result struct {
	n   int
	err error
}

// green runs op in a new green thread of the hub and waits for it.
//
// While the call is in flight the goroutine holds a reference on the hub
// (hub.Hub.Ref): it will reach the hub, so the hub is not deadlocked for
// want of anything else to wake.
func (b *bridge) green(op func() (int, error)) (int, error) {
	h := b.h
	defer h.Ref()()
	done := make(chan result, 1)
	err := h.Submit(func() {
		var r result
		_, err := h.Raw().Spawn(func() error {
			r.n, r.err = op()
			return nil
		}, func(g *hub.G) {
			if g.Err() != nil && r.err == nil {
				r.err = g.Err() // killed as the hub stops
			}
			done <- r
		})
		if err != nil {
			done <- result{err: err}
		}
	})
	if err != nil {
		return 0, err
	}
	r := <-done
	return r.n, r.err
}

// callback runs f on the hub's thread as a hub callback and waits for it.
func (b *bridge) callback(f func() error) error {
	defer b.h.Ref()()
	done := make(chan error, 1)
	if err := b.h.Submit(func() { done <- f() }); err != nil {
		return err
	}
	return <-done
}

func (b *bridge) Read(p []byte) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	return b.green(func() (int, error) { return b.c.Read(p) })
}

func (b *bridge) Write(p []byte) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.green(func() (int, error) { return b.c.Write(p) })
}

func (b *bridge) Close() error { return b.callback(b.c.Close) }

func (b *bridge) LocalAddr() net.Addr  { return b.c.LocalAddr() }
func (b *bridge) RemoteAddr() net.Addr { return b.c.RemoteAddr() }

func (b *bridge) SetDeadline(t time.Time) error {
	return b.callback(func() error { return b.c.SetDeadline(t) })
}

func (b *bridge) SetReadDeadline(t time.Time) error {
	return b.callback(func() error { return b.c.SetReadDeadline(t) })
}

func (b *bridge) SetWriteDeadline(t time.Time) error {
	return b.callback(func() error { return b.c.SetWriteDeadline(t) })
}

type connBridge struct {
	bridge
	conn *Conn
}

// CloseWrite half-closes the connection.
func (b *connBridge) CloseWrite() error { return b.callback(b.conn.CloseWrite) }

// CloseRead shuts down the reading side.
func (b *connBridge) CloseRead() error { return b.callback(b.conn.CloseRead) }

type tlsBridge struct {
	bridge
	conn *TLSConn
}

// CloseWrite sends close_notify (it may wait for the socket, so it runs in
// a green thread).
func (b *tlsBridge) CloseWrite() error {
	_, err := b.green(func() (int, error) { return 0, b.conn.CloseWrite() })
	return err
}

// ConnectionState is TLSConn.ConnectionState, which any goroutine may call.
func (b *tlsBridge) ConnectionState() tls.ConnectionState { return b.conn.ConnectionState() }
