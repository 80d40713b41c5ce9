"""oslo.messaging's eventlet and threading executors, reduced to the
executor study's workload: the Python peers of greenhub's executors in
bench/cmd/study.

It dials -conns connections to the producer (the study's broker) and reads
frames from each in a reader of its own. With -executor eventlet (oslo's
eventlet executor) the readers are green threads and every request is
handled in a green thread of one GreenPool(-pool), spawned with spawn_n (a
full pool makes the reader wait); sockets are eventlet's green sockets. With
-executor threading (oslo's threading executor) the readers are OS threads
and every request is submitted to a ThreadPoolExecutor(-pool), on plain
blocking sockets; nothing is monkey-patched. A handler runs a calibrated
busy loop for the request's work, calls the downstream server with the
request's wait over a pooled connection, and writes the reply under a
per-connection lock. The frame is bench/study's: a 21-byte header (kind,
id, work us, wait us, payload length; big-endian) and the payload.

    /usr/bin/python3 bench/peers/eventlet_executor.py -executor eventlet \\
        -producer 127.0.0.1:7000 -downstream 127.0.0.1:7001 -conns 2 -pool 64

Like `study serve`, it answers each "usage" line on stdin with a JSON line
of its getrusage, exits 3 when stdin ends, and exits 0 once the producer has
closed every connection.
"""
import argparse
import json
import os
import resource
import socket
import struct
import sys
import threading
import time

HEADER = struct.Struct(">BQIII")  # kind, id, work, wait, payload length
REQUEST, REPLY, CALL, RESULT = 1, 2, 3, 4


def spin(n):
    x = n | 1
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def calibrate():
    """Iterations of spin per microsecond: the fastest of five timings in
    the thread's CPU time, so that preemption does not slow it down."""
    n = 100_000
    best = min(timed(n) for _ in range(5))
    return n / max(best * 1e6, 1.0)


def timed(n):
    start = time.thread_time()
    spin(n)
    return time.thread_time() - start


def peak_rss():
    """VmHWM from /proc/self/status in bytes, or 0: on Linux ru_maxrss keeps
    the peak of the memory exec replaced (the study's, for a child of Go's
    os/exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def read_exact(f, n):
    b = f.read(n)
    if len(b) < n:
        raise EOFError
    return b


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


class Downstream:
    """Idle connections to the downstream server, reused like keep-alive.
    list.pop and list.append are atomic under the GIL, so threads may share
    it as green threads do."""

    def __init__(self, address, connect):
        self.address = address
        self.connect = connect
        self.idle = []
        self.all = []

    def call(self, ident, wait):
        try:
            sock, f = self.idle.pop()
        except IndexError:
            sock = self.connect(self.address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = sock.makefile("rb")
            self.all.append(sock)
        sock.sendall(HEADER.pack(CALL, ident, 0, wait, 0))
        kind, rid, _, _, n = HEADER.unpack(read_exact(f, HEADER.size))
        if kind != RESULT or rid != ident or n:
            raise ValueError("bad downstream result")
        self.idle.append((sock, f))

    def close(self):
        for sock in self.all:
            sock.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-executor", default="eventlet", choices=["eventlet", "threading"])
    ap.add_argument("-producer", required=True)
    ap.add_argument("-downstream", required=True)
    ap.add_argument("-conns", type=int, default=1)
    ap.add_argument("-pool", type=int, default=64)
    ap.add_argument("-hubs", type=int, default=1, help="ignored: one hub per process")
    args = ap.parse_args()

    per_us = calibrate()
    failures = [0]

    def usage():
        # An OS thread in both modes (threading is never monkey-patched): it
        # sleeps in read(2) and takes the GIL only to answer.
        for line in sys.stdin:
            if line.strip() != "usage":
                continue
            ru = resource.getrusage(resource.RUSAGE_SELF)
            sys.stdout.write(json.dumps({
                "user_ns": int(ru.ru_utime * 1e9), "sys_ns": int(ru.ru_stime * 1e9),
                "max_rss_bytes": peak_rss() or ru.ru_maxrss * 1024, "failures": failures[0]}) + "\n")
            sys.stdout.flush()
        os._exit(3)

    threading.Thread(target=usage, daemon=True).start()

    if args.executor == "eventlet":
        import eventlet
        import eventlet.semaphore
        connect = eventlet.connect
        pool = eventlet.GreenPool(args.pool)
        submit, new_lock = pool.spawn_n, lambda: eventlet.semaphore.Semaphore(1)

        def start_reader(fn, sock):
            return eventlet.spawn(fn, sock).wait

        def finish():
            pool.waitall()
    else:
        from concurrent.futures import ThreadPoolExecutor
        connect = socket.create_connection
        pool = ThreadPoolExecutor(args.pool)
        submit, new_lock = pool.submit, threading.Lock

        def start_reader(fn, sock):
            t = threading.Thread(target=fn, args=(sock,))
            t.start()
            return t.join

        def finish():
            pool.shutdown(wait=True)

    down = Downstream(addr(args.downstream), connect)

    def handle(ident, work, wait, payload, sock, lock):
        try:
            spin(int(per_us * work))
            down.call(ident, wait)
            with lock:
                sock.sendall(HEADER.pack(REPLY, ident, 0, 0, len(payload)) + payload)
        except (OSError, EOFError, ValueError):
            failures[0] += 1

    def read(sock):
        f = sock.makefile("rb", buffering=65536)
        lock = new_lock()
        try:
            while True:
                kind, ident, work, wait, n = HEADER.unpack(read_exact(f, HEADER.size))
                if kind != REQUEST:
                    raise ValueError("not a request")
                payload = read_exact(f, n)
                submit(handle, ident, work, wait, payload, sock, lock)
        except (EOFError, OSError):
            pass

    joins = []
    for _ in range(args.conns):
        sock = connect(addr(args.producer))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        joins.append(start_reader(read, sock))
    for join in joins:
        join()
    finish()
    down.close()
    os._exit(0)


if __name__ == "__main__":
    main()
