package greenhttp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// response is the http.ResponseWriter of one request, with the request's
// body and context in the same allocation. Handlers call it from the
// connection's green thread; it is dead once the handler returned.
//
// Headers are serialised when the final status is set (WriteHeader, or
// the first Write), as net/http snapshots them then, into the connection's
// head buffer, which a panic before commit simply drops; the framing headers
// (Content-Length or chunking, Connection, Date, a sniffed Content-Type) follow
// at commit, when the first body bytes leave or the handler returns. Body
// bytes gather in a MinChunkSize buffer: a body that fits it entirely gets a
// Content-Length, a longer one goes out in chunks of at least that size.
type response struct {
	c     *conn
	req   *http.Request
	start time.Time

	status        int
	wroteHeader   bool  // the final status is set and the handler's headers written
	committed     bool  // the framing headers are written: body bytes may follow
	contentLength int64 // declared by the handler, or computed at commit; -1 unknown
	written       int64 // body bytes the handler wrote
	buf           []byte
	chunked       bool
	chunks        io.WriteCloser // the chunked encoder, when chunked
	closeAfter    bool           // close the connection after this response
	handlerClose  bool           // the handler set Connection: close
	handlerType   bool           // the handler set a Content-Type (even empty)
	handlerTE     string         // the handler's Transfer-Encoding
	trailers      []string       // declared in the Trailer header
	hijacked      bool
	panicked      bool
	watch         bool  // the handler waits on its context: watch the client
	err           error // a write error: the connection is finished

	body requestBody
	ctx  requestContext
}

func (c *conn) newResponse(req *http.Request, start time.Time) *response {
	w := &response{c: c, start: start, contentLength: -1, buf: c.chunkBuf[:0]}
	clear(c.header)
	w.body = requestBody{w: w, src: req.Body, trailer: &req.Trailer, eof: req.Body == http.NoBody}
	w.body.needContinue = !w.body.eof && req.ProtoAtLeast(1, 1) && req.Header.Get("Expect") != ""
	w.body.held = w.body.needContinue
	w.ctx.init(w, c.base)
	req.Body = &w.body
	req.RemoteAddr = c.client
	req.TLS = c.tlsState
	w.req = req.WithContext(&w.ctx)
	if req.Close || c.srv.DisableKeepAlives || (!req.ProtoAtLeast(1, 1) && !hasToken(req.Header["Connection"], "keep-alive")) {
		w.closeAfter = true
	}
	return w
}

// Header returns the response header map. Changes after WriteHeader (or the
// first Write) have no effect, except on declared trailers.
func (w *response) Header() http.Header { return w.c.header }

// WriteHeader sends the status: a 1xx at once with the headers set so far
// (103 Early Hints, 100 Continue), a final status with the headers, which
// are then fixed. A second final status is logged and ignored.
func (w *response) WriteHeader(code int) {
	if w.hijacked {
		w.c.srv.logger().Warn("greenhttp: WriteHeader on a hijacked connection", "client", w.c.client)
		return
	}
	if w.wroteHeader {
		w.c.srv.logger().Warn("greenhttp: superfluous WriteHeader call", "client", w.c.client, "status", code)
		return
	}
	if code < 100 || code > 999 {
		panic("greenhttp: invalid WriteHeader code " + strconv.Itoa(code))
	}
	bw := w.c.bw
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		if code == http.StatusContinue {
			w.body.needContinue, w.body.held = false, false
		}
		bw.WriteString("HTTP/1.1 ")
		writeStatus(bw, code)
		w.c.header.Write(bw)
		bw.WriteString("\r\n")
		w.err = bw.Flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	w.body.needContinue = false // the client waits for no 100 once the answer began
	hdr := w.c.header
	if cl := hdr["Content-Length"]; len(cl) > 0 {
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 || len(cl) > 1 {
			w.c.srv.logger().Warn("greenhttp: invalid Content-Length set by handler", "value", cl)
			delete(hdr, "Content-Length")
		} else {
			w.contentLength = n
		}
	}
	_, w.handlerType = hdr["Content-Type"]
	w.handlerClose = hasToken(hdr["Connection"], "close")
	w.handlerTE = hdr.Get("Transfer-Encoding")
	exclude := excludeFraming
	if declared := hdr["Trailer"]; len(declared) > 0 {
		exclude = map[string]bool{"Transfer-Encoding": true}
		for _, v := range declared {
			for _, k := range strings.Split(v, ",") {
				if k = http.CanonicalHeaderKey(strings.TrimSpace(k)); k != "" {
					w.trailers = append(w.trailers, k)
					exclude[k] = true
				}
			}
		}
	}
	head := &w.c.head
	head.Reset()
	head.WriteString("HTTP/1.1 ")
	writeStatus(head, code)
	hdr.WriteSubset(head, exclude)
}

