package greenhttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// connState says whether Shutdown may close a connection now.
type connState uint8

const (
	stateIdle     connState = iota // waiting for a request's first byte
	stateActive                    // reading, serving or answering a request
	stateHijacked                  // the handler owns the connection
)

// Buffer sizes of a connection: net/http's.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 4 << 10
)

// errStopWatch interrupts the green thread watching for the client's
// departure when the connection's own green thread needs the socket back.
var errStopWatch = errors.New("greenhttp: watch stopped")

// conn is one served connection. All of it belongs to the hub's thread: the
// connection's green thread, the watcher it may start, and Shutdown/Close.
type conn struct {
	srv    *Server
	h      *hub.Hub
	raw    *netio.Conn     // the socket
	tls    *netio.TLSConn  // the TLS layer, nil for plain HTTP
	nc     net.Conn        // raw or tls: what requests are read from
	r      connReader      // under br: read limits and the watcher's byte
	br     *bufio.Reader   // requests
	bw     *bufio.Writer   // responses
	base   context.Context // parent of the request contexts
	client string          // the remote address, as Request.RemoteAddr
	host   string          // its host part, for the access log

	tlsState *tls.ConnectionState

	accepted time.Time // when the connection was accepted: the first header timeout's start
	state    connState
	closed   bool
	requests int
	header   http.Header  // the response header map, cleared per request
	head     bytes.Buffer // the response's status line and headers until commit
	chunkBuf []byte       // the responses' body buffer, MinChunkSize bytes

	cur        *response // the request being served
	watchG     *hub.G    // the green thread watching for the client's departure
	clientGone bool      // the watcher saw EOF or an error
}

func (srv *Server) newConn(nc *netio.Conn, base context.Context, tlsConfig *tls.Config) *conn {
	c := &conn{srv: srv, h: srv.h, raw: nc, nc: nc, base: base, accepted: time.Now()}
	if tlsConfig != nil {
		c.tls = netio.TLSServer(nc, tlsConfig)
		c.nc = c.tls
	}
	c.client = nc.RemoteAddr().String()
	c.host = c.client
	if host, _, err := net.SplitHostPort(c.client); err == nil {
		c.host = host
	}
	c.r.c = c
	srv.conns[c] = struct{}{}
	return c
}

// serve is the connection's green thread: it reads requests and answers
// them in order until the connection closes, a request asks for the close,
// or the server shuts down.
func (c *conn) serve() {
	defer c.end()
	if c.tls != nil && !c.handshake() {
		return
	}
	c.br = bufio.NewReaderSize(&c.r, readBufferSize)
	c.bw = bufio.NewWriterSize(c.nc, writeBufferSize)
	c.header = make(http.Header)
	c.chunkBuf = make([]byte, 0, c.srv.limit.chunk)
	for {
		w, err := c.readRequest()
		if err != nil {
			c.reject(err)
			return
		}
		c.serveRequest(w)
		if c.state == stateHijacked {
			w.ctx.cancel(nil) // the handler has returned
			c.cur = nil
			return
		}
		keep := c.finishRequest(w)
		if !keep {
			return
		}
		if c.srv.shuttingDown {
			c.bw.Flush() // the answer held back for a pipelined burst
			return
		}
	}
}

// handshake performs the TLS handshake under the header timeout and records
// the connection state for the requests.
func (c *conn) handshake() bool {
	if d := c.srv.limit.readHeader; d > 0 {
		deadline := time.Now().Add(d)
		c.raw.SetReadDeadline(deadline)
		c.raw.SetWriteDeadline(deadline)
	}
	if err := c.tls.Handshake(); err != nil {
		if !isQuietReadError(err) {
			c.srv.logger().Debug("greenhttp: TLS handshake failed", "client", c.client, "err", err)
		}
		return false
	}
	c.raw.SetWriteDeadline(time.Time{})
	state := c.tls.ConnectionState()
	c.tlsState = &state
	return true
}

// end closes the connection unless a handler hijacked it, and takes it off
// the server's books.
func (c *conn) end() {
	if c.state != stateHijacked {
		c.close()
	}
	c.srv.forget(c)
}

