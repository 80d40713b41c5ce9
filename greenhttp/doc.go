// Package greenhttp is eventlet.wsgi for Go's http.Handler: an HTTP/1.1
// server whose connections are served by green threads of one hub, each
// taken from a greenpool.Pool (eventlet's custom_pool, GreenPool(1000) by
// default as in Glance), with TLS on green sockets and a client that calls
// remote services without blocking the hub.
//
// # Serving
//
// A Server serves any http.Handler:
//
//	h := hub.New()
//	h.Run(func() error {
//		l, err := netio.Listen(h, "tcp", "127.0.0.1:8080")
//		if err != nil {
//			return err
//		}
//		srv := &greenhttp.Server{Handler: mux}
//		return srv.Serve(l)
//	})
//
// When main returns, Run kills the green threads left, requests in flight
// included: a program that drains on a signal lets Serve return
// (ErrServerClosed, at once) and then waits in main for Shutdown to finish,
// as examples/hello does.
//
// Requests are parsed by the standard library (http.ReadRequest on a
// bufio.Reader over the green connection); responses carry a Content-Length
// when the handler's whole body fits the first chunk buffer and are chunked
// otherwise (close-delimited for HTTP/1.0), with trailers, HEAD, Expect:
// 100-continue, 1xx informational responses, a Date header computed at most
// once a second, keep-alive and pipelining (answers in request order, the
// buffered responses of a pipelined burst leaving in one write). The
// ResponseWriter implements http.Flusher, http.Hijacker and the deadlines of
// http.ResponseController.
//
// eventlet.wsgi's options, under Go names:
//
//	custom_pool          Server.Pool (default: a pool of DefaultPoolSize)
//	keepalive            Server.DisableKeepAlives
//	socket_timeout       Server.IdleTimeout, ReadTimeout, WriteTimeout
//	url_length_limit     Server.MaxURLLength (414 when exceeded)
//	(header size limit)  Server.MaxHeaderBytes (431 when exceeded)
//	minimum_chunk_size   Server.MinChunkSize
//	log, log_format      Server.AccessLog (a slog.Logger; fields client,
//	                     date, request, status, size, duration)
//	(error log)          Server.ErrorLog
//
// # Beyond eventlet.wsgi (and net/http)
//
// The request's context is cancelled when the client goes away, when the
// handler returns, and when the server is closed. Watching the connection
// costs a green thread, so it starts only once the handler asks for the
// context's Done channel or error (directly, or by deriving a context or
// registering an AfterFunc) and the request body has been read to its end.
//
// A header timeout is on by default (ReadHeaderTimeout): a client that sends
// its headers a byte at a time (slowloris) is cut off. A request with both
// Content-Length and Transfer-Encoding is rejected with 400 and the connection
// closed (RFC 9112 §6.1; net/http keeps it open), as are differing
// Content-Lengths, malformed chunk sizes, a transfer coding other than
// chunked, and an HTTP/1.0 request with a Transfer-Encoding (RFC 9112 §6.3;
// net/http frames it by its Content-Length). Versions other than HTTP/1.x get
// 505. A handler panic gets a 500 if
// nothing was written yet, closes the connection and is logged with its
// stack; http.ErrAbortHandler closes the connection silently.
//
// # The lock rule
//
// Handlers run on the hub's thread, one at a time. A handler must not block
// the OS thread: a time.Sleep, a stdlib net call, a database driver, or a
// sync.Mutex held across a park while another green thread of the hub
// wants it stops every connection of the hub. Use greenthread.Sleep, netio,
// greensync's green locks, hub.Hub.Offload for blocking calls (file I/O,
// cgo), and Client for outgoing HTTP requests. The hub's watchdog
// (hub.WithWatchdog) names a handler that blocks.
//
// # TLS
//
// ServeTLS and ListenAndServeTLS wrap each accepted connection with
// netio.TLSServer, which never lets crypto/tls's internal locks be held across
// a park, and perform the handshake in the connection's green thread under the
// header timeout. crypto/tls over a plain netio.Conn must not be shared by
// two green threads; see package netio.
//
// # Which goroutine may call what
//
// A Server belongs to the hub of the first listener it serves. Serve,
// ListenAndServe and their TLS forms run in a green thread of that hub and
// block it until the server stops. Shutdown and Close may be called from any
// goroutine: off the hub they run on it through its door (a signal handler's
// goroutine may call them), and Shutdown called there blocks that goroutine,
// not the hub. Client.Do is for green threads.
package greenhttp
