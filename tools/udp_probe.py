#!/usr/bin/python3
"""Steady UDP echo probe: is native traffic still flowing? (run inside the lab namespace)

  udp_probe.py HOST PORT [--seconds S] [--interval-ms I] [--timeout-ms T] [--size B]

Sends one numbered datagram every I ms for S seconds (or until SIGTERM) and waits up to T ms for
each one's echo; late or stray echoes are told apart by their number. Prints {"started": "udp"}
once it begins, and at the end one JSON line: {"sent", "answered", "p50_ms", "p99_ms", "max_ms"}. HOST must be a documentation address.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--interval-ms", type=float, default=20.0)
    p.add_argument("--timeout-ms", type=float, default=500.0)
    p.add_argument("--size", type=int, default=64)
    a = p.parse_args()
    if not a.host.startswith(("192.0.2.", "198.51.100.", "203.0.113.")):
        sys.exit("udp_probe.py: %s is not a documentation address" % a.host)
    if not 0 < a.seconds <= 3600:
        sys.exit("udp_probe.py: --seconds within (0, 3600]")
    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stop.append(signum))

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    pad = b"p" * max(0, a.size - 8)
    rtts, sent = [], 0
    print(json.dumps({"started": "udp"}), flush=True)
    end = time.monotonic() + a.seconds
    while not stop and time.monotonic() < end:
        t0 = time.monotonic()
        s.send(struct.pack("!Q", sent) + pad)
        want = sent
        sent += 1
        deadline = t0 + a.timeout_ms / 1000.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data = s.recv(65535)
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue    # a port unreachable: not an echo
            except InterruptedError:
                continue
            if len(data) >= 8 and struct.unpack("!Q", data[:8])[0] == want:
                rtts.append((time.monotonic() - t0) * 1000.0)
                break
        rest = t0 + a.interval_ms / 1000.0 - time.monotonic()
        if rest > 0 and not stop:
            time.sleep(rest)
    rtts.sort()

    def pct(q):
        return round(rtts[min(len(rtts) - 1, int(q * len(rtts)))], 3) if rtts else None
    print(json.dumps({"sent": sent, "answered": len(rtts), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "max_ms": round(rtts[-1], 3) if rtts else None}), flush=True)


if __name__ == "__main__":
    main()
