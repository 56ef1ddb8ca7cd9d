#!/usr/bin/python3
"""Checks for the metrics integration test: reads a scrape of slowpath's /metrics (Prometheus text
format 0.0.4) and its --stats / SIGUSR1 dump, and exits non-zero with one clear line when they
disagree.

    metrics_check.py parse SCRAPE              the scrape parses (families typed, histograms whole)
    metrics_check.py same SCRAPE_A SCRAPE_B    the counters of two scrapes are equal (nothing moved)
    metrics_check.py compare SCRAPE LOG        every figure of the last dump in LOG equals its metric
    metrics_check.py value SCRAPE NAME [LABELS]  prints one sample's value (LABELS: k=v,k=v)
    metrics_check.py connections SCRAPE        prints the TCP connections in any state but LISTEN

The parser is strict on what this test relies on; promtool checks the format itself.
"""
import re
import sys

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
KINDS = ("icmp", "arp", "tcp")


def fail(msg):
    print(f"metrics_check: {msg}", file=sys.stderr)
    sys.exit(1)


def labels_of(text):
    out, pos = {}, 0
    while pos < len(text):
        m = LABEL_RE.match(text, pos)
        if not m:
            fail(f"bad labels {{{text}}}")
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return tuple(sorted(out.items()))


def parse(path):
    """{(name, labels): value}, checking HELP/TYPE before samples and whole histograms."""
    types, samples, seen_family = {}, {}, []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        fail(f"{path}: the last line does not end with a line feed")
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4:
                fail(f"{path}:{n}: short {parts[1]} line")
            if parts[1] == "TYPE":
                if parts[2] in types:
                    fail(f"{path}:{n}: second TYPE for {parts[2]}")
                types[parts[2]] = parts[3]
                seen_family.append(parts[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            fail(f"{path}:{n}: not a sample: {line!r}")
        name, labels, value = m.group(1), labels_of(m.group(3) or ""), float(m.group(4))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        if family not in types or seen_family[-1] != family:
            fail(f"{path}:{n}: {name} is not in the family typed just before it")
        if types[family] == "counter" and not name.endswith("_total"):
            fail(f"{path}:{n}: counter {name} does not end in _total")
        if (name, labels) in samples:
            fail(f"{path}:{n}: {name}{dict(labels)} twice")
        samples[(name, labels)] = value
    for family, kind in types.items():
        if kind == "histogram":
            check_histogram(family, samples)
    return samples, types


def check_histogram(family, samples):
    series = {}
    for (name, labels), v in samples.items():
        if name == family + "_bucket":
            rest = tuple(kv for kv in labels if kv[0] != "le")
            le = dict(labels)["le"]
            series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
    for rest, buckets in series.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        if counts != sorted(counts):
            fail(f"{family}{dict(rest)}: buckets not cumulative")
        if buckets[-1][0] != float("inf"):
            fail(f"{family}{dict(rest)}: no +Inf bucket")
        if samples.get((family + "_count", rest)) != counts[-1]:
            fail(f"{family}{dict(rest)}: _count differs from the +Inf bucket")
        if (family + "_sum", rest) not in samples:
            fail(f"{family}{dict(rest)}: no _sum")


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def last_dump(log):
    """The last --stats / SIGUSR1 block of LOG as lines."""
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    starts = [i for i, l in enumerate(lines) if l == "slowpath counters:"]
    if not starts:
        fail(f"{log}: no 'slowpath counters:' block")
    block = []
    for l in lines[starts[-1] + 1:]:
        if l.startswith("  ") or l.startswith("slowpath decisions ("):
            block.append(l)
        else:
            break
    return block


def figures(block):
    """[(what, metric name, labels, value)] for every figure the dump shows."""
    out, kind = [], None
    stack = {}
    for l in block:
        m = re.match(r"^  ([a-z0-9_]+) +(\d+)$", l)
        if m:
            stack[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"^  (icmp|arp|tcp) +asked (\d+), valid (\d+), invalid (\d+), timeouts (\d+), errors (\d+); "
                     r"llm (\d+), fallback (\d+), dropped (\d+)(.*)$", l)
        if m:
            kind = m.group(1)
            a, v, i, t, e, llm, fb, dr = (int(x) for x in m.group(*range(2, 10)))
            out += [("asked", "slowpath_decisions_asked_total", {"kind": kind}, a)]
            for verdict, n in (("valid", v), ("invalid", i), ("timeout", t), ("error", e)):
                out.append((verdict, "slowpath_decisions_total", {"kind": kind, "verdict": verdict}, n))
            for action, n in (("llm", llm), ("fallback", fb), ("drop", dr)):
                out.append((action, "slowpath_decision_actions_total", {"kind": kind, "action": action}, n))
            s = re.search(r"shadow \d+ \(match (\d+), mismatch (\d+)\)", m.group(10))
            mt, mm = (int(s.group(1)), int(s.group(2))) if s else (0, 0)
            out.append(("match", "slowpath_decision_shadow_grades_total", {"kind": kind, "grade": "match"}, mt))
            out.append(("mismatch", "slowpath_decision_shadow_grades_total", {"kind": kind, "grade": "mismatch"}, mm))
            s = re.search(r"late answers (\d+)", m.group(10))
            out.append(("late", "slowpath_decision_late_answers_total", {"kind": kind}, int(s.group(1)) if s else 0))
            continue
        m = re.match(r"^ +repeats joined (\d+); answered natively: pending table full (\d+), too big (\d+)$", l)
        if m:
            out.append(("joined", "slowpath_decisions_joined_total", {"kind": kind}, int(m.group(1))))
            for why, n in (("pending_full", m.group(2)), ("too_big", m.group(3))):
                out.append((why, "slowpath_decisions_kept_native_total", {"kind": kind, "why": why}, int(n)))
            continue
        m = re.search(r"\((\d+) samples\), tokens in (\d+) out (\d+) cached (\d+)$", l)
        if m:
            out.append(("samples", "slowpath_decision_latency_seconds_count", {"kind": kind}, int(m.group(1))))
            for what, name, n in (("tokens in", "slowpath_llm_input_tokens_total", m.group(2)),
                                  ("tokens out", "slowpath_llm_output_tokens_total", m.group(3)),
                                  ("tokens cached", "slowpath_llm_cached_tokens_total", m.group(4))):
                out.append((what, name, {"kind": kind}, int(n)))
            continue
        m = re.match(r"^ +((?:invalid|error):[a-z_]+) +(\d+)$", l)
        if m:
            out.append((m.group(1), "slowpath_decision_reasons_total", {"kind": kind, "reason": m.group(1)},
                        int(m.group(2))))
            continue
        m = re.match(r"^  context cache: flows (\d+), bytes (\d+), hits (\d+), misses (\d+), evictions (\d+), "
                     r"expirations (\d+)$", l)
        if m:
            f, b, h, mi, ev, ex = (int(x) for x in m.groups())
            out += [("flows", "slowpath_context_cache_flows", {}, f),
                    ("bytes", "slowpath_context_cache_bytes", {}, b),
                    ("hits", "slowpath_context_cache_lookups_total", {"result": "hit"}, h),
                    ("misses", "slowpath_context_cache_lookups_total", {"result": "miss"}, mi),
                    ("evictions", "slowpath_context_cache_evictions_total", {}, ev),
                    ("expirations", "slowpath_context_cache_expirations_total", {}, ex)]
            continue
        m = re.match(r"^  llm client: asks (\d+), ok (\d+), failed (\d+), busy (\d+), breaker rejects (\d+), "
                     r"retries (\d+), timeouts (\d+), tokens in \d+ out \d+ cache write (\d+) cache read \d+$", l)
        if m:
            a, ok, fl, bz, br, rt, to, cw = (int(x) for x in m.groups())
            out += [("asks", "slowpath_llm_asks_total", {}, a),
                    ("ok", "slowpath_llm_asks_finished_total", {"result": "ok"}, ok),
                    ("failed", "slowpath_llm_asks_finished_total", {"result": "failed"}, fl),
                    ("busy", "slowpath_llm_asks_refused_total", {"reason": "busy"}, bz),
                    ("breaker", "slowpath_llm_asks_refused_total", {"reason": "breaker"}, br),
                    ("retries", "slowpath_llm_retries_total", {}, rt),
                    ("timeouts", "slowpath_llm_timeouts_total", {}, to),
                    ("cache write", "slowpath_llm_cache_write_tokens_total", {}, cw)]
            continue
        if re.match(r"^ +(accuracy|repeats)", l):
            fail(f"a dump line the checker does not know: {l!r}")
    return stack, out


LINK = {"rx_frames": "slowpath_frames_received_total", "tx_frames": "slowpath_frames_sent_total",
        "rx_bytes": "slowpath_received_bytes_total", "tx_bytes": "slowpath_sent_bytes_total"}


def stack_metric(name):
    if name in LINK:
        return LINK[name], {}
    if name.startswith("drop_"):
        return "slowpath_drops_total", {"reason": name[5:]}
    return "slowpath_stack_events_total", {"event": name}


def compare(scrape, log):
    samples, _ = parse(scrape)
    stack, out = figures(last_dump(log))
    checked = 0
    # Every stack counter: the dump shows those above 0, the scrape all of them.
    names = set(stack) | {"drop_" + dict(l)["reason"] for (n, l) in samples if n == "slowpath_drops_total"}
    names |= {dict(l)["event"] for (n, l) in samples if n == "slowpath_stack_events_total"}
    names |= set(LINK)
    for name in sorted(names):
        metric, labels = stack_metric(name)
        got = value(samples, metric, **labels)
        if got != stack.get(name, 0):
            fail(f"counter {name}: dump {stack.get(name, 0)}, metric {metric}{labels} {got:g}")
        checked += 1
    for what, metric, labels, n in out:
        got = value(samples, metric, **labels)
        if got != n:
            fail(f"{what}: dump {n}, metric {metric}{labels} {got:g}")
        checked += 1
    # Reasons the scrape has and the dump does not list.
    listed = {(l["kind"], l["reason"]) for _, m, l, _ in out if m == "slowpath_decision_reasons_total"}
    for (name, labels), v in samples.items():
        d = dict(labels)
        if name == "slowpath_decision_reasons_total" and v and (d["kind"], d["reason"]) not in listed:
            fail(f"metric {name}{d} is {v:g} and the dump does not list it")
    if checked < len(LINK) + 10:
        fail(f"only {checked} figures compared")
    print(f"{checked} figures equal")


def counters(samples, types):
    return {k: v for k, v in samples.items()
            if types.get(k[0]) == "counter" or k[0].endswith(("_bucket", "_count", "_sum"))}


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    cmd = sys.argv[1]
    if cmd == "parse":
        samples, types = parse(sys.argv[2])
        print(f"{len(types)} families, {len(samples)} samples")
    elif cmd == "same":
        a, ta = parse(sys.argv[2])
        b, tb = parse(sys.argv[3])
        if counters(a, ta) != counters(b, tb):
            diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
            fail(f"the counters moved between the scrapes: {sorted(diff)[:5]}")
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif cmd == "connections":
        samples, _ = parse(sys.argv[2])
        n = sum(v for (name, labels), v in samples.items()
                if name == "slowpath_tcp_connections" and dict(labels)["state"] != "listen")
        print(f"{n:g}")
    elif cmd == "value":
        samples, _ = parse(sys.argv[2])
        labels = dict(kv.split("=", 1) for kv in sys.argv[4].split(",")) if len(sys.argv) > 4 else {}
        print(f"{value(samples, sys.argv[3], **labels):g}")
    else:
        fail(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
