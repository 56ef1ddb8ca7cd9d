#!/usr/bin/python3
"""Checks for the LLM decision integration tests: reads slowpath's --trace file (JSON
lines), its --stats output and pcap captures (through tshark), and exits non-zero with one clear
line when something does not hold. Also sends ICMP echo requests with a chosen payload (ping -p
only takes a 16-byte pattern, too short for an instruction with an address in it).

    llm_check.py lint TRACE                      every line is a well-formed decision record
    llm_check.py count TRACE [filters]           prints how many records match
    llm_check.py frames TRACE PCAP --kind K --action A --expect icmp-reply|arp-reply|syn-ack
    llm_check.py deviations TRACE PCAP [--me IP]  every legal decision's answer in the capture
                                                 carries what its "deviation" says (silence: none)
    llm_check.py wire PCAP [--trace T] [--me IP --peer IP --mac MAC --other IP]
                 what we sent, counted in one pass: "key=N ..." (frames, foreign: from another
                 address or to a third party, arp_other: ARP answers for OTHER, synack, rst_ack0:
                 RST-ACKs with seq 0, rst, icmp, tcp, port81_rst); with --trace, deviations too
    llm_check.py stats LOG TRACE                 the daemon's --stats decision counters = the trace
    llm_check.py counter LOG KIND NAME           one counter from the last stats block in LOG
    llm_check.py after TRACE KIND EPOCH          every KIND decision was traced after EPOCH (seconds)
    llm_check.py summary TRACE                   one line: per kind valid/asked, accuracy, p50 latency
    llm_check.py report TRACE...                 per kind and format: asked, verdicts, p50 latency
    llm_check.py echo-payload DST TEXT COUNT     sends echo requests carrying TEXT, checks replies
                 [--no-fail]                     (or only prints answered/sent differing=N: an experiment)
    llm_check.py replies PCAP ME PEER            every echo reply from ME answers a request exactly
"""
import argparse
import datetime
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import time

FIELDS = {"time": str, "kind": str, "flow": str, "mode": str, "format": str,
          "provider": str, "model": str, "latency_ms": (int, float, type(None)),
          "tokens_in": (int, type(None)), "tokens_out": (int, type(None)),
          "tokens_cached": (int, type(None)), "verdict": str, "action": str,
          "frame": (int, type(None)), "id": int}
KINDS = ("icmp", "arp", "tcp")
AUTHORITIES = ("exact", "legal")
# The "deviation" object of a valid legal decision: field -> the JSON types its value may have.
DEVIATIONS = {"action": (str,), "silence": (bool,), "ttl": (int,), "ip_ident": (int,), "df": (bool,),
              "iss": (int,), "window": (int,), "mss": (int, type(None)), "wscale": (int, type(None))}
ACTIONS = ("llm", "fallback", "drop", "shadow")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
VERDICT_RE = re.compile(r"^(valid|timeout|invalid:[a-z_-]+|error:[A-Za-z0-9_:. -]+)$")


def fail(msg):
    sys.exit("llm_check: " + msg)