// close closes the socket; a green thread parked on it wakes with
// net.ErrClosed. Hub thread only.
func (c *conn) close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.tls != nil {
		c.tls.Close()
	} else {
		c.raw.Close()
	}
}

// cancel cancels the context of the request being served, if any.
func (c *conn) cancel(cause error) {
	if w := c.cur; w != nil {
		w.ctx.cancel(cause)
	}
}

// readRequest waits for the next request and parses its line and headers
// within the limits. An error ends the connection: a *requestError is
// answered, anything else closes it quietly.
func (c *conn) readRequest() (*response, error) {
	lim := &c.srv.limit
	// The first request's header timeout runs from the accept.
	var headerFrom time.Time
	if c.requests == 0 {
		headerFrom = c.accepted
	}
	if c.br.Buffered() == 0 && !c.r.peeked {
		// The answers held back for a pipelined burst leave before the wait;
		// only then is the connection idle, for Shutdown to close.
		if err := c.bw.Flush(); err != nil {
			return nil, err
		}
		c.state = stateIdle
		if c.srv.shuttingDown {
			return nil, net.ErrClosed
		}
		wait := lim.idle
		if c.requests == 0 {
			wait = lim.readHeader
		}
		c.setReadDeadline(wait, headerFrom)
		if _, err := c.br.Peek(1); err != nil {
			return nil, err
		}
	}
	c.state = stateActive
	start := time.Now()
	if headerFrom.IsZero() {
		headerFrom = start
	}
	buffered, _ := c.br.Peek(c.br.Buffered())
	headerEnd := bytes.Index(buffered, []byte("\r\n\r\n"))
	if headerEnd < 0 {
		// The headers are still coming: bound them (slowloris). Headers
		// already buffered whole need no socket read, and no deadline.
		c.setReadDeadline(lim.readHeader, headerFrom)
	}
	c.r.limitTo(int64(lim.maxHeader+lim.maxURL+readBufferSize), bytes.IndexByte(buffered, '\n') >= 0)
	c.r.scan.feed(buffered)
	req, err := http.ReadRequest(c.br)
	hitLimit, sawLineEnd := c.r.unlimit()
	if err != nil {
		switch {
		case hitLimit && !sawLineEnd:
			return nil, errURITooLong
		case hitLimit:
			return nil, errHeaderTooLarge
		case errors.Is(err, io.EOF) || isQuietReadError(err):
			return nil, err
		case c.r.err != nil && isQuietReadError(c.r.err):
			// The client stopped or timed out in the middle of a line, which
			// bufio hands over as if complete: no answer to a partial request.
			return nil, c.r.err
		}
		return nil, &requestError{http.StatusBadRequest, err.Error()}
	}
	c.requests++
	if len(req.RequestURI) > lim.maxURL {
		return nil, errURITooLong
	}
	if rerr := checkRequest(req, &c.r.scan); rerr != nil {
		return nil, rerr
	}

	if lim.read > 0 {
		c.raw.SetReadDeadline(start.Add(lim.read))
	} else {
		c.raw.SetReadDeadline(time.Time{})
	}
	if lim.write > 0 {
		c.raw.SetWriteDeadline(time.Now().Add(lim.write))
	}
	return c.newResponse(req, start), nil
}

// setReadDeadline sets the read deadline d after from (now when zero), or
// none when d is 0.
func (c *conn) setReadDeadline(d time.Duration, from time.Time) {
	if d <= 0 {
		c.raw.SetReadDeadline(time.Time{})
		return
	}
	if from.IsZero() {
		from = time.Now()
	}
	c.raw.SetReadDeadline(from.Add(d))
}

