"""eventlet.wsgi's HTTP/1.1 server, as OpenStack services ran it:
eventlet.wsgi.server on a GreenPool of 1,000, access log off; TCP_NODELAY
on, as Go's net sets it (eventlet.wsgi writes a short response in one
write, so it matters little here). A peer of
greenhub's greenhttp in bench/cmd/compare's HTTP mode, serving the routes
every server of that comparison serves:

    GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
    POST /echo        200, the request body back (chunked request bodies too)
    GET  /stream?n=N  200, N chunks of 1 KiB, each flushed

    /usr/bin/python3 bench/peers/eventlet_wsgi.py -addr 127.0.0.1:8083

Exits 0 on SIGTERM or SIGINT.
"""
import argparse
import os
import signal
import socket
import sys

import eventlet
import eventlet.wsgi

sys.dont_write_bytecode = True  # no __pycache__ in bench/peers
from http_routes import app  # noqa: E402 (bench/peers is on sys.path as the script's directory)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-addr", default="127.0.0.1:8083", help="listen address (loopback)")
    ap.add_argument("-pool", type=int, default=1000, help="GreenPool size")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))

    sock = eventlet.listen((host, int(port)), backlog=4096)
    # Accepted sockets inherit TCP_NODELAY from the listening socket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(sock, app, custom_pool=eventlet.GreenPool(args.pool),
                         log_output=False, debug=False)


if __name__ == "__main__":
    main()
