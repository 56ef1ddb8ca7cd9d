#!/usr/bin/python3
"""Bounded floods against a slowpath host, from inside a lab namespace (run as root there).

Frames are built once (a pool of distinct frames) and written to the TAP's kernel side through an
AF_PACKET socket as fast as the loop goes (or --pps), until --count frames are sent or --seconds
have passed, whichever comes first, or SIGTERM. Every address is a documentation one: the
kernel's own (192.0.2.1) for the echo and UDP floods, 192.0.2.0/24, 198.51.100.0/24 and
203.0.113.0/24 for the ARP storm's senders and the fragments' sources. It prints
{"started": MODE} once sending starts, and at the end one JSON line saying what was sent.

  flood.py icmp  [--ids N]            echo requests (N distinct identifiers; 1 = a plain flood)
  flood.py udp   --port P [--size B]  datagrams to P; the echoes come back to a bound socket and
                                      are counted (no port unreachable from the kernel)
  flood.py arp   [--senders N] [--sender-ips M]
                                      requests for the host from N senders, each its own MAC,
                                      their addresses cycling through M of the documentation
                                      nets' (default 756: all; fewer than the neighbour cache
                                      holds leaves the real peers' entries alone)
  flood.py frag  [--size B] [--frag incomplete|overlap]
                                      incomplete: the first fragment only of datagrams that never
                                      complete, each with its own identifier (the reassembly slots
                                      fill and stay full until their timeout); overlap: pairs of
                                      overlapping fragments (each pair's slot is discarded on the
                                      second)
SYN floods are not here: they belong with the TCP tests.
"""
import argparse
import json
import random
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def eth(dst, src, ethertype):
    return dst + src + struct.pack("!H", ethertype)


def ipv4(src, dst, proto, payload, ident=0, flags_frag=0, total=None):
    total = 20 + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, flags_frag, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def icmp_frames(a, dmac, smac):
    frames = []
    for i in range(a.pool):
        ident = (0x5350 + i % a.ids) & 0xFFFF
        body = struct.pack("!BBHHH", 8, 0, 0, ident, i & 0xFFFF) + b"slowpath flood".ljust(48, b".")
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
        frames.append(eth(dmac, smac, 0x0800) + ipv4(a.src, a.dst, 1, body, ident=i & 0xFFFF))
    return frames


def udp_frames(a, dmac, smac, sport):
    payload = (b"slowpath udp flood " * 100)[: a.size]
    frames = []
    for i in range(a.pool):
        data = struct.pack("!I", i) + payload[4:]
        ulen = 8 + len(data)
        pseudo = socket.inet_aton(a.src) + socket.inet_aton(a.dst) + struct.pack("!BBH", 0, 17, ulen)
        hdr = struct.pack("!HHHH", sport, a.port, ulen, 0)
        c = csum(pseudo + hdr + data) or 0xFFFF
        frames.append(eth(dmac, smac, 0x0800) + ipv4(a.src, a.dst, 17, hdr[:6] + struct.pack("!H", c) + data,
                                                     ident=i & 0xFFFF))
    return frames


