"""gevent's pywsgi HTTP/1.1 server: WSGIServer, a greenlet per connection,
access log off, TCP_NODELAY on (as Go's net sets it): pywsgi sends a
response's headers and its body in two writes, and with Nagle's algorithm
the body would wait for the client's delayed ACK, about 40 ms a request on
Linux. A peer of greenhub's greenhttp in bench/cmd/compare's HTTP
mode, serving the routes every server of that comparison serves:

    GET  /hello       200 "Hello, World!" (13 bytes, text/plain)
    POST /echo        200, the request body back (chunked request bodies too)
    GET  /stream?n=N  200, N chunks of 1 KiB, each flushed

    /usr/bin/python3 bench/peers/gevent_wsgi.py -addr 127.0.0.1:8084

Exits 0 on SIGTERM or SIGINT.
"""
import argparse
import os
import signal
import socket
import sys

from gevent.pywsgi import WSGIServer

sys.dont_write_bytecode = True  # no __pycache__ in bench/peers
from http_routes import app  # noqa: E402 (bench/peers is on sys.path as the script's directory)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-addr", default="127.0.0.1:8084", help="listen address (loopback)")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))

    server = WSGIServer((host, int(port)), app, log=None, backlog=4096)
    server.init_socket()
    # Accepted sockets inherit TCP_NODELAY from the listening socket.
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server.serve_forever()


if __name__ == "__main__":
    main()