def load(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                recs.append(json.loads(line))
            except ValueError as e:
                fail(f"{path}:{n}: not JSON ({e}): {line.strip()[:120]}")
    return recs


def epoch(iso):
    """Seconds since the epoch of a trace time ("2025-01-31T12:00:00.123Z")."""
    d = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def verdict_class(v):
    """valid / invalid / timeout / error: what the stats counters count."""
    return v.split(":", 1)[0]


def lint(recs, path):
    for n, r in enumerate(recs, 1):
        for k, t in FIELDS.items():
            if k not in r:
                fail(f"{path}: record {n} has no '{k}': {r}")
            if isinstance(r[k], bool) or not isinstance(r[k], t):
                fail(f"{path}: record {n}: '{k}' has type {type(r[k]).__name__}: {r}")
        if not TIME_RE.match(r["time"]):
            fail(f"{path}: record {n}: time {r['time']!r} is not ISO-8601 UTC with milliseconds")
        if r["kind"] not in KINDS:
            fail(f"{path}: record {n}: kind {r['kind']!r}")
        if r["action"] not in ACTIONS:
            fail(f"{path}: record {n}: action {r['action']!r}")
        if r["mode"] not in ("llm", "shadow"):
            fail(f"{path}: record {n}: mode {r['mode']!r}")
        if r["format"] not in ("structured", "raw"):
            fail(f"{path}: record {n}: format {r['format']!r}")
        if not VERDICT_RE.match(r["verdict"]):
            fail(f"{path}: record {n}: verdict {r['verdict']!r}")
        # What the stack did must follow from the verdict and the mode.
        cls = verdict_class(r["verdict"])
        if r["mode"] == "shadow" and r["action"] != "shadow":
            fail(f"{path}: record {n}: shadow mode but action {r['action']}")
        if r["action"] == "llm" and cls != "valid":
            fail(f"{path}: record {n}: emitted the model's answer with verdict {r['verdict']}")
        if r["action"] in ("fallback", "drop") and cls == "valid":
            fail(f"{path}: record {n}: valid proposal but action {r['action']}")
        if r["action"] == "drop" and r["frame"] is not None:
            fail(f"{path}: record {n}: action drop but frame {r['frame']}")
        lint_authority(r, n, path)
    ids = [r["id"] for r in recs]
    if len(set(ids)) != len(ids):
        fail(f"{path}: decision ids repeat")


def lint_authority(r, n, path):
    """authority (when present) names one; a deviation object on every valid legal decision and only
    there, with known fields of the right types; a chosen silence has no frame."""
    auth = r.get("authority")
    if auth is not None and auth not in AUTHORITIES:
        fail(f"{path}: record {n}: authority {auth!r}")
    dev = r.get("deviation")
    valid_legal = auth == "legal" and verdict_class(r["verdict"]) == "valid"
    if dev is None:
        if valid_legal:
            fail(f"{path}: record {n}: a valid legal decision without a deviation object")
        return
    if not valid_legal or not isinstance(dev, dict):
        fail(f"{path}: record {n}: deviation {dev!r} on a {auth} {r['verdict']} decision")
    for k, v in dev.items():
        if k not in DEVIATIONS or isinstance(v, bool) != (bool in DEVIATIONS[k]) or not isinstance(v, DEVIATIONS[k]):
            fail(f"{path}: record {n}: deviation {k}={v!r}")
    if dev.get("silence") is True and r["frame"] is not None:
        fail(f"{path}: record {n}: a chosen silence, yet frame {r['frame']}")


def matches(r, a):
    if a.kind and r["kind"] != a.kind:
        return False
    if a.action and r["action"] != a.action:
        return False
    if a.format and r["format"] != a.format:
        return False
    if a.provider and r["provider"] != a.provider:
        return False
    if a.model and r["model"] != a.model:
        return False
    if a.verdict and r["verdict"] != a.verdict and verdict_class(r["verdict"]) != a.verdict:
        return False
    if getattr(a, "authority", None) and r.get("authority") != a.authority:
        return False
    if getattr(a, "deviates", None) and a.deviates not in (r.get("deviation") or {}):
        return False
    return True


def tshark(pcap, fields, filt=None):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=|"]
    if filt:
        cmd += ["-Y", filt]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def cmd_frames(a):
    recs = [r for r in load(a.trace) if matches(r, a)]
    if not recs:
        fail(f"no {a.kind or ''} {a.action or ''} records in {a.trace}")
    rows = tshark(a.pcap, ["frame.number", "ip.src", "ip.dst", "icmp.type", "arp.opcode",
                           "arp.src.proto_ipv4", "tcp.flags.syn", "tcp.flags.ack"])
    by_no = {int(r[0]): r for r in rows}
    seen = set()
    for r in recs:
        f = r["frame"]
        if f is None:
            fail(f"record {r['id']} ({r['kind']} {r['action']}) has no frame number")
        if f in seen:
            fail(f"frame {f} named by two records")
        seen.add(f)
        row = by_no.get(f)
        if row is None:
            fail(f"record {r['id']}: frame {f} is not in {a.pcap} ({len(rows)} frames)")
        _, src, dst, icmp_type, arp_op, arp_src, syn, ack = row
        if a.expect == "icmp-reply":
            ok = src == a.me and icmp_type == "0"
        elif a.expect == "arp-reply":
            ok = arp_op == "2" and arp_src == a.me
        else:
            ok = src == a.me and syn in ("1", "True") and ack in ("1", "True")
        if not ok:
            fail(f"record {r['id']}: frame {f} is not a {a.expect} from {a.me}: {row}")
    print(len(recs))


def as_int(s):
    """A tshark number: decimal, or hex with 0x."""
    return int(s, 16) if s.startswith("0x") else int(s)


def as_bool(s):
    return s in ("1", "True", "true")


CAPTURE_FIELDS = ["frame.number", "ip.src", "ip.dst", "ip.ttl", "ip.id", "ip.flags.df", "icmp.type",
                  "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.window_size_value", "tcp.options.mss_val",
                  "tcp.options.wscale.shift", "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4",
                  "eth.src", "tcp.srcport"]


def check_deviation(r, row, me):
    """The capture's frame of a legal decision against its deviation: each field that departed has
    the adopted value on the wire; what did not depart is the stack's own (TTL 64, no DF on an echo
    reply)."""
    f = dict(zip(CAPTURE_FIELDS, row))
    dev = r["deviation"]
    where = f"record {r['id']} ({r['kind']}, frame {r['frame']})"
    if f["ip.src"] not in ("", me) or (f["arp.src.proto_ipv4"] not in ("", me)):
        fail(f"{where}: not from {me}: {row}")
    if r["kind"] == "icmp":
        want = {"ip.ttl": dev.get("ttl", 64), "ip.flags.df": dev.get("df", False)}
        got = {"ip.ttl": as_int(f["ip.ttl"]), "ip.flags.df": as_bool(f["ip.flags.df"])}
        if "ip_ident" in dev:
            want["ip.id"], got["ip.id"] = dev["ip_ident"], as_int(f["ip.id"])
        if f["icmp.type"] != "0" or want != got:
            fail(f"{where}: the echo reply has {got}, the trace says {want}")
        return
    if r["kind"] == "arp":
        if f["arp.opcode"] != "2" or dev:
            fail(f"{where}: an ARP reply departs in {dev} or is not one: {row}")
        return
    flags = as_int(f["tcp.flags"])
    if dev.get("action") == "rst":
        if not flags & 0x04:
            fail(f"{where}: the trace says rst, the capture has flags {flags:#x}")
        return
    checks = {"iss": ("tcp.seq_raw", as_int), "window": ("tcp.window_size_value", as_int),
              "mss": ("tcp.options.mss_val", as_int), "wscale": ("tcp.options.wscale.shift", as_int)}
    for k, (field, conv) in checks.items():
        if k not in dev:
            continue
        got = conv(f[field]) if f[field] else None
        if got != dev[k]:
            fail(f"{where}: {k} on the wire is {got}, the trace says {dev[k]}")


def check_deviations(trace, by_no, me):
    """Every valid legal decision of the trace against the capture (--pcap on a TAP: both ways).
    Returns a one-line summary."""
    recs = [r for r in load(trace) if r.get("authority") == "legal" and verdict_class(r["verdict"]) == "valid"
            and r["mode"] == "llm"]
    if not recs:
        fail(f"no valid legal decision in {trace}")
    fields = {}
    for r in recs:
        for k in r["deviation"]:
            fields[k] = fields.get(k, 0) + 1
        if r["frame"] is None:
            continue  # a chosen silence, or an answer that waited for its next hop's address
        row = by_no.get(r["frame"])
        if row is None:
            fail(f"record {r['id']}: frame {r['frame']} is not in the capture")
        check_deviation(r, row, me)
    return (f"{len(recs)} legal decisions; deviations: "
            + (", ".join(f"{k} {n}" for k, n in sorted(fields.items())) or "none"))


def cmd_deviations(a):
    by_no = {int(row[0]): row for row in tshark(a.pcap, CAPTURE_FIELDS)}
    print(check_deviations(a.trace, by_no, a.me))


def wire_counts(rows, a):
    """What we sent (by our MAC), by category."""
    c = dict.fromkeys(("frames", "foreign", "arp_other", "synack", "rst_ack0", "rst", "icmp", "tcp",
                       "port81_rst"), 0)
    for row in rows:
        f = dict(zip(CAPTURE_FIELDS, row))
        if f["eth.src"].lower() != a.mac.lower():
            continue
        c["frames"] += 1
        if (f["ip.src"] and (f["ip.src"] != a.me or f["ip.dst"] != a.peer)) or \
                (f["arp.src.proto_ipv4"] and f["arp.src.proto_ipv4"] != a.me):
            c["foreign"] += 1
        if f["arp.opcode"] == "2" and f["arp.src.proto_ipv4"] == a.other:
            c["arp_other"] += 1
        c["icmp"] += f["icmp.type"] != ""
        if not f["tcp.flags"]:
            continue
        c["tcp"] += 1
        flags = as_int(f["tcp.flags"])
        c["synack"] += flags & 0x12 == 0x12
        c["rst"] += bool(flags & 0x04)
        c["rst_ack0"] += flags & 0x14 == 0x14 and as_int(f["tcp.seq_raw"]) == 0
        c["port81_rst"] += bool(flags & 0x04) and f["tcp.srcport"] == "81"
    return c


def cmd_wire(a):
    """One tshark pass over a capture: counts of what we sent, and the trace's deviations against it."""
    rows = tshark(a.pcap, CAPTURE_FIELDS)
    c = wire_counts(rows, a)
    print(" ".join(f"{k}={v}" for k, v in c.items()))
    if a.trace:
        print(check_deviations(a.trace, {int(row[0]): row for row in rows}, a.me))


def parse_stats(path):
    """Decision counters from the daemon's --stats / SIGUSR1 output: for each kind, a line naming
    the kind followed by name=value (or "name value") pairs. Takes the last block printed."""
    text = open(path, encoding="utf-8", errors="replace").read()
    stats = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(?:decisions?\s+)?(icmp|arp|tcp)\b[:\s]+(.*)$", line)
        if not m:
            continue
        pairs = dict((k, float(v)) for k, v in re.findall(r"([a-z_]+)[=:\s]\s*([0-9.]+)", m.group(2)))
        if "asked" in pairs:
            stats[m.group(1)] = pairs
    return stats


def cmd_stats(a):
    stats = parse_stats(a.log)
    recs = load(a.trace)
    if not stats:
        fail(f"no per-kind decision counters in {a.log}")
    for kind in KINDS:
        mine = [r for r in recs if r["kind"] == kind]
        s = stats.get(kind)
        if s is None:
            if mine:
                fail(f"{kind}: {len(mine)} decisions traced but no counters printed")
            continue
        want = {"asked": len(mine),
                "valid": sum(verdict_class(r["verdict"]) == "valid" for r in mine),
                "invalid": sum(verdict_class(r["verdict"]) == "invalid" for r in mine),
                "timeouts": sum(r["verdict"] == "timeout" for r in mine),
                "errors": sum(verdict_class(r["verdict"]) == "error" for r in mine),
                "fallback": sum(r["action"] == "fallback" for r in mine),
                "dropped": sum(r["action"] == "drop" for r in mine)}
        for k, v in want.items():
            if k not in s:
                fail(f"{kind}: counter '{k}' not printed: {s}")
            if int(s[k]) != v:
                fail(f"{kind}: --stats says {k}={int(s[k])}, the trace has {v}")
        print(f"{kind}: " + " ".join(f"{k}={v}" for k, v in want.items()))


def p50(values):
    """Nearest-rank median (the lower middle for an even count)."""
    if not values:
        return None
    v = sorted(values)
    return v[(len(v) - 1) // 2]


def cmd_report(a):
    recs = []
    for t in a.trace:
        recs += load(t)
    groups = {}
    for r in recs:
        groups.setdefault((r["kind"], r["format"], r["provider"], r["mode"]), []).append(r)
    print(f"{'kind':5} {'format':10} {'provider':9} {'mode':6} {'asked':>6} {'valid':>6} "
          f"{'invalid':>7} {'timeout':>7} {'error':>6} {'accuracy':>8} {'p50 ms':>8}")
    for key in sorted(groups):
        g = groups[key]
        cls = [verdict_class(r["verdict"]) for r in g]
        valid = cls.count("valid")
        lat = [r["latency_ms"] for r, c in zip(g, cls) if r["latency_ms"] is not None and c != "timeout"]
        med = p50(lat)
        print(f"{key[0]:5} {key[1]:10} {key[2]:9} {key[3]:6} {len(g):6} {valid:6} "
              f"{cls.count('invalid'):7} {cls.count('timeout'):7} {cls.count('error'):6} "
              f"{100.0 * valid / len(g):7.1f}% {('%.3f' % med) if med is not None else 'n/a':>8}")
    reasons = {}
    for r in recs:
        if verdict_class(r["verdict"]) in ("invalid", "error"):
            key = (r["kind"], r["format"], r["verdict"])
            reasons[key] = reasons.get(key, 0) + 1
    if reasons:
        print("refused: " + ", ".join(f"{k} {f} {v} x{n}" for (k, f, v), n in sorted(reasons.items())))


def cmd_summary(a):
    recs = load(a.trace)
    parts = []
    for kind in KINDS:
        g = [r for r in recs if r["kind"] == kind]
        if not g:
            continue
        valid = sum(verdict_class(r["verdict"]) == "valid" for r in g)
        med = p50([r["latency_ms"] for r in g if r["verdict"] != "timeout"])
        parts.append(f"{kind} {valid}/{len(g)} valid ({100.0 * valid / len(g):.0f}%), p50 "
                     + (f"{med:.3f} ms" if med is not None else "n/a"))
    print("; ".join(parts) if parts else "no decisions traced")


def icmp_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def cmd_echo_payload(a):
    """Echo requests with TEXT as payload, one at a time; each must come back exactly, from DST."""
    payload = a.text.encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    got = differ = 0
    for seq in range(1, a.count + 1):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        csum = icmp_checksum(hdr + payload)
        s.sendto(struct.pack("!BBHHH", 8, 0, csum, ident, seq) + payload, (a.dst, 0))
        deadline = time.monotonic() + a.wait
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            pkt, (src, _) = s.recvfrom(65535)
            ihl = (pkt[0] & 0x0F) * 4
            icmp = pkt[ihl:]
            typ, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ != 0 or rid != ident or rseq != seq:
                continue
            if src != a.dst or code != 0 or icmp[8:] != payload or icmp_checksum(icmp) != 0:
                if not a.no_fail:
                    fail(f"echo reply {seq} differs: from {src}, code {code}, payload {icmp[8:]!r}")
                differ += 1
            got += 1
            break
    if a.no_fail:
        print(f"{got}/{a.count} differing={differ}")
        return
    print(f"{got}/{a.count}")
    if got != a.count:
        fail(f"only {got} of {a.count} echo requests with the instruction payload were answered")


def cmd_replies(a):
    """Every echo reply ME sent answers a request PEER sent, field for field, with our own TTL;
    and ME sent nothing to anyone but PEER (gratuitous ARP about itself aside)."""
    reqs = {}
    for src, dst, ident, seq, data in tshark(a.pcap, ["ip.src", "ip.dst", "icmp.ident", "icmp.seq",
                                                      "data.data"], "icmp.type==8 && ip.flags.mf==0"):
        reqs.setdefault((src, ident, seq), []).append(data)
    n = 0
    for src, dst, ident, seq, data, ttl, csum_ok in tshark(
            a.pcap, ["ip.src", "ip.dst", "icmp.ident", "icmp.seq", "data.data", "ip.ttl",
                     "icmp.checksum.status"], f"icmp.type==0 && ip.src=={a.me}"):
        if dst != a.peer:
            fail(f"echo reply to {dst}")
        if data not in reqs.get((dst, ident, seq), []):
            fail(f"echo reply ident {ident} seq {seq} matches no request (payload {data[:40]})")
        if ttl != str(a.ttl):
            fail(f"echo reply ident {ident} seq {seq} has TTL {ttl}, want {a.ttl}")
        if csum_ok not in ("1", "Good", "2"):
            fail(f"echo reply ident {ident} seq {seq}: checksum status {csum_ok}")
        n += 1
    others = tshark(a.pcap, ["frame.number", "ip.dst", "arp.dst.proto_ipv4"],
                    f"(ip.src=={a.me} && ip.dst!={a.peer}) || (arp.src.proto_ipv4=={a.me} && "
                    f"arp.dst.proto_ipv4!={a.peer} && arp.dst.proto_ipv4!={a.me})")
    if others:
        fail(f"{a.me} sent frames to someone else: {others[:5]}")
    print(n)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("lint")
    s.add_argument("trace")
    for name in ("count", "frames"):
        s = sub.add_parser(name)
        s.add_argument("trace")
        if name == "frames":
            s.add_argument("pcap")
            s.add_argument("--expect", required=True, choices=("icmp-reply", "arp-reply", "syn-ack"))
            s.add_argument("--me", default="192.0.2.2")
        for f in ("kind", "action", "verdict", "format", "provider", "model", "authority", "deviates"):
            s.add_argument("--" + f)
    s = sub.add_parser("deviations")
    s.add_argument("trace")
    s.add_argument("pcap")
    s.add_argument("--me", default="192.0.2.2")
    s = sub.add_parser("wire")
    s.add_argument("pcap")
    s.add_argument("--trace")
    s.add_argument("--me", default="192.0.2.2")
    s.add_argument("--peer", default="192.0.2.1")
    s.add_argument("--mac", default="02:00:00:00:00:02")
    s.add_argument("--other", default="192.0.2.77")
    s = sub.add_parser("stats")
    s.add_argument("log")
    s.add_argument("trace")
    s = sub.add_parser("counter")
    s.add_argument("log")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("name")
    s = sub.add_parser("after")
    s.add_argument("trace")
    s.add_argument("kind", choices=KINDS)
    s.add_argument("epoch", type=float)
    s = sub.add_parser("summary")
    s.add_argument("trace")
    s = sub.add_parser("report")
    s.add_argument("trace", nargs="+")
    s = sub.add_parser("echo-payload")
    s.add_argument("dst")
    s.add_argument("text")
    s.add_argument("count", type=int)
    s.add_argument("--wait", type=float, default=5.0)
    s.add_argument("--no-fail", action="store_true")
    s = sub.add_parser("replies")
    s.add_argument("pcap")
    s.add_argument("me")
    s.add_argument("peer")
    s.add_argument("--ttl", type=int, default=64)
    a = p.parse_args()
    if a.cmd == "lint":
        recs = load(a.trace)
        lint(recs, a.trace)
        print(len(recs))
    elif a.cmd == "count":
        print(sum(matches(r, a) for r in load(a.trace)))
    elif a.cmd == "frames":
        cmd_frames(a)
    elif a.cmd == "deviations":
        cmd_deviations(a)
    elif a.cmd == "wire":
        cmd_wire(a)
    elif a.cmd == "stats":
        cmd_stats(a)
    elif a.cmd == "counter":
        v = parse_stats(a.log).get(a.kind, {}).get(a.name)
        if v is None:
            fail(f"no {a.kind} {a.name} counter in {a.log}")
        print(int(v))
    elif a.cmd == "after":
        recs = [r for r in load(a.trace) if r["kind"] == a.kind]
        if not recs:
            fail(f"no {a.kind} decision in {a.trace}")
        for r in recs:
            # the trace has milliseconds: a record in the same millisecond is not "after"
            if epoch(r["time"]) < a.epoch:
                fail(f"{a.kind} decision {r['id']} at {r['time']}, before {a.epoch:.3f}")
        print(f"{epoch(recs[0]['time']) - a.epoch:.3f}")
    elif a.cmd == "summary":
        cmd_summary(a)
    elif a.cmd == "report":
        cmd_report(a)
    elif a.cmd == "echo-payload":
        cmd_echo_payload(a)
    else:
        cmd_replies(a)


if __name__ == "__main__":
    main()
