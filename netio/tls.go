package netio

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
)

// tlsChunk is how much plaintext TLSConn.Write hands crypto/tls at a time:
// the ciphertext waiting to go out never exceeds about this much, however
// large the Write.
const tlsChunk = 64 << 10

// tlsKeepBuf is the largest ciphertext buffer a TLSConn keeps between
// Writes; a larger one (grown while the kernel's buffer was full) is
// dropped, so that idle connections hold no big buffers.
const tlsKeepBuf = 16 << 10

// errWouldBlock is what the transport under a TLSConn's tls.Conn returns
// when the socket has no data now. crypto/tls does not record a net.Error
// whose Temporary() is true as the connection's error (readRecordOrCCS),
// and keeps the partial record it has read, so the read can be taken up
// again once the socket is readable.
var errWouldBlock net.Error = wouldBlockError{}

type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "netio: no data on the socket now" }
func (wouldBlockError) Timeout() bool   { return true }
func (wouldBlockError) Temporary() bool { return true }

// errHandshakeAborted is the lasting error of a TLSConn whose handshake was
// unwound by a kill while it was inside crypto/tls: the tls.Conn is left
// half-way through its handshake, so it is not used again.
var errHandshakeAborted = errors.New("netio: TLS handshake aborted by a kill; the connection is unusable")

// TLSConn is a TLS connection over a Conn: eventlet's wrap_ssl, and the
// safe way to layer crypto/tls on a green socket. It is a net.Conn; like
// tls.Conn, Read and Write run the handshake first if it has not run.
//
// A tls.Conn holds its sync.Mutex locks (the handshake lock and one per
// direction) across its reads and writes of the connection under it. On a
// Conn those park the green thread, so a plain tls.Conn freezes the hub's
// OS thread for good as soon as a second green thread wants one of them: a
// Write while a Read is parked in the handshake, a reader that must send
// an alert or a KeyUpdate reply while a Write is parked, a Close
// (close_notify) while a Write is parked. TLSConn never parks while
// crypto/tls holds a lock, after the handshake:
//
//   - tls.Conn runs over a transport that does not block. Its Read reads
//     the socket without waiting and, when there is nothing, returns a
//     temporary error, which tls does not keep (the partial record it has
//     read stays buffered in tls); TLSConn.Read then parks, outside tls,
//     until the socket is readable, and calls tls again. Its Write writes
//     what the kernel takes and buffers the rest; TLSConn then writes that
//     buffer out, parking as needed, outside tls, holding its write lock.
//     Write hands tls 64 KiB of plaintext at a time, so the buffer stays
//     small whatever the size of the Write. What a Read makes tls send (an
//     alert, the reply to a KeyUpdate) goes out at once if the kernel
//     takes it and no Write is under way; otherwise it waits in the buffer
//     for the Write under way, or the next one, and a Read never waits for
//     the socket to be writable (which could deadlock with a peer that
//     waits for us to read).
//   - The handshake reads and writes the socket directly, parking inside
//     tls: its errors are final in crypto/tls, so it cannot be taken up
//     again after a temporary error. It runs holding both of TLSConn's
//     green locks (the read lock, then the write lock), so nothing else of
//     this TLSConn enters tls meanwhile: other readers and writers wait
//     for it, ConnectionState does not ask tls, Close closes the socket
//     under it.
//
// Reads are behind one greensync.Mutex and writes behind another: one
// green thread may read while another writes, and further readers (or
// writers) wait their turn in FIFO order instead of failing with ErrBusy.
//
// Which goroutine may call what is as for Conn: Read, Write, Handshake,
// HandshakeContext and CloseWrite block, so only the hub's green threads
// may call them; Close and the deadlines also work from hub callbacks;
// LocalAddr, RemoteAddr, ConnectionState and NetConn from any goroutine.
// Other callers get an error that errors.Is hub.ErrOutside. BridgeTLS
// gives plain goroutines a net.Conn that forwards to the hub.
//
// Timeouts: a read deadline, a greensync.Timeout, a context or a Kill that
// ends a Read after the handshake leaves the connection usable, since the
// wait happens outside tls. So does one that ends a Write: what tls has
// already encrypted stays buffered in the TLSConn (Write counts it as
// written), and goes out ahead of the next Write, or at CloseWrite or
// Close; Write(nil) just pushes it out. (crypto/tls over a plain net.Conn
// instead fails every later Write after a write timeout.) A write error
// from the socket (a reset, a closed socket) is final: every later Write
// returns it. Any error of the handshake, a timeout included, is final,
// as in crypto/tls.
//
// Renegotiation is not supported: the tls.Config's Renegotiation is
// treated as tls.RenegotiateNever, so a TLS 1.2 server's HelloRequest
// fails the connection. The callbacks of the tls.Config (GetCertificate,
// VerifyPeerCertificate…) run in the green thread doing the handshake, on
// the hub's thread: they must not block the OS thread, though they may
// park (a greensync wait, a netio call). Reading or writing NetConn
// directly corrupts the TLS stream.
type TLSConn struct {
	c    *Conn
	h    *hub.Hub
	conn *tls.Conn
	tr   tlsTransport

	rmu *greensync.Mutex // held by Read and the handshake
	wmu *greensync.Mutex // held by Write, CloseWrite and the handshake

	// done is set once the handshake has succeeded; ConnectionState reads
	// it from any goroutine.
	done atomic.Bool
	// hsErr, once set, is returned instead of calling tls again (a
	// handshake that failed or was killed).
	hsErr error
	// werr is the final write error: the socket failed a write.
	werr   error
	closed bool
}

