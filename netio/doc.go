// Package netio is greenhub's networking: non-blocking TCP, unix and UDP
// sockets on a hub, with the stdlib's faces — *Conn is a net.Conn,
// *Listener a net.Listener, *PacketConn a net.PacketConn — whose blocking
// calls park the calling green thread instead of the OS thread (eventlet's
// listen, connect, serve and GreenSocket, with the hub's fd wait as
// trampoline).
//
// Each socket is registered once with the hub's poller, edge-triggered for
// both directions. A Read calls read(2) while the socket may have data and
// parks on the poller when it has none; a short read on a stream means the
// buffer is drained, so the next Read parks without the EAGAIN round trip.
// An echo is thus read-ready → resume → one read → one write → park, with
// no allocation. Writes are finished even when partial. Deadlines run on
// hub timers embedded in the socket and fail with an error that errors.Is
// os.ErrDeadlineExceeded and is a net.Error with Timeout() true; errors a
// waker sends to a parked call (greensync's Timeout, a context's
// cancellation, a Kill) come out of Read, Write and Accept unchanged in
// errors.Is terms, wrapped in a *net.OpError. Because they are net.Conns,
// bufio, io.Copy, net/textproto and net/http's ReadRequest work on them
// inside green threads unchanged.
//
// Which goroutine may call what: the blocking calls (Read, Write, Accept,
// ReadFrom, WriteTo, Dial, Wait) only the hub's green threads; the rest
// (Close, deadlines, socket options, Listen with a literal address) also
// hub callbacks; LocalAddr, RemoteAddr and Addr any goroutine. Any other
// caller gets an error that errors.Is hub.ErrOutside and nothing is
// touched. TLSConn follows the same rule. Plain goroutines reach a Conn
// through Bridge (a TLSConn through BridgeTLS), which holds a reference
// on the hub (hub.Hub.Ref) for each call in flight.
//
// The hub's lock rule applies to what is layered on a Conn: crypto/tls
// holds sync.Mutex locks across reads and writes of the connection under
// it, so a tls.Conn made directly over a Conn freezes the hub's OS thread
// for good as soon as two green threads contend for it (a Write while a
// Read is parked in the handshake, a Close while a Write is parked; see
// package hub). TLSConn is the safe way to layer TLS (eventlet's
// wrap_ssl): TLSServer, TLSClient and DialTLS run crypto/tls over a
// transport that never parks once the handshake is over, and park outside
// tls, behind greensync locks, so readers, a writer and Close may meet on
// one connection. Other libraries that hold Go locks across I/O need the
// same care: one green thread at a time, or a greensync.Mutex.
//
// Serve (eventlet's serve) runs a handler in a green thread per accepted
// connection, started by a SpawnFunc so a bounded pool can be plugged in.
// Accept survives running out of file descriptors: it logs once, backs
// off on a hub timer and resumes when descriptors are free, while the
// existing connections are served.
package netio
