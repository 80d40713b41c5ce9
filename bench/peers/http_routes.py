"""The WSGI application behind bench/peers/eventlet_wsgi.py and
gevent_wsgi.py: the three routes every server of bench/cmd/compare's HTTP
mode serves.

    GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
    POST /echo        200, the request body back (chunked request bodies too)
    GET  /stream?n=N  200, N chunks of 1 KiB, each flushed

Each chunk the application yields is written to the socket before the next
is asked for: gevent.pywsgi does so by itself, eventlet.wsgi when the
request's eventlet.minimum_write_chunk_size is 0 (by default it gathers
4 KiB first).
"""
from urllib.parse import parse_qs

HELLO = b"Hello, World!"
CHUNK = b"x" * 1024
MAX_STREAM = 1 << 20


def _respond(start_response, status, body, ctype=b"text/plain"):
    start_response(status, [("Content-Type", ctype.decode()),
                            ("Content-Length", str(len(body)))])
    return [body]


def _stream(n):
    for _ in range(n):
        yield CHUNK


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if path == "/hello":
        if method not in ("GET", "HEAD"):
            return _respond(start_response, "405 Method Not Allowed", b"")
        return _respond(start_response, "200 OK", HELLO)
    if path == "/echo":
        if method != "POST":
            return _respond(start_response, "405 Method Not Allowed", b"")
        # Both servers' wsgi.input decode a chunked body and end at its end.
        body = environ["wsgi.input"].read()
        return _respond(start_response, "200 OK", body, b"application/octet-stream")
    if path == "/stream":
        if method not in ("GET", "HEAD"):
            return _respond(start_response, "405 Method Not Allowed", b"")
        try:
            n = int(parse_qs(environ.get("QUERY_STRING", "")).get("n", [""])[0])
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_STREAM:
            return _respond(start_response, "400 Bad Request", b"want /stream?n=N with 0 <= N <= 1048576\n")
        environ["eventlet.minimum_write_chunk_size"] = 0
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _stream(n)
    return _respond(start_response, "404 Not Found", b"")
