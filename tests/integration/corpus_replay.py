#!/usr/bin/python3
"""Replays every capture of the shared corpus through `slowpath --replay` and checks the reaction.

Each capture is first moved into documentation addresses: the first packet's destination becomes
slowpath (192.0.2.2, 02:00:00:00:00:02) and its source the peer (192.0.2.1). Checksums are
recomputed so that a good one stays good and a bad one stays bad (the point of the bad-checksum
cases); frames scapy cannot parse keep their bytes and only get our MAC. A frame from no station
(zeek's checksum captures have an all-zero Ethernet source) gets the peer's MAC: slowpath drops
such frames whole (drop_eth_bad_src_mac), and these captures are about checksums. A valid ping from the
peer is replayed after each capture: its reply must be the last frame slowpath sends. Every frame
slowpath sends must pass pcap-lint, and slowpath must exit 0 with no sanitizer report.

With --raw the same captures replay as a TUN would have seen them: each IPv4 frame loses its
Ethernet header (and its trailer, where the datagram's total length says where it ends), the
rest (ARP) is left out, and the files take the raw-IP link types in turn (101 LINKTYPE_RAW, 228
IPv4, 12 the raw type some writers use). The reactions must be the same; slowpath's own capture
must be raw IP (101) and hold no ARP, not even the announcement.
"""
import csv
import os
import struct
import subprocess
import sys
import tempfile

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.config import conf

conf.verb = 0
BIN = os.environ.get("SP_BIN") or os.path.join(os.path.dirname(__file__), "../../build/bin")
SHARED = os.environ.get("SP_SHARED") or os.path.join(os.path.dirname(__file__), "../../../shared")
CORPUS = os.path.join(SHARED, "corpus/pcap")
ME_IP, ME_MAC, PEER_IP, PEER_MAC = "192.0.2.2", "02:00:00:00:00:02", "192.0.2.1", "02:00:00:00:00:01"

# What slowpath must send in answer to each capture (before the final ping's reply):
#   silence      nothing at all
#   echo-reply   ICMP echo replies only, at least one
#   unreach      an ICMP port unreachable only (UDP to a closed port)
#   rst          TCP RSTs only, at least one
#   synack|rst   one SYN-ACK or RST answer
#   arp-reply    ARP replies only, at least one
#   any          anything well-formed (mixed captures: both directions of a conversation)
EXPECT = {
    "zeek-chksums__ip4-bad-chksum.pcap": "silence",
    "zeek-chksums__ip4-icmp-good-chksum.pcap": "echo-reply",
    "zeek-chksums__ip4-icmp-bad-chksum.pcap": "silence",
    "zeek-chksums__ip4-udp-good-chksum.pcap": "unreach",
    "zeek-chksums__ip4-udp-bad-chksum.pcap": "silence",
    "zeek-chksums__ip4-tcp-good-chksum.pcap": "synack|rst",  # a SYN to port 80: HTTP listens
    "zeek-chksums__ip4-tcp-bad-chksum.pcap": "silence",
    "zeek-tcp__syn.pcap": "synack|rst",
    "zeek-tcp__syn-bad.pcap": "silence",
    "zeek-tcp__option-27.pcap": "rst",          # a SYN-ACK nobody asked for: RST, options skipped
    "zeek-tcp__options.pcap": "any",
    "zeek-tcp__window-scale-range.pcap": "any",
    "zeek-ip-bogus-header-len.pcap": "silence",
    "zeek-trunc__ip4-trunc.pcap": "silence",
    "zeek-trunc__ipv4-truncated-broken-header.pcap": "silence",
    # Both fragment sets are broken on purpose: an 18-byte first fragment with MF set (fragment
    # data must come in multiples of 8) and fragments that overlap it. Dropped, consistently.
    "zeek-ipv4__fragmented-1.pcap": "silence",
    "zeek-ipv4__fragmented-2.pcap": "silence",
    "zeek-ipv4__fragmented-syn.pcap": "synack|rst",
    "zeek-arp-who-has.pcap": "arp-reply",
    "zeek-icmp__icmp-ping.pcap": "echo-reply",
    "zeek-icmp__icmp-destunreach-udp.pcap": "silence",
    "tcpdump-ipv4_invalid_hdr_length.pcap": "silence",
    "tcpdump-ipv4_invalid_total_length.pcap": "silence",
    "tcpdump-ipv4_invalid_total_length_2.pcap": "silence",
    "tcpdump-ipv4_invalid_length.pcap": "silence",
    "tcpdump-tcp_eight_lowest_weight_flags_set.pcap": "silence",
    "tcpdump-tcp_rst_data.pcap": "silence",
    "tcpdump-arp-too-long-tha.pcap": "silence",
}


def keep_status(orig_field, correct_orig, correct_new):
    """A checksum field for the rewritten packet that is right iff the original one was."""
    if orig_field == correct_orig:
        return correct_new
    return correct_new ^ 0x00FF  # differs by 1..255: never equivalent in one's complement