// excludeFraming keeps the handler's Transfer-Encoding out of the headers
// written as they are: the server writes the framing it uses.
var excludeFraming = map[string]bool{"Transfer-Encoding": true}

// hasToken reports whether the comma-separated values of a header field hold
// token, in any case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// headWriter is what a response head is written to: the connection's
// bufio.Writer or its head buffer.
type headWriter interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// writeStatus writes "code text\r\n".
func writeStatus(bw headWriter, code int) {
	var b [3]byte
	bw.Write(strconv.AppendInt(b[:0], int64(code), 10))
	bw.WriteByte(' ')
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	bw.WriteString(text)
	bw.WriteString("\r\n")
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

// Write sends body bytes, setting status 200 first if none was set. Bytes
// gather in the chunk buffer; a full buffer is sent as one chunk.
func (w *response) Write(p []byte) (int, error) {
	if err := w.beforeWrite(len(p)); err != nil {
		return 0, err
	}
	if w.req.Method == http.MethodHead {
		// Not sent; the first bytes are kept to sniff the Content-Type a
		// GET would have.
		if !w.committed {
			w.buf = append(w.buf, p[:min(len(p), cap(w.buf)-len(w.buf))]...)
		}
		return len(p), nil
	}
	n := len(p)
	if len(w.buf)+len(p) < cap(w.buf) {
		w.buf = append(w.buf, p...)
		return n, nil
	}
	if len(w.buf) > 0 || !w.committed {
		// Fill the buffer first: the first chunk is a full one, and a
		// Content-Type sniffed at commit sees the body's first bytes even
		// when they come in one big write.
		k := cap(w.buf) - len(w.buf)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if !w.committed {
			w.commit(false)
		}
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	if len(p) >= cap(w.buf) {
		w.emit(p)
	} else {
		w.buf = append(w.buf, p...)
	}
	if w.err != nil {
		return 0, w.err
	}
	return n, nil
}

// WriteString is Write for a string, for io.WriteString.
func (w *response) WriteString(s string) (int, error) {
	if len(w.buf)+len(s) < cap(w.buf) && w.req.Method != http.MethodHead {
		if err := w.beforeWrite(len(s)); err != nil {
			return 0, err
		}
		w.buf = append(w.buf, s...)
		return len(s), nil
	}
	return w.Write([]byte(s))
}

func (w *response) beforeWrite(n int) error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !bodyAllowedForStatus(w.status) {
		return http.ErrBodyNotAllowed
	}
	if w.contentLength >= 0 && w.written+int64(n) > w.contentLength {
		return http.ErrContentLength
	}
	w.written += int64(n)
	return nil
}

// commit writes the framing headers and the blank line: final says the
// handler has returned, so a body held whole in the buffer gets a
// Content-Length.
func (w *response) commit(final bool) {
	w.committed = true
	bw := w.c.bw
	bw.Write(w.c.head.Bytes())
	isHEAD := w.req.Method == http.MethodHead
	bodyOK := bodyAllowedForStatus(w.status)
	declaredCL := w.contentLength >= 0
	switch {
	case !bodyOK:
	case declaredCL:
	case final && len(w.trailers) == 0 && !hasTrailerPrefix(w.c.header) && w.handlerTE == "" && (!isHEAD || w.written > 0):
		w.contentLength = w.written
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(w.written, 10))
		bw.WriteString("\r\n")
	case isHEAD:
	case w.req.ProtoAtLeast(1, 1) && !strings.EqualFold(w.handlerTE, "identity"):
		w.chunked = true
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	default:
		w.closeAfter = true // the body ends when the connection does
	}
	if bodyOK && !w.handlerType && w.handlerTE == "" && len(w.buf) > 0 {
		bw.WriteString("Content-Type: ")
		bw.WriteString(http.DetectContentType(w.buf))
		bw.WriteString("\r\n")
	}
	if _, ok := w.c.header["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.Write(w.c.srv.date.get())
		bw.WriteString("\r\n")
	}
	if !w.body.eof && w.body.err == nil && !w.closeAfter {
		// What the handler left of the body is drained after it returns if
		// it is short; a longer or unknown remainder closes the connection.
		if w.body.held || w.req.ContentLength < 0 || w.req.ContentLength > w.c.srv.limit.maxDrain {
			w.closeAfter = true
		}
	}
	if w.c.srv.shuttingDown || w.handlerClose {
		w.closeAfter = true
	}
	switch {
	case w.closeAfter && !w.handlerClose:
		bw.WriteString("Connection: close\r\n")
	case !w.closeAfter && !w.req.ProtoAtLeast(1, 1):
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
	if w.chunked {
		w.chunks = httputil.NewChunkedWriter(bw)
	}
}

func hasTrailerPrefix(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// emit sends body bytes after commit, as a chunk when chunked.
func (w *response) emit(p []byte) {
	if w.err != nil || len(p) == 0 {
		return
	}
	if w.chunked {
		_, w.err = w.chunks.Write(p)
	} else {
		_, w.err = w.c.bw.Write(p)
	}
	if w.err != nil {
		w.closeAfter = true
	}
}

// Flush sends what was written so far (http.Flusher).
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush reporting the write error (http.ResponseController).
func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	w.head(false)
	if w.req.Method != http.MethodHead {
		w.emit(w.buf)
		w.buf = w.buf[:0]
	}
	if w.err == nil {
		w.err = w.c.bw.Flush()
	}
	return w.err
}

// head sends the status (200 if none was set) and the framing headers, if
// not yet: final says the handler has returned (see commit).
func (w *response) head(final bool) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(final)
	}
}