var (
	_ net.Conn                        = (*TLSConn)(nil)
	_ interface{ CloseWrite() error } = (*TLSConn)(nil)
)

// TLSServer returns the server side of a TLS connection over c, as
// tls.Server does; the handshake runs at the first Read or Write, or at
// Handshake. config must hold a certificate (Certificates,
// GetCertificate or GetConfigForClient). c belongs to the TLSConn from now
// on: its Close closes c.
func TLSServer(c *Conn, config *tls.Config) *TLSConn {
	return newTLSConn(c, config, tls.Server)
}

// TLSClient returns the client side of a TLS connection over c, as
// tls.Client does. config must set ServerName or InsecureSkipVerify.
func TLSClient(c *Conn, config *tls.Config) *TLSConn {
	return newTLSConn(c, config, tls.Client)
}

func newTLSConn(c *Conn, config *tls.Config, wrap func(net.Conn, *tls.Config) *tls.Conn) *TLSConn {
	if config != nil && config.Renegotiation != tls.RenegotiateNever {
		config = config.Clone()
		config.Renegotiation = tls.RenegotiateNever
	}
	t := &TLSConn{c: c, h: c.fd.h, rmu: greensync.NewMutex(c.fd.h), wmu: greensync.NewMutex(c.fd.h)}
	t.tr = tlsTransport{t: t, blocking: true}
	t.conn = wrap(&t.tr, config)
	return t
}

// DialTLS dials address on network with Dial and runs the client
// handshake from a green thread of h, as tls.Dial does. If config lacks a
// ServerName, the host part of address is used; a nil config is the zero
// configuration. On failure the connection is closed.
func DialTLS(h *hub.Hub, network, address string, config *tls.Config) (*TLSConn, error) {
	if config == nil {
		config = &tls.Config{}
	}
	if config.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			host = address
		}
		config = config.Clone()
		config.ServerName = host
	}
	c, err := Dial(h, network, address)
	if err != nil {
		return nil, err
	}
	t := TLSClient(c, config)
	if err := t.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return t, nil
}

// Handshake runs the handshake if it has not run: HandshakeContext with
// context.Background().
func (t *TLSConn) Handshake() error { return t.HandshakeContext(context.Background()) }

