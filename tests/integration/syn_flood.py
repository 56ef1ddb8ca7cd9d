#!/usr/bin/python3
"""A bounded SYN flood for the namespace tests: COUNT SYNs to DST:PORT (MAC DST-MAC) from spoofed on-link
sources (a few addresses, random source ports and ISNs), written as Ethernet frames to a packet
socket on IFACE at about RATE per second. Nothing ever answers slowpath's SYN-ACKs: the sources
are not the namespace's, so its kernel drops the replies instead of resetting them, which is
what makes a flood fill a backlog.

The frames are built here with the standard library (scapy would take longer to build 20,000
than slowpath takes to answer them).

usage: syn_flood.py IFACE DST-MAC DST PORT COUNT RATE SRC-PREFIX FIRST LAST
  e.g. syn_flood.py tap0 02:00:00:00:00:02 192.0.2.2 80 20000 10000 192.0.2. 100 107
"""
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_frame(src_mac, dst_mac, src, dst, sport, dport, seq, ident):
    # TCP: SYN with MSS 1460 and window scale 7, as a Linux client offers.
    opts = struct.pack("!BBH", 2, 4, 1460) + struct.pack("!BBBB", 1, 3, 3, 7)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (20 + len(opts)) // 4 << 4, 0x02, 64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ident, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + tcp


def main():
    iface, dst_mac, dst, port, count, rate, prefix, first, last = sys.argv[1:10]
    port, count, rate, first, last = int(port), int(count), int(rate), int(first), int(last)
    dst_mac = bytes.fromhex(dst_mac.replace(":", ""))
    with open("/sys/class/net/%s/address" % iface) as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    rnd = random.Random(4987)
    frames = [syn_frame(src_mac, dst_mac, "%s%d" % (prefix, rnd.randint(first, last)), dst, rnd.randint(1024, 65535),
                        port, rnd.getrandbits(32), i & 0xFFFF) for i in range(count)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    burst = max(1, rate // 100)
    start = time.monotonic()
    sent = 0
    for i in range(0, count, burst):
        for fr in frames[i:i + burst]:
            try:
                s.send(fr)
                sent += 1
            except OSError:
                pass  # the TAP's queue is full: that SYN is lost, as on a real link
        # Pace to RATE: a flood, but one the TAP queue does not mostly drop.
        ahead = (i + burst) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    print("sent %d SYNs in %.1f s" % (sent, time.monotonic() - start))


if __name__ == "__main__":
    main()