// finish completes the response after the handler returned: the headers if
// still held, the buffered body, the last chunk and the trailers.
func (w *response) finish() {
	w.head(true)
	if w.req.Method != http.MethodHead {
		w.emit(w.buf)
	}
	w.buf = nil
	if w.chunked && w.err == nil {
		w.chunks.Close()
		w.writeTrailers()
	}
	if w.req.Method != http.MethodHead && w.contentLength >= 0 && w.written != w.contentLength && bodyAllowedForStatus(w.status) {
		w.closeAfter = true // the client would wait for the bytes that never came
	}
}

// writeTrailers writes the declared trailers and the TrailerPrefix ones, and
// the blank line that ends a chunked body.
func (w *response) writeTrailers() {
	bw, hdr := w.c.bw, w.c.header
	for _, k := range w.trailers {
		for _, v := range hdr[k] {
			writeField(bw, k, v)
		}
	}
	for k, vs := range hdr {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, v := range vs {
				writeField(bw, name, v)
			}
		}
	}
	_, w.err = bw.WriteString("\r\n")
}

var fieldNewlines = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func writeField(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(fieldNewlines.Replace(v))
	bw.WriteString("\r\n")
}

// discard drops the body bytes not sent yet (a panicking handler's).
func (w *response) discard() { w.buf = w.buf[:0] }

