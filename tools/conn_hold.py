#!/usr/bin/python3
"""Opens many idle TCP connections to a slowpath host and holds them (run inside the lab namespace).

  conn_hold.py HOST PORT --conns N [--parallel K] [--open-seconds S] [--hold-seconds H]

At most K handshakes are outstanding at once (more would only overflow the listener's backlog and
wait for SYN retransmissions); a handshake not done in 3 s is abandoned. Once N connections are
open, or S seconds have passed, it prints one JSON line ({"opened", "failed", "seconds"}), then
holds every open connection, sending nothing, until SIGTERM or H seconds, and closes them all
(one FIN each). Bounded in count and time; HOST must be a documentation address.
"""
import argparse
import errno
import json
import resource
import selectors
import signal
import socket
import sys
import time

HANDSHAKE_S = 3.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=32)
    p.add_argument("--open-seconds", type=float, default=20.0)
    p.add_argument("--hold-seconds", type=float, default=60.0)
    a = p.parse_args()
    if not a.host.startswith(("192.0.2.", "198.51.100.", "203.0.113.")):
        sys.exit("conn_hold.py: %s is not a documentation address" % a.host)
    if not 0 < a.conns <= 10000 or a.hold_seconds > 600:
        sys.exit("conn_hold.py: --conns within 1..10000 and --hold-seconds at most 600")
    want = a.conns + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))

    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    sel = selectors.DefaultSelector()
    opened, failed, attempts = [], 0, 0
    # A refused or abandoned handshake is tried again, up to three tries per connection wanted.
    max_attempts = 3 * a.conns
    t0 = time.monotonic()
    open_deadline = t0 + a.open_seconds
    while not stop and len(opened) < a.conns and time.monotonic() < open_deadline:
        now = time.monotonic()
        # Keep K handshakes in flight, never more than the connections still wanted.
        while (len(sel.get_map()) < a.parallel and len(opened) + len(sel.get_map()) < a.conns
               and attempts < max_attempts):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            attempts += 1
            rc = s.connect_ex((a.host, a.port))
            if rc in (0, errno.EINPROGRESS):
                sel.register(s, selectors.EVENT_WRITE, now + HANDSHAKE_S)
            else:
                s.close()
                failed += 1
        if not sel.get_map():
            break   # every try used
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                opened.append(s)
            else:
                s.close()
                failed += 1
        now = time.monotonic()
        for key in list(sel.get_map().values()):
            if now >= key.data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                failed += 1
    for key in list(sel.get_map().values()):
        key.fileobj.close()
        failed += 1
    sel.close()
    print(json.dumps({"opened": len(opened), "failed": failed, "attempts": attempts, "seconds": round(time.monotonic() - t0, 3)}),
          flush=True)

    hold_deadline = time.monotonic() + a.hold_seconds
    while not stop and time.monotonic() < hold_deadline:
        time.sleep(0.05)
    for s in opened:
        s.close()
    print(json.dumps({"closed": len(opened)}), flush=True)


if __name__ == "__main__":
    main()
