"""The classic eventlet echo server, as in eventlet's documentation:
listen, a GreenPool of 10,000, spawn_n per connection, 64 KiB reads echoed
back until EOF. A peer of greenhub's echo server in bench/cmd/compare.

    /usr/bin/python3 bench/peers/eventlet_echo.py -addr 127.0.0.1:7003

Exits 0 on SIGTERM or SIGINT.
"""
import argparse
import os
import signal

import eventlet


def handle(sock):
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
    ap.add_argument("-addr", default="127.0.0.1:7003", help="listen address (loopback)")
    ap.add_argument("-pool", type=int, default=10000, help="GreenPool size")
    args = ap.parse_args()
    host, port = args.addr.rsplit(":", 1)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))

    server = eventlet.listen((host, int(port)), backlog=4096)
    pool = eventlet.GreenPool(args.pool)
    while True:
        sock, _ = server.accept()
        pool.spawn_n(handle, sock)


if __name__ == "__main__":
    main()