// end cancels the request's context and logs the request.
func (w *response) end(cause error) {
	w.ctx.cancel(cause)
	srv := w.c.srv
	if srv.AccessLog == nil {
		return
	}
	status, size := w.status, w.written
	if w.panicked && !w.committed {
		status = http.StatusInternalServerError
	}
	if w.req.Method == http.MethodHead {
		size = 0 // body bytes sent, as Apache's %B and nginx's $body_bytes_sent
	}
	srv.AccessLog.Info("request",
		"client", w.c.host,
		"date", w.start,
		"request", w.req.Method+" "+w.req.RequestURI+" "+w.req.Proto,
		"status", status,
		"size", size,
		"duration", time.Since(w.start))
}

// Hijack hands the connection to the handler (http.Hijacker): the server
// neither reads nor writes it any more, and the handler closes it. The
// bufio.ReadWriter holds what the server had buffered. A status already set
// is sent first. The returned net.Conn is a *netio.Conn (or *netio.TLSConn):
// its blocking calls are for green threads, like the handler.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	c := w.c
	if w.wroteHeader && !w.committed {
		w.commit(false)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	c.stopWatch()
	w.hijacked = true
	c.state = stateHijacked
	c.raw.SetDeadline(time.Time{})
	return c.nc, bufio.NewReadWriter(c.br, c.bw), nil
}

// SetReadDeadline moves the connection's read deadline for this request
// (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error { return w.c.raw.SetReadDeadline(t) }

// SetWriteDeadline moves the connection's write deadline for this request
// (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.raw.SetWriteDeadline(t) }

// EnableFullDuplex lets the handler read the request body after it began
// the response (http.ResponseController). HTTP/1 on greenhub always allows
// it: the body is never closed behind the handler's back.
func (w *response) EnableFullDuplex() error { return nil }

// writeContinue sends 100 Continue before the first read of a body whose
// client asked for it (Expect: 100-continue).
func (w *response) writeContinue() {
	w.body.held = false
	bw := w.c.bw
	bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	w.err = bw.Flush()
}

// requestBody is the handler's Request.Body: it sends 100 Continue on the
// first read when asked, remembers the end and errors, and starts the
// client watcher once the body is read through, if the handler wants it.
type requestBody struct {
	w            *response
	src          io.ReadCloser // http.ReadRequest's body
	trailer      *http.Header  // where ReadRequest's body puts the trailers
	eof          bool
	err          error // a read error other than EOF: the connection is done
	closed       bool
	needContinue bool // send 100 Continue at the first read
	held         bool // the client holds the body back until a 100 Continue
}

func (b *requestBody) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, http.ErrBodyReadAfterClose
	case b.eof:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	if b.needContinue {
		b.needContinue = false
		b.w.writeContinue()
	}
	n, err := b.src.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
		if r := b.w.req; r.Trailer == nil {
			// Trailers the client did not declare: ReadRequest's body set
			// them on the request it parsed, which the handler's copies.
			r.Trailer = *b.trailer
		}
		b.w.c.maybeWatch()
	case err != nil:
		b.err = err
		b.w.closeAfter = true
		if !isQuietReadError(err) && !b.w.wroteHeader {
			// A malformed body (a bad chunk size): the answer is 400
			// whatever the handler does next.
			b.w.c.header = make(http.Header)
			b.w.WriteHeader(http.StatusBadRequest)
		}
	}
	return n, err
}

// Close marks the body closed; what is left of it is drained (or the
// connection closed) after the handler returns.
func (b *requestBody) Close() error {
	b.closed = true
	return nil
}

// isKill reports whether v, a recovered panic value, is the hub's kill
// signal, which must go on unwinding the green thread.
func isKill(v any) bool {
	err, ok := v.(error)
	return ok && errors.Is(err, hub.ErrKilled)
}

func stackOf() []byte { return debug.Stack() }
