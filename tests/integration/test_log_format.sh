#!/usr/bin/env bash
# --log-format: json writes one JSON object a line ({"time","level","msg"} plus fields), the
# SIGUSR1 / --stats dump included; text under systemd (stderr is the journal, as $JOURNAL_STREAM
# names it) starts each line with the journal's priority prefix instead of the program's name.
source "$(dirname "$0")/lib.sh"
sp_setup logfmt

sp_start --log-format json -v --stats --delegate icmp=llm
sp_in ping -n -q -c 3 -i 0.1 -W 2 "$SP_IP" >/dev/null || sp_fail "ping"
kill -USR1 "$SP_PID"
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "the counters event" grep -q '"msg":"counters"' "$SP_LOG" ||
    sp_fail "no counters event after SIGUSR1"
sp_stop
/usr/bin/python3 - "$SP_LOG" <<'PY' || sp_fail "the JSON log"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "empty log"
events = []
for n, line in enumerate(lines, 1):
    try:
        e = json.loads(line)
    except ValueError:
        sys.exit(f"line {n} is not JSON: {line[:120]!r}")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e.get("time", "")), f"line {n}: time"
    assert e.get("level") in ("error", "warning", "info", "debug"), f"line {n}: level"
    assert isinstance(e.get("msg"), str) and e["msg"], f"line {n}: msg"
    events.append(e)
up = [e for e in events if e["msg"].startswith("up on ")]
assert up and up[0]["device"] == "tap0", "no 'up on' event with its device"
dumps = [e for e in events if e["msg"] == "counters"]
assert len(dumps) == 2, f"{len(dumps)} counters events (SIGUSR1 and --stats at exit)"
for d in dumps:
    assert d["counters"]["icmp_echo_tx"] >= 3, "echo replies not counted"
    assert d["decisions"]["icmp"]["asked"] >= 3, "decisions not counted"
    assert "context_cache" in d and "llm_client" in d
print(f"{len(events)} events, each one JSON line")
PY
sp_log "json: every line an event"

# Text for the journal: what systemd's JOURNAL_STREAM says is stderr's device and inode.
log="$SP_TMP/journal.log"
: >"$log"
journal=$(stat -c '%d:%i' "$log")
JOURNAL_STREAM=$journal ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" -v 2>"$log" &
SP_PID=$!
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "the up event" grep -q '^<6>up on tap0' "$log" ||
    sp_fail "no '<6>up on tap0' line: $(head -n 3 "$log")"
SP_LOG=$log
sp_stop
grep -q '^<6>Terminated, exiting$' "$log" || sp_fail "no '<6>Terminated, exiting' line: $(cat "$log")"
if grep -v '^<[0-7]>' "$log"; then sp_fail "a line without a priority prefix"; fi
# Elsewhere (the variable inherited, stderr another file) the text is the terminal's.
SP_LOG="$SP_TMP/plain.log"
JOURNAL_STREAM=$journal ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" -v 2>"$SP_LOG" &
SP_PID=$!
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "the up event" grep -q '^slowpath: info: up on tap0' "$SP_LOG" ||
    sp_fail "no 'slowpath: info: up on tap0' line: $(head -n 3 "$SP_LOG")"
sp_stop
sp_log "text: journal priorities under systemd, names elsewhere"
sp_log "PASS"