def csum_adjust(csum, old, new):
    """RFC 1624 eqn. 3 over the 16-bit words of old -> new (bytes of equal, even length)."""
    s = (~csum) & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~int.from_bytes(old[i:i + 2], "big")) & 0xFFFF
        s += int.from_bytes(new[i:i + 2], "big")
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fix_fragment_checksums(orig, moved):
    """A TCP/UDP checksum covers the pseudo-header, so moving the addresses of a fragmented
    datagram changes it; patch it in whichever fragment holds it (good stays good, bad bad)."""
    for o, m in zip(orig, moved):
        if IP not in o or IP not in m or not (o[IP].flags.MF or o[IP].frag):
            continue
        field = {6: 16, 17: 6}.get(o[IP].proto)
        if field is None:
            continue
        old = bytes(int(x) for x in o[IP].src.split(".")) + bytes(int(x) for x in o[IP].dst.split("."))
        new = bytes(int(x) for x in m[IP].src.split(".")) + bytes(int(x) for x in m[IP].dst.split("."))
        start = o[IP].frag * 8
        data = bytearray(bytes(m[IP].payload)[: m[IP].len - m[IP].ihl * 4])
        pos = field - start
        if 0 <= pos and pos + 2 <= len(data):
            c = int.from_bytes(data[pos:pos + 2], "big")
            if not (o[IP].proto == 17 and c == 0):
                data[pos:pos + 2] = csum_adjust(c, old, new).to_bytes(2, "big")
                m[IP].remove_payload()
                m[IP].add_payload(Raw(bytes(data)))


def rewrite(frames):
    first = None
    for f in frames:
        if IP in f:
            first = (f[IP].src, f[IP].dst)
            break
        if ARP in f and f[ARP].hwlen == 6:
            first = (f[ARP].psrc, f[ARP].pdst)
            break
    out = []
    for f in frames:
        try:
            out.append(rewrite_one(f, first))
        except Exception:
            raw = bytes(f)
            out.append(Ether(bytes.fromhex(ME_MAC.replace(":", "")) + raw[6:]))
    fix_fragment_checksums(frames, out)
    return out


def move(src, dst, first):
    """The documentation-space (src, dst) of a packet of the conversation started by `first`."""
    if first and (src, dst) == first:
        return PEER_IP, ME_IP
    if first and (dst, src) == first:
        return ME_IP, PEER_IP
    return src, dst


def is_station(mac):
    """Not all zero and not a group address (multicast or broadcast)."""
    b = bytes.fromhex(mac.replace(":", ""))
    return b != bytes(6) and not b[0] & 1


def rewrite_one(f, first):
    g = f.copy()
    if Ether in g and not is_station(g[Ether].src):
        g[Ether].src = PEER_MAC
    if ARP in g and g[ARP].hwlen == 6 and g[ARP].plen == 4:
        g[ARP].psrc, g[ARP].pdst = move(g[ARP].psrc, g[ARP].pdst, first)
        return g
    if IP not in g:
        return g
    ip = g[IP]
    if ip.ihl is None or ip.ihl < 5 or ip.len is None or ip.len < ip.ihl * 4 or ip.len > len(bytes(ip)):
        raise ValueError("malformed: keep the bytes")
    hdr_len = f[IP].ihl * 4
    correct_old = IP(bytes(f[IP])[:hdr_len])
    del correct_old.chksum
    correct_old_ip = IP(bytes(correct_old)).chksum
    l4 = None
    if not (ip.flags.MF or ip.frag):
        l4 = next((p for p in (TCP, UDP) if p in g), None)
    if l4:
        orig = f[l4].chksum
        c = f[IP].copy()
        del c[l4].chksum
        correct = IP(bytes(c))[l4].chksum
    ip.src, ip.dst = move(ip.src, ip.dst, first)
    if ip.dst == ME_IP and g[Ether].dst.lower() != "ff:ff:ff:ff:ff:ff":
        g[Ether].dst = ME_MAC
    del ip.chksum
    if l4:
        del g[l4].chksum
        new_correct = IP(bytes(g[IP]))[l4].chksum
        g[l4].chksum = 0 if (l4 is UDP and orig == 0) else keep_status(orig, correct, new_correct)
    new_ip = IP(bytes(g[IP]))
    g[IP].chksum = keep_status(f[IP].chksum, correct_old_ip, new_ip.chksum)
    return g


def classify(pkt):
    if ARP in pkt:
        return "arp-reply" if pkt[ARP].op == 2 else "arp-request"
    if ICMP in pkt:
        t = pkt[ICMP].type
        return {0: "echo-reply", 3: "unreach"}.get(t, "icmp-%d" % t)
    if TCP in pkt:
        fl = int(pkt[TCP].flags)
        if fl & 0x04:
            return "rst"
        if fl & 0x12 == 0x12:
            return "synack"
        return "tcp"
    if UDP in pkt:
        return "udp"
    return "other"


