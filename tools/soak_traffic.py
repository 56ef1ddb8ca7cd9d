#!/usr/bin/python3
"""Mixed client traffic for the soak (tools/soak.sh), run inside the lab namespace.

  soak_traffic.py HOST --seconds S [--seed N]

Until S seconds have passed (or SIGTERM), in parallel:
  udp      a datagram to the echo port every 50 ms, 16..1400 bytes, one in ten 3,000 bytes
           (fragmented both ways); its echo must come back intact within 1 s
  http     GET / of the status page every 250 ms (a short TCP connection each)
  echo     long transfers through the TCP echo port: 64 KB..1 MB out and read back, compared
  discard  long transfers to the TCP discard port: 256 KB..2 MB
  neigh    every 5 s the kernel forgets slowpath's MAC (ip neigh flush), so ARP is asked again
Every 10 s and at the end it prints one JSON line of counts per kind: ok, failed (no answer in
time, a refused or reset connection) and bad (an answer that differs: never acceptable). HOST
must be a documentation address.
"""
import argparse
import json
import random
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

stop = threading.Event()
lock = threading.Lock()
counts = {k: {"ok": 0, "failed": 0, "bad": 0} for k in ("udp", "http", "echo", "discard", "neigh")}
moved = {"echo_bytes": 0, "discard_bytes": 0}


def count(kind, what, n=1):
    with lock:
        counts[kind][what] += n


def paced(interval):
    """Yields until stop, once per interval (a pacing period, not a wait for a condition)."""
    while not stop.is_set():
        t0 = time.monotonic()
        yield
        stop.wait(max(0.0, interval - (time.monotonic() - t0)))


def udp_loop(host, rnd):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, 7))
    seq = 0
    for _ in paced(0.05):
        size = 3000 if rnd.random() < 0.1 else rnd.randint(16, 1400)
        data = struct.pack("!Q", seq) + rnd.randbytes(size - 8)
        seq += 1
        try:
            s.send(data)
        except OSError:
            count("udp", "failed")
            continue
        deadline = time.monotonic() + 1.0
        result = "failed"
        while time.monotonic() < deadline:
            s.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                got = s.recv(65535)
            except socket.timeout:
                break
            except OSError:
                continue      # a port unreachable, or a lost frame's consequences
            if got[:8] != data[:8]:
                continue      # a late echo of an earlier datagram
            result = "ok" if got == data else "bad"
            break
        count("udp", result)


def http_loop(host):
    for _ in paced(0.25):
        try:
            with socket.create_connection((host, 80), timeout=5) as c:
                c.settimeout(5)
                c.sendall(b"GET / HTTP/1.1\r\nHost: slowpath\r\nConnection: close\r\n\r\n")
                body = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            count("http", "ok" if body.startswith(b"HTTP/1.1 200") and b"slowpath " in body else "bad")
        except OSError:
            count("http", "failed")


def echo_loop(host, rnd):
    for _ in paced(0.5):
        size = rnd.randint(64 << 10, 1 << 20)
        data = rnd.randbytes(size)
        got = bytearray()
        sent = 0
        try:
            with socket.create_connection((host, 7), timeout=10) as c, selectors.DefaultSelector() as sel:
                # Writes and reads interleaved: the echo server takes only what it can send back.
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ | selectors.EVENT_WRITE)
                deadline = time.monotonic() + 60
                while len(got) < size and time.monotonic() < deadline and not stop.is_set():
                    for _, ev in sel.select(timeout=1.0):
                        if ev & selectors.EVENT_WRITE and sent < size:
                            sent += c.send(data[sent:sent + 65536])
                            if sent == size:
                                c.shutdown(socket.SHUT_WR)
                                sel.modify(c, selectors.EVENT_READ)
                        if ev & selectors.EVENT_READ:
                            chunk = c.recv(65536)
                            if not chunk:
                                deadline = 0     # closed early: compared below
                                break
                            got += chunk
            if stop.is_set() and len(got) < size:
                return        # cut short by the end of the soak: not a failure
            if len(got) < size and deadline:
                count("echo", "failed")          # too slow: a minute for a megabyte
                continue
            count("echo", "ok" if bytes(got) == data else "bad")
            with lock:
                moved["echo_bytes"] += size
        except OSError:
            count("echo", "failed")


def discard_loop(host, rnd):
    for _ in paced(0.5):
        size = rnd.randint(256 << 10, 2 << 20)
        try:
            with socket.create_connection((host, 9), timeout=10) as c:
                c.settimeout(30)
                c.sendall(rnd.randbytes(size))
                c.shutdown(socket.SHUT_WR)
                # The server closes after our FIN: everything was taken.
                if c.recv(1) != b"":
                    count("discard", "bad")
                    continue
            count("discard", "ok")
            with lock:
                moved["discard_bytes"] += size
        except OSError:
            count("discard", "failed")


def neigh_loop():
    for _ in paced(5.0):
        rc = subprocess.call(["ip", "neigh", "flush", "dev", "tap0"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        count("neigh", "ok" if rc == 0 else "failed")


def snapshot(t0):
    with lock:
        out = {k: dict(v) for k, v in counts.items()}
        out.update(moved)
    out["seconds"] = round(time.monotonic() - t0, 1)
    return json.dumps(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("host")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if not a.host.startswith(("192.0.2.", "198.51.100.", "203.0.113.")):
        sys.exit("soak_traffic.py: %s is not a documentation address" % a.host)
    if not 0 < a.seconds <= 24 * 3600:
        sys.exit("soak_traffic.py: --seconds within (0, 86400]")
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    rnd = random.Random(a.seed)
    threads = [
        threading.Thread(target=udp_loop, args=(a.host, random.Random(rnd.random()))),
        threading.Thread(target=http_loop, args=(a.host,)),
        threading.Thread(target=echo_loop, args=(a.host, random.Random(rnd.random()))),
        threading.Thread(target=discard_loop, args=(a.host, random.Random(rnd.random()))),
        threading.Thread(target=neigh_loop),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    t0 = time.monotonic()
    end = t0 + a.seconds
    print(json.dumps({"started": "soak"}), flush=True)
    while not stop.is_set() and time.monotonic() < end:
        stop.wait(min(10.0, max(0.0, end - time.monotonic())))
        print(snapshot(t0), flush=True)
    stop.set()
    # Transfers in progress end within their own timeouts; a few seconds' grace, then report.
    for t in threads:
        t.join(timeout=35)
    print(snapshot(t0), flush=True)


if __name__ == "__main__":
    main()
