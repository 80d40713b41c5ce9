package greenhttp

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/hub"
)

// Client makes HTTP requests from green threads without blocking the hub:
// what every OpenStack service does when it calls another. Each request runs
// on a goroutine with a standard http.Client while the calling green thread
// parks; the response body's reads are bridged the same way. The hub keeps
// serving meanwhile — the server being called may even be on the same hub.
//
// The request's context is honoured: its cancellation or deadline ends the
// request on its goroutine, and the green thread returns the context's error.
// A greensync.Timeout or a kill interrupting the parked green thread cancels
// the request too. A request body that is not in memory (Request.GetBody
// nil: a netio socket, a greenhttp request body being proxied) is read back
// on the hub, so green readers work as bodies.
//
// Do and the methods built on it are for the hub's green threads; other
// goroutines use an http.Client directly. Any number of green threads may
// use one Client at once.
type Client struct {
	h    *hub.Hub
	http *http.Client
}

// NewClient returns a Client for the green threads of h that sends its
// requests with hc (nil means http.DefaultClient).
func NewClient(h *hub.Hub, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{h: h, http: hc}
}

type doResult struct {
	resp *http.Response
	err  error
}

// Do sends req and returns its response, as http.Client.Do does, parking the
// calling green thread meanwhile. The caller must close the response body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if _, err := c.h.Raw().Green(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(req.Context())
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		out.Body = &hubReader{h: c.h, r: req.Body}
	}
	done := make(chan doResult, 1)
	go func() {
		resp, err := c.http.Do(out)
		done <- doResult{resp, err}
	}()
	r, _, err := greensync.Recv(c.h, done)
	if err != nil {
		// Interrupted: stop the request and close what it may still return.
		cancel()
		go func() {
			if r := <-done; r.resp != nil {
				r.resp.Body.Close()
			}
		}()
		return nil, err
	}
	if r.err != nil {
		cancel()
		return nil, r.err
	}
	r.resp.Body = &goroutineReader{h: c.h, r: r.resp.Body, cancel: cancel}
	return r.resp, nil
}

// Get issues a GET to url.
func (c *Client) Get(url string) (*http.Response, error) {
	return c.send(http.MethodGet, url, "", nil)
}

// Head issues a HEAD to url.
func (c *Client) Head(url string) (*http.Response, error) {
	return c.send(http.MethodHead, url, "", nil)
}

// Post issues a POST to url with the given content type and body.
func (c *Client) Post(url, contentType string, body io.Reader) (*http.Response, error) {
	return c.send(http.MethodPost, url, contentType, body)
}

// PostForm issues a POST to url with data URL-encoded as its body.
func (c *Client) PostForm(url string, data url.Values) (*http.Response, error) {
	return c.Post(url, "application/x-www-form-urlencoded", strings.NewReader(data.Encode()))
}

func (c *Client) send(method, url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// CloseIdleConnections closes the idle connections of the underlying
// http.Client's transport.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// goroutineReader is a response body read from a green thread: each Read
// runs on a goroutine, into a buffer of the reader's own, while the green
// thread parks. An interrupted Read leaves its goroutine's read pending; the
// next Read collects it, so no byte is lost and the caller's buffer is never
// written behind its back.
type goroutineReader struct {
	h       *hub.Hub
	r       io.ReadCloser
	cancel  context.CancelFunc
	buf     []byte
	have    []byte          // read, not yet returned
	err     error           // the read error after have
	pending chan readResult // the read in flight, if any
}

type readResult struct {
	n   int
	err error
}

const bridgeReadSize = 32 << 10

func (b *goroutineReader) Read(p []byte) (int, error) {
	if len(b.have) == 0 && b.err == nil {
		if b.pending == nil {
			if b.buf == nil {
				b.buf = make([]byte, bridgeReadSize)
			}
			ch := make(chan readResult, 1)
			b.pending = ch
			r, buf := b.r, b.buf
			go func() {
				n, err := r.Read(buf)
				ch <- readResult{n, err}
			}()
		}
		res, _, err := greensync.Recv(b.h, b.pending)
		if err != nil {
			return 0, err
		}
		b.pending = nil
		b.have, b.err = b.buf[:res.n], res.err
	}
	n := copy(p, b.have)
	b.have = b.have[n:]
	if len(b.have) == 0 && b.err != nil {
		return n, b.err
	}
	return n, nil
}

// Close closes the body (on a goroutine: closing an http.Client body may
// block briefly) and releases the request's context.
func (b *goroutineReader) Close() error {
	defer b.cancel()
	var err error
	if oerr := b.h.Offload(func() { err = b.r.Close() }); oerr != nil {
		b.r.Close()
		return oerr
	}
	return err
}

// hubReader is a request body that lives on the hub (a green socket, a
// request body being proxied) read by the http.Client's goroutine: each Read
// and the Close run on the hub in a green thread, through its door.
type hubReader struct {
	h *hub.Hub
	r io.Reader
}

func (b *hubReader) Read(p []byte) (int, error) {
	type result struct {
		n   int
		err error
	}
	res, err := greensync.Call(b.h, func() (result, error) {
		n, err := b.r.Read(p)
		return result{n, err}, nil
	})
	if err != nil {
		return 0, err
	}
	return res.n, res.err
}

func (b *hubReader) Close() error {
	rc, ok := b.r.(io.Closer)
	if !ok {
		return nil
	}
	_, err := greensync.Call(b.h, func() (struct{}, error) { return struct{}{}, rc.Close() })
	return err
}