// checkRequest applies the rules http.ReadRequest leaves to the server:
// HTTP/1 only, a host for HTTP/1.1 (ReadRequest rejects several Host headers
// itself), a known Expect, and the smuggling guard (RFC 9112 §6.1, §6.3):
// no Transfer-Encoding with a Content-Length, none in HTTP/1.0. ReadRequest
// deletes both fields before the server could see them, so the header block
// is scanned as it goes by (headerScan).
func checkRequest(req *http.Request, scan *headerScan) *requestError {
	if req.ProtoMajor != 1 {
		// http.ReadRequest parses any HTTP/x.y; this server speaks HTTP/1.
		return &requestError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != http.MethodConnect {
		return &requestError{http.StatusBadRequest, "missing required Host header"}
	}
	if e := req.Header.Get("Expect"); e != "" && !strings.EqualFold(e, "100-continue") {
		return &requestError{http.StatusExpectationFailed, "unsupported Expect header"}
	}
	if scan.sawTE && scan.sawCL {
		return &requestError{http.StatusBadRequest, "both Transfer-Encoding and Content-Length"}
	}
	if scan.sawTE && !req.ProtoAtLeast(1, 1) {
		return &requestError{http.StatusBadRequest, "Transfer-Encoding in HTTP/1.0"}
	}
	return nil
}

// headerScan watches a request's header block go by for the Content-Length
// and Transfer-Encoding fields, in any case, until the blank line that ends
// the block: fed the bytes buffered when the request began, then every byte
// read from the socket while the headers are read.
type headerScan struct {
	line         int  // bytes of the current line so far
	cr           bool // the current line is "\r" so far
	cl, te       bool // the current line so far is a prefix of clField / teField
	sawCL, sawTE bool
	done         bool // the header block has ended
}

const (
	clField = "content-length:"
	teField = "transfer-encoding:"
)

func (s *headerScan) feed(p []byte) {
	for len(p) > 0 && !s.done {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.feedLine(p)
			return
		}
		s.feedLine(p[:i])
		if s.line == 0 || (s.line == 1 && s.cr) {
			s.done = true // the blank line
			return
		}
		s.line, s.cr, s.cl, s.te = 0, false, true, true
		p = p[i+1:]
	}
}

// feedLine takes more of the current line (no '\n'): only its first bytes
// are compared with the field names, so a long line costs one IndexByte.
func (s *headerScan) feedLine(seg []byte) {
	if len(seg) == 0 {
		return
	}
	s.cr = s.line == 0 && len(seg) == 1 && seg[0] == '\r'
	for j := 0; j < len(seg) && (s.cl || s.te); j++ {
		b, at := seg[j], s.line+j
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if s.cl && (at >= len(clField) || clField[at] != b) {
			s.cl = false
		} else if s.cl && at == len(clField)-1 {
			s.sawCL = true
		}
		if s.te && (at >= len(teField) || teField[at] != b) {
			s.te = false
		} else if s.te && at == len(teField)-1 {
			s.sawTE = true
		}
	}
	s.line += len(seg)
}

// serveRequest runs the handler, turning a panic into a 500 (if nothing was
// sent yet) and a closed connection. A kill of the green thread goes on
// unwinding.
func (c *conn) serveRequest(w *response) {
	c.cur = w
	defer func() {
		if v := recover(); v != nil {
			if isKill(v) {
				panic(v)
			}
			w.closeAfter = true
			w.panicked = true
			if v != http.ErrAbortHandler { //nolint:errorlint // net/http compares the value too
				c.srv.logger().Error("greenhttp: panic serving "+c.client, "panic", v, "stack", string(stackOf()))
			}
		}
	}()
	handler := c.srv.Handler
	if handler == nil {
		handler = http.DefaultServeMux
	}
	handler.ServeHTTP(w, w.req)
}

// finishRequest completes the response after the handler returned, drains
// what the handler left of the body, logs the request, and reports whether
// the connection may serve another.
func (c *conn) finishRequest(w *response) bool {
	c.stopWatch()
	if w.panicked {
		if !w.committed && !w.hijacked {
			w.discard()
			c.writeError(http.StatusInternalServerError, "")
			c.bw.Flush()
		} else {
			c.bw.Flush()
		}
		w.end(nil)
		c.cur = nil
		return false
	}
	w.finish()
	c.drainBody(w)
	if w.closeAfter || c.clientGone {
		c.bw.Flush()
	}
	w.end(nil)
	c.cur = nil
	return !w.closeAfter && !c.clientGone
}

// drainBody reads and discards what the handler left of the request body,
// up to MaxDrainBytes; a longer or broken body, or one the client waits to
// be asked for (Expect: 100-continue), closes the connection instead.
func (c *conn) drainBody(w *response) {
	b := &w.body
	if b.eof || w.closeAfter {
		return
	}
	if b.err != nil || b.held || c.srv.limit.maxDrain == 0 {
		w.closeAfter = true
		return
	}
	n, err := io.CopyN(io.Discard, b.src, c.srv.limit.maxDrain+1)
	if err == io.EOF && n <= c.srv.limit.maxDrain {
		b.eof = true
		return
	}
	w.closeAfter = true
}