// HandshakeContext runs the client or server handshake if it has not run
// yet, parking the calling green thread; later calls return its result.
// If ctx is done before the handshake is over, the handshake fails with an
// error that errors.Is ctx.Err(); ctx reaches the tls.Config's callbacks
// (ClientHelloInfo.Context) without its cancellation. A read deadline, a
// write deadline or a greensync.Timeout also ends it. Any failure is
// final, as in crypto/tls.
func (t *TLSConn) HandshakeContext(ctx context.Context) error {
	if t.done.Load() {
		return nil
	}
	if err := t.c.fd.green(); err != nil {
		return t.c.fd.opErr("handshake", err)
	}
	if ctx.Done() == nil {
		return t.handshake(ctx)
	}
	_, err := greensync.WithContext(t.h, ctx, func() (struct{}, error) {
		return struct{}{}, t.handshake(context.WithoutCancel(ctx))
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// handshake runs the handshake holding both green locks, the read lock
// first. The caller is a green thread.
func (t *TLSConn) handshake(ctx context.Context) error {
	if t.done.Load() {
		return nil
	}
	if err := t.rmu.LockErr(); err != nil {
		return t.c.fd.opErr("handshake", err)
	}
	defer t.rmu.Unlock()
	if err := t.wmu.LockErr(); err != nil {
		return t.c.fd.opErr("handshake", err)
	}
	defer t.wmu.Unlock()
	switch {
	case t.done.Load():
		return nil
	case t.hsErr != nil:
		return t.hsErr
	case t.isClosed():
		return t.c.fd.opErr("handshake", net.ErrClosed)
	}
	returned := false
	defer func() {
		if !returned { // a kill unwinds from a park inside tls
			t.hsErr = errHandshakeAborted
		}
	}()
	err := t.conn.HandshakeContext(ctx)
	returned = true
	if err != nil {
		t.hsErr = err
		return err
	}
	t.tr.blocking = false
	t.done.Store(true)
	return nil
}

// Read reads decrypted data, parking the calling green thread until there
// is some; the first Read runs the handshake. It returns io.EOF after the
// peer's close_notify, an error that errors.Is os.ErrDeadlineExceeded
// when the read deadline passes, net.ErrClosed after Close, and a waker's
// error (a greensync.Timeout, a context) unchanged in errors.Is terms; the
// last three leave the connection usable once the handshake is over.
func (t *TLSConn) Read(b []byte) (int, error) {
	if err := t.c.fd.green(); err != nil {
		return 0, t.c.fd.opErr("read", err)
	}
	if err := t.handshake(context.Background()); err != nil {
		return 0, err
	}
	if err := t.rmu.LockErr(); err != nil {
		return 0, t.c.fd.opErr("read", err)
	}
	defer t.rmu.Unlock()
	for {
		if t.isClosed() {
			return 0, t.c.fd.opErr("read", net.ErrClosed)
		}
		n, err := t.conn.Read(b)
		t.tr.force = false
		t.pushOut()
		if err == errWouldBlock {
			if n > 0 {
				// tls looked for a close_notify after the data and found
				// only part of the next record.
				return n, nil
			}
			if err := t.c.waitReadable(); err != nil {
				return 0, err
			}
			t.tr.force = true
			continue
		}
		return n, err
	}
}

// pushOut writes out, without waiting, the ciphertext a Read made tls
// produce (an alert, a KeyUpdate reply) if no Write is under way; if one
// is, it writes it out after its own, in order.
func (t *TLSConn) pushOut() {
	if !t.tr.pending() || !t.wmu.TryLock() {
		return
	}
	t.tr.writeOut()
	t.wmu.Unlock()
}

// Write encrypts b and writes it, parking the calling green thread while
// the kernel's buffer is full; the first Write runs the handshake. It
// hands tls 64 KiB of b at a time and writes the records out before the
// next piece. A Write that a deadline or a waker ends returns the count
// tls has taken (its records stay buffered, to go out first next time) and
// an error that errors.Is os.ErrDeadlineExceeded or the waker's; the
// connection stays usable. A write error of the socket is final.
func (t *TLSConn) Write(b []byte) (int, error) {
	if err := t.c.fd.green(); err != nil {
		return 0, t.c.fd.opErr("write", err)
	}
	if err := t.handshake(context.Background()); err != nil {
		return 0, err
	}
	if err := t.wmu.LockErr(); err != nil {
		return 0, t.c.fd.opErr("write", err)
	}
	defer t.wmu.Unlock()
	defer t.tr.trim()
	nn := 0
	for {
		if t.isClosed() {
			return nn, t.c.fd.opErr("write", net.ErrClosed)
		}
		if t.werr != nil {
			return nn, t.werr
		}
		if err := t.flush(); err != nil {
			return nn, err
		}
		if nn == len(b) {
			return nn, nil
		}
		if t.c.fd.wexp {
			return nn, t.c.fd.opErr("write", os.ErrDeadlineExceeded)
		}
		m, err := t.conn.Write(b[nn:min(len(b), nn+tlsChunk)])
		if err != nil {
			t.werr = err
			return nn, err
		}
		if t.werr != nil {
			return nn, t.werr
		}
		nn += m
	}
}

// flush writes out the buffered ciphertext, parking while the kernel's
// buffer is full. The caller holds the write lock and is a green thread.
// A deadline or a waker's error leaves the rest buffered; a socket error
// is final.
func (t *TLSConn) flush() error {
	tr := &t.tr
	force := false
	for tr.pending() {
		n, err := t.c.writeNow(tr.out[tr.off:], force)
		tr.off += n
		if err != nil {
			t.fail(err)
			return err
		}
		if !tr.pending() {
			break
		}
		if err := t.c.waitWritable(); err != nil {
			if errors.Is(err, net.ErrClosed) {
				t.fail(err)
			}
			return err
		}
		force = true
	}
	tr.out, tr.off = tr.out[:0], 0
	return nil
}

// fail records err, a write error of the socket, as final and drops the
// ciphertext that cannot be sent any more.
func (t *TLSConn) fail(err error) {
	if t.werr == nil {
		t.werr = err
	}
	t.tr.out, t.tr.off = nil, 0
}

// Close closes the connection: green threads parked in Read or Write wake
// with net.ErrClosed. It never waits. If no Write or handshake is under
// way, it first sends close_notify, as much of it as the kernel takes at
// once (with any ciphertext a timed-out Write left); otherwise it closes
// the socket under tls without calling into tls. Closing twice returns an
// error that errors.Is net.ErrClosed. Hub thread only (green threads and
// hub callbacks).
func (t *TLSConn) Close() error {
	if err := t.c.fd.onHub(); err != nil {
		return t.c.fd.opErr("close", err)
	}
	if t.closed {
		return t.c.fd.opErr("close", net.ErrClosed)
	}
	t.closed = true
	if t.done.Load() && t.hsErr == nil && t.werr == nil && !t.c.fd.pfd.Closed() && t.wmu.TryLock() {
		// Nobody is inside tls: after the handshake, no tls call parks.
		if t.conn.CloseWrite() == nil {
			t.tr.writeOut()
		}
		t.wmu.Unlock()
	}
	return t.c.Close()
}

// CloseWrite sends close_notify, after the data written so far, parking
// while the kernel's buffer is full: the peer reads io.EOF, and Write
// fails from now on. As with tls.Conn.CloseWrite, the socket's own writing
// side stays open, and it fails before the handshake has completed.
func (t *TLSConn) CloseWrite() error {
	if err := t.c.fd.green(); err != nil {
		return t.c.fd.opErr("close write", err)
	}
	if !t.done.Load() {
		if t.hsErr != nil {
			return t.hsErr
		}
		return errors.New("netio: TLS CloseWrite called before the handshake completed")
	}
	if err := t.wmu.LockErr(); err != nil {
		return t.c.fd.opErr("close write", err)
	}
	defer t.wmu.Unlock()
	switch {
	case t.isClosed():
		return t.c.fd.opErr("close write", net.ErrClosed)
	case t.werr != nil:
		return t.werr
	}
	if err := t.conn.CloseWrite(); err != nil {
		return err
	}
	return t.flush()
}

func (t *TLSConn) isClosed() bool { return t.closed || t.c.fd.pfd.Closed() }

// ConnectionState returns the state of the connection as tls.Conn's does,
// once the handshake has succeeded; before that, the zero state (tls would
// have to take the lock a handshake in progress holds). Any goroutine.
func (t *TLSConn) ConnectionState() tls.ConnectionState {
	if !t.done.Load() {
		return tls.ConnectionState{}
	}
	return t.conn.ConnectionState()
}

// NetConn returns the Conn under the TLS connection, for socket options.
// Reading or writing it corrupts the TLS stream. Any goroutine.
func (t *TLSConn) NetConn() *Conn { return t.c }

// LocalAddr returns the local address. Any goroutine.
func (t *TLSConn) LocalAddr() net.Addr { return t.c.LocalAddr() }

// RemoteAddr returns the peer's address. Any goroutine.
func (t *TLSConn) RemoteAddr() net.Addr { return t.c.RemoteAddr() }

// SetDeadline sets both deadlines, as Conn.SetDeadline does.
func (t *TLSConn) SetDeadline(d time.Time) error { return t.c.SetDeadline(d) }

// SetReadDeadline makes Read fail with an error that errors.Is
// os.ErrDeadlineExceeded once d has passed; plaintext tls has already
// decrypted is still returned. It acts on a Read already parked. After the
// handshake, a Read that timed out leaves the connection usable.
func (t *TLSConn) SetReadDeadline(d time.Time) error { return t.c.SetReadDeadline(d) }

// SetWriteDeadline is SetReadDeadline for Write. A Write past its deadline
// hands tls nothing more; ciphertext already made is kept for the next
// Write (see TLSConn).
func (t *TLSConn) SetWriteDeadline(d time.Time) error { return t.c.SetWriteDeadline(d) }

// tlsTransport is the net.Conn under a TLSConn's tls.Conn. In blocking
// mode (the handshake) it is the Conn itself. Afterwards its Read never
// waits, returning errWouldBlock when the socket has nothing, and its
// Write never fails: what the kernel does not take at once is buffered in
// out, behind what is buffered already, and written out by the holder of
// the TLSConn's write lock. Only the hub's thread uses it.
type tlsTransport struct {
	t        *TLSConn
	blocking bool
	force    bool   // read even if the readiness hint is clear
	out      []byte // ciphertext not yet written; out[off:] is left
	off      int
}

func (tr *tlsTransport) pending() bool { return tr.off < len(tr.out) }

func (tr *tlsTransport) Read(b []byte) (int, error) {
	if tr.blocking {
		return tr.t.c.Read(b)
	}
	n, err := tr.t.c.readNow(b, tr.force)
	tr.force = false
	return n, err
}

func (tr *tlsTransport) Write(b []byte) (int, error) {
	t := tr.t
	if tr.blocking {
		return t.c.Write(b)
	}
	if t.werr != nil {
		return len(b), nil // dropped: the writer reports werr
	}
	n := 0
	if !tr.pending() {
		var err error
		if n, err = t.c.writeNow(b, false); err != nil {
			t.fail(err)
			return len(b), nil
		}
		if n == len(b) {
			return n, nil
		}
		tr.out, tr.off = tr.out[:0], 0
	}
	tr.out = append(tr.out, b[n:]...)
	return len(b), nil
}

// writeOut writes what the kernel takes of the buffer now, never parking.
// The caller holds the write lock (or TryLock'ed it).
func (tr *tlsTransport) writeOut() {
	if !tr.pending() {
		return
	}
	n, err := tr.t.c.writeNow(tr.out[tr.off:], false)
	tr.off += n
	if err != nil {
		tr.t.fail(err)
		return
	}
	if !tr.pending() {
		tr.out, tr.off = tr.out[:0], 0
	}
}

// trim drops a big buffer once it is empty.
func (tr *tlsTransport) trim() {
	if !tr.pending() && cap(tr.out) > tlsKeepBuf {
		tr.out, tr.off = nil, 0
	}
}

// Close closes the socket (crypto/tls calls it only when told to close;
// a RecordHeaderError's Conn is this transport).
func (tr *tlsTransport) Close() error { return tr.t.c.Close() }

func (tr *tlsTransport) LocalAddr() net.Addr  { return tr.t.c.LocalAddr() }
func (tr *tlsTransport) RemoteAddr() net.Addr { return tr.t.c.RemoteAddr() }

// The deadlines are the TLSConn's to set: crypto/tls sets a write deadline
// around close_notify, which must not fail the flush that follows.
func (tr *tlsTransport) SetDeadline(time.Time) error      { return nil }
func (tr *tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (tr *tlsTransport) SetWriteDeadline(time.Time) error { return nil }
