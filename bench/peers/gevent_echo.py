"""gevent's StreamServer echo server: a greenlet per connection, 64 KiB
reads echoed back until EOF. A peer of greenhub's echo server in
bench/cmd/compare.

    /usr/bin/python3 bench/peers/gevent_echo.py -addr 127.0.0.1:7004

Exits 0 on SIGTERM or SIGINT.
"""
import argparse
import os
import signal

from gevent.server import StreamServer


def handle(sock, _address):
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            sock.sendall(data)
    except OSError:
        pass
    finally:
        sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-addr", default="127.0.0.1:7004", help="listen address (loopback)")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))

    server = StreamServer((host, int(port)), handle, backlog=4096)
    server.serve_forever()


if __name__ == "__main__":
    main()
