#!/usr/bin/python3
"""Opens COUNT TCP connections to IP:PORT and keeps them idle, then reports what they cost the
process PID (slowpath): prints "idle N rss_before_kb rss_after_kb" and closes them.
Connections are opened in batches, each waited for, so the TAP's queue never overflows.

usage: idle_conns.py IP PORT COUNT PID
"""
import resource
import selectors
import socket
import sys
import time

BATCH = 250


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for %d" % pid)


def open_batch(ip, port, n, deadline):
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((ip, port))
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
    pending = n
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("%d connections not established in time" % pending)
        for key, _ in sel.select(timeout=left):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise SystemExit("connect failed: errno %d" % err)
            sel.unregister(key.fileobj)
            pending -= 1
    sel.close()
    return socks


def main():
    ip, port, count, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 100, count + 100))
    before = rss_kb(pid)
    deadline = time.monotonic() + 120
    socks = []
    while len(socks) < count:
        socks += open_batch(ip, port, min(BATCH, count - len(socks)), deadline)
    time.sleep(0.5)   # the last ACKs reach slowpath
    after = rss_kb(pid)
    print("idle %d %d %d" % (len(socks), before, after))
    sys.stdout.flush()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