// requestError is a request the server answers with status and closes on.
type requestError struct {
	status int
	text   string
}

func (e *requestError) Error() string { return "greenhttp: " + e.text }

var (
	errURITooLong     = &requestError{http.StatusRequestURITooLong, "request URI too long"}
	errHeaderTooLarge = &requestError{http.StatusRequestHeaderFieldsTooLarge, "request headers too large"}
)

// reject answers a request the server could not accept, then the
// connection closes. Read errors that mean the client left or timed out get
// no answer.
func (c *conn) reject(err error) {
	var re *requestError
	if !errors.As(err, &re) {
		if !errors.Is(err, io.EOF) && !isQuietReadError(err) {
			c.srv.logger().Debug("greenhttp: reading request", "client", c.client, "err", err)
		}
		return
	}
	if c.srv.limit.write > 0 {
		c.raw.SetWriteDeadline(time.Now().Add(c.srv.limit.write))
	}
	c.writeError(re.status, re.text)
	c.bw.Flush()
}

// writeError writes a complete plain-text error response that closes the
// connection.
func (c *conn) writeError(status int, detail string) {
	body := strconv.Itoa(status) + " " + http.StatusText(status)
	if detail != "" {
		body += ": " + detail
	}
	bw := c.bw
	bw.WriteString("HTTP/1.1 ")
	writeStatus(bw, status)
	bw.WriteString("Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(body)))
	bw.WriteString("\r\n\r\n")
	bw.WriteString(body)
}

// isQuietReadError reports the read errors that end a connection without a
// word: the client left, reset, or was too slow, or the server closed it.
func isQuietReadError(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "read"
}

// connReader is what the connection's bufio.Reader reads from: the socket,
// limited to the header budget while a request's headers are read, and
// giving back first the byte the watcher read. Before it reads the socket it
// sends the responses waiting in the connection's writer: the answers to a
// pipelined burst leave together, in one write, when the burst is used up,
// and a response always leaves before the server waits for the client.
type connReader struct {
	c          *conn
	limited    bool
	remain     int64
	hitLimit   bool
	sawLineEnd bool // a '\n' went by since limitTo: the request line is complete
	peeked     bool
	peekByte   byte
	scan       headerScan // the request's header block, while limited
	err        error      // the socket's last read error while limited
}

// limitTo caps what may be read for the next request's headers at n bytes.
func (r *connReader) limitTo(n int64, lineEndBuffered bool) {
	r.limited, r.remain, r.hitLimit, r.sawLineEnd = true, n, false, lineEndBuffered
	r.scan, r.err = headerScan{cl: true, te: true}, nil
}

// unlimit lifts the cap and reports whether it was hit and whether the
// request line had ended by then.
func (r *connReader) unlimit() (hitLimit, sawLineEnd bool) {
	r.limited = false
	return r.hitLimit, r.sawLineEnd
}

// errLimit is what the capped reader returns at its limit; the server
// answers 414 or 431.
var errLimit = errors.New("greenhttp: request header limit")

func (r *connReader) Read(p []byte) (int, error) {
	if r.limited {
		if r.remain <= 0 {
			r.hitLimit = true
			return 0, errLimit
		}
		if int64(len(p)) > r.remain {
			p = p[:r.remain]
		}
	}
	var n int
	var err error
	if r.peeked {
		p[0], r.peeked, n = r.peekByte, false, 1
	} else {
		if bw := r.c.bw; bw != nil && bw.Buffered() > 0 {
			if err := bw.Flush(); err != nil {
				return 0, err
			}
		}
		n, err = r.c.nc.Read(p)
	}
	if r.limited {
		r.remain -= int64(n)
		if !r.sawLineEnd && bytes.IndexByte(p[:n], '\n') >= 0 {
			r.sawLineEnd = true
		}
		r.scan.feed(p[:n])
		if err != nil {
			r.err = err
		}
	}
	return n, err
}