def check(name, expect, sent):
    kinds = [classify(p) for p in sent]
    if expect == "silence":
        return not kinds
    if expect == "any":
        return True
    if expect == "synack|rst":
        return len(kinds) == 1 and kinds[0] in ("synack", "rst")
    return bool(kinds) and all(k == expect for k in kinds)


RAW_LINKTYPES = (101, 228, 12)


def raw_datagram(frame):
    """The IPv4 datagram of an Ethernet frame as a TUN would carry it, or None for anything else."""
    b = bytes(frame)
    if len(b) < 14 or b[12:14] != b"\x08\x00":
        return None
    d = b[14:]
    if len(d) >= 4:
        total = int.from_bytes(d[2:4], "big")
        if 20 <= total <= len(d):
            d = d[:total]  # the trailer goes; a datagram that claims more than it has keeps its bytes
    return d


def write_raw(path, frames, linktype):
    """A classic pcap of bare datagrams with exactly this link type (scapy would pick its own)."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, f in enumerate(frames):
            fh.write(struct.pack("<IIII", 1, i, len(f), len(f)))
            fh.write(f)


def linktype_of(path):
    with open(path, "rb") as fh:
        return struct.unpack("<I", fh.read(24)[20:24])[0]


def main():
    raw = "--raw" in sys.argv[1:]
    names = []
    with open(os.path.join(CORPUS, "MANIFEST.tsv")) as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            names.append(os.path.basename(row["path"]).replace("/", "_"))
    files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".pcap"))
    missing = [f for f in files if f not in EXPECT]
    if missing:
        print("no expectation for:", missing)
        return 1
    failures = 0
    with tempfile.TemporaryDirectory(prefix="sp-corpus.") as tmp:
        ping = Ether(src=PEER_MAC, dst=ME_MAC) / IP(src=PEER_IP, dst=ME_IP) / ICMP(id=0x5150, seq=7) / Raw(b"still alive?")
        ping_path = os.path.join(tmp, "ping.pcap")
        if raw:
            write_raw(ping_path, [raw_datagram(ping)], 101)
        else:
            wrpcap(ping_path, [ping])
        ran = 0
        for i, f in enumerate(files):
            frames = rdpcap(os.path.join(CORPUS, f))
            moved = os.path.join(tmp, "in-" + f)
            if raw:
                datagrams = [d for d in (raw_datagram(g) for g in rewrite(frames)) if d is not None]
                if not datagrams:
                    print("%-50s %-11s skipped: no IPv4 in it" % (f, EXPECT[f]))
                    continue
                write_raw(moved, datagrams, RAW_LINKTYPES[i % len(RAW_LINKTYPES)])
            else:
                wrpcap(moved, rewrite(frames))
            ran += 1
            out = os.path.join(tmp, "out-" + f)
            proc = subprocess.run(
                [os.path.join(BIN, "slowpath"), "--replay", moved, "--replay", ping_path, "--ip", ME_IP + "/24",
                 "--mac", ME_MAC, "--pcap", out, "--seed", "1", "--stats"],
                capture_output=True, text=True, timeout=60)
            problems = []
            if proc.returncode != 0:
                problems.append("exit status %d" % proc.returncode)
            if "Sanitizer" in proc.stderr or "runtime error" in proc.stderr:
                problems.append("sanitizer report")
            sent = list(rdpcap(out)) if os.path.exists(out) else []
            # First the gratuitous ARP (none on raw IP), last the reply to our ping.
            if raw:
                if os.path.exists(out) and linktype_of(out) != 101:
                    problems.append("capture link type %d, not 101" % linktype_of(out))
                if any(ARP in p or Ether in p for p in sent):
                    problems.append("ARP or Ethernet on a raw-IP link")
            elif not sent or classify(sent[0]) != "arp-request":
                problems.append("no gratuitous ARP first")
            last = sent[-1] if sent else None
            if not (last is not None and ICMP in last and last[ICMP].type == 0 and last[ICMP].id == 0x5150
                    and last[ICMP].seq == 7 and bytes(last[IP])[28:last[IP].len] == b"still alive?"):
                problems.append("the final ping got no reply")
            reaction = sent[:-1] if raw else sent[1:-1]
            if not check(f, EXPECT[f], reaction):
                problems.append("expected %s, sent %s" % (EXPECT[f], [classify(p) for p in reaction]))
            lint = subprocess.run([os.path.join(SHARED, "tools/pcap-lint"), out], capture_output=True, text=True)
            if lint.returncode != 0:
                problems.append("pcap-lint: " + lint.stdout.strip().replace("\n", " | "))
            status = "ok" if not problems else "FAIL " + "; ".join(problems)
            print("%-50s %-11s %s" % (f, EXPECT[f], status))
            if problems:
                failures += 1
                print(proc.stderr[-1500:])
    print("corpus replay%s: %d passed, %d failed" % (" (raw IP)" if raw else "", ran - failures, failures))
    return 1 if failures or not ran else 0


if __name__ == "__main__":
    sys.exit(main())