def sender_ip(i):
    # On-link senders first (the neighbour cache learns them), then the other two documentation
    # nets; host parts 3..254 (not the network, the kernel's .1, the host's .2, the broadcast).
    net = DOC_NETS[(i // 252) % 3]
    return net + str(3 + i % 252)


def arp_frames(a, dmac_unused, smac_unused):
    rnd = random.Random(a.seed)
    frames = []
    bcast = b"\xff" * 6
    for i in range(a.senders):
        # A locally administered unicast MAC per sender, so every (IP, MAC) pair is new.
        mac = bytes([0x02, 0x5f]) + rnd.getrandbits(32).to_bytes(4, "big")
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton(sender_ip(i % a.sender_ips)),
                          b"\0" * 6, socket.inet_aton(a.dst))
        frames.append((eth(bcast, mac, 0x0806) + arp).ljust(60, b"\0"))
    return frames


def frag_frames(a, dmac, smac):
    frames = []
    size = max(16, a.size - a.size % 8)
    udp = struct.pack("!HHHH", 40000, 9, 8 + 2 * size, 0) + b"f" * (size - 8)
    for i in range(a.pool):
        src = sender_ip(i % 756)
        ident = (0x1000 + i) & 0xFFFF
        frames.append(eth(dmac, smac, 0x0800) + ipv4(src, a.dst, 17, udp, ident=ident, flags_frag=0x2000))
        if a.frag == "overlap":
            # Bytes 8.. again: overlaps the first fragment's tail and runs past it.
            frames.append(eth(dmac, smac, 0x0800) +
                          ipv4(src, a.dst, 17, b"o" * size, ident=ident, flags_frag=0x2000 | 1))
    return frames


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("icmp", "udp", "arp", "frag"))
    p.add_argument("--iface", default="tap0")
    p.add_argument("--dst", default="192.0.2.2")
    p.add_argument("--dst-mac", default="02:00:00:00:00:02")
    p.add_argument("--src", default="192.0.2.1", help="source of icmp and udp (the kernel's address)")
    p.add_argument("--count", type=int, default=100000, help="frames at most")
    p.add_argument("--seconds", type=float, default=5.0, help="seconds at most")
    p.add_argument("--pps", type=float, default=0, help="frames per second at most (0: as fast as it goes)")
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--size", type=int, default=64, help="payload bytes (udp, frag)")
    p.add_argument("--frag", choices=("incomplete", "overlap"), default="incomplete")
    p.add_argument("--ids", type=int, default=1, help="icmp: distinct echo identifiers")
    p.add_argument("--senders", type=int, default=4096, help="arp: distinct (IP, MAC) senders")
    p.add_argument("--sender-ips", type=int, default=756, help="arp: distinct sender addresses (at most 756)")
    p.add_argument("--pool", type=int, default=4096, help="distinct frames cycled through")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    # Documentation addresses only: refuse anything else outright.
    for ip in (a.dst, a.src):
        if not ip.startswith(DOC_NETS):
            sys.exit("flood.py: %s is not a documentation address" % ip)
    if not 0 < a.sender_ips <= 756:
        sys.exit("flood.py: --sender-ips within 1..756")
    if a.count <= 0 or not 0 < a.seconds <= 600:
        sys.exit("flood.py: --count must be positive and --seconds within (0, 600]")

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    with open("/sys/class/net/%s/address" % a.iface) as f:
        smac = mac_bytes(f.read().strip())
    dmac = mac_bytes(a.dst_mac)

    echo = None
    if a.mode == "udp":
        # The echoes land on this socket rather than provoking port unreachables from the kernel.
        echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        echo.bind((a.src, 0))
        echo.setblocking(False)
        echo.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        frames = udp_frames(a, dmac, smac, echo.getsockname()[1])
    else:
        frames = {"icmp": icmp_frames, "arp": arp_frames, "frag": frag_frames}[a.mode](a, dmac, smac)

    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stop.append(signum))
    sent = refused = echoed = 0
    n = len(frames)
    print(json.dumps({"started": a.mode}), flush=True)
    t0 = time.monotonic()
    deadline = t0 + a.seconds
    gap = 1.0 / a.pps if a.pps > 0 else 0.0
    next_at = t0
    while sent < a.count:
        # Check the clock every 64 frames: cheap, and bounds the overrun to a few microseconds.
        if sent % 64 == 0:
            now = time.monotonic()
            if now >= deadline or stop:
                break
            if echo is not None:
                try:
                    while True:
                        echo.recv(2048)
                        echoed += 1
                except BlockingIOError:
                    pass
        if gap:
            now = time.monotonic()
            if now < next_at:
                time.sleep(min(next_at - now, 0.01))
                continue
            next_at += gap
        try:
            s.send(frames[sent % n])
            sent += 1
        except OSError:
            # ENOBUFS: the TAP's queue is full. Counted, not retried: a flood does not care.
            refused += 1
            sent += 1
    elapsed = time.monotonic() - t0
    if echo is not None:
        # Echoes still in flight: a short grace to collect them.
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                echo.recv(2048)
                echoed += 1
            except BlockingIOError:
                time.sleep(0.01)
    out = {"mode": a.mode, "sent": sent, "refused": refused, "seconds": round(elapsed, 3),
           "pps": round(sent / elapsed) if elapsed > 0 else 0, "distinct_frames": n}
    if echo is not None:
        out["echoed"] = echoed
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
