#!/usr/bin/env bash
# Decision figures: how many of a model's proposals were valid, and how fast they came.
#
#   bench/decisions_report.sh TRACE...            per kind, format, provider and mode of the
#                                                 slowpath --trace files: asked, valid, invalid,
#                                                 timeout, error, accuracy (valid/asked), p50 latency
#   bench/decisions_report.sh --run [N] [-- SLOWPATH-FLAGS...]
#                                                 runs slowpath in a throw-away namespace with the
#                                                 in-process sim at its defaults (or the flags
#                                                 given, e.g. -- --llm-error-rate 0.2), delegating
#                                                 icmp, arp and tcp (when the daemon takes it), once
#                                                 per prompt format: N pings (default 200), N/10
#                                                 arpings and N/10 curls; then prints the table.
# Latency is ask-to-answer as the trace records it; timeouts are left out of the p50.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK="/usr/bin/python3 tests/integration/llm_check.py"

if [ "${1:-}" != "--run" ]; then
    [ $# -ge 1 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
    exec $CHECK report "$@"
fi
shift
N=200
if [ $# -gt 0 ] && [ "$1" != "--" ]; then N=$1; shift; fi
[ "${1:-}" = "--" ] && shift
EXTRA=("$@")
[ "$(id -u)" -eq 0 ] || { echo "decisions_report: --run needs root (network namespaces)" >&2; exit 1; }
BIN=${SP_BIN:-build/bin}
[ -x "$BIN/slowpath" ] || { echo "decisions_report: no $BIN/slowpath (build first)" >&2; exit 1; }

NS="sp-decrep-$$"
TMP=$(mktemp -d /tmp/sp-decrep.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ME=192.0.2.2 PEER=192.0.2.1 MAC=02:00:00:00:00:02
source tools/lab.sh
sp_lab_tap "$NS"
in_ns() { ip netns exec "$NS" "$@"; }

start() {   # start FORMAT DELEGATE: returns non-zero when slowpath does not come up
    ip netns exec "$NS" "$BIN/slowpath" --tap tap0 --ip "$ME/24" --mac "$MAC" --delegate "$2" \
        --prompt-format "$1" --trace "$TMP/$1.trace" --stats ${EXTRA[@]+"${EXTRA[@]}"} \
        >"$TMP/out" 2>"$TMP/$1.log" &
    PID=$!
    # Quiet: a daemon that does not take the delegation exits, and the caller tries without it.
    sp_wait_until -p "$PID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" "$ME" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || PID=""
    return 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

for fmt in structured raw; do
    rm -f "$TMP/$fmt.trace"
    if ! start "$fmt" icmp=llm,arp=llm,tcp=llm; then
        [ -n "$PID" ] && stop
        rm -f "$TMP/$fmt.trace"
        start "$fmt" icmp=llm,arp=llm || { cat "$TMP/$fmt.log" >&2; exit 1; }
    fi
    in_ns ping -n -q -c "$N" -i 0.01 -W 2 "$ME" >/dev/null 2>&1 || true
    for _ in $(seq $((N / 10))); do   # one request per run: arping's interval is whole seconds
        in_ns arping -q -f -w 2 -I tap0 "$ME" >/dev/null 2>&1 || true
    done
    for _ in $(seq $((N / 10))); do
        in_ns curl -s -o /dev/null --max-time 5 "http://$ME/" || true
    done
    stop
done
echo "decisions at the sim's settings (${EXTRA[*]:-defaults}): $N pings, $((N / 10)) arpings, $((N / 10)) curls per format"
$CHECK report "$TMP/structured.trace" "$TMP/raw.trace"
