#!/usr/bin/env bash
# TCP under loss: the time of an echo round trip (Linux nc -> slowpath echo, port 7, and back)
# through slowpath's fault injector, with SACK and timestamps (the default), with timestamps but
# no SACK, and with neither, in the same run; the same data and fault seed for each. Prints the
# seconds and the recovery counters; a measurement, not a test.
# Usage: bench/tcp_loss.sh [MB] [DROP] (default 50 and 0.05), as root; SP_BIN defaults to build/bin.
set -euo pipefail
MB=${1:-50}
DROP=${2:-0.05}
SP_SRC=$(cd "$(dirname "$0")/.." && pwd)
SP_BIN=${SP_BIN:-$SP_SRC/build/bin}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
[ -x "$SP_BIN/slowpath" ] || { echo "no slowpath in $SP_BIN" >&2; exit 1; }

NS=spb-loss-$$
TMP=$(mktemp -d /tmp/sp-bench-loss.XXXXXX)
SPPID=""
cleanup() {
    if [ -n "$SPPID" ]; then kill -TERM "$SPPID" 2>/dev/null || true; fi
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

head -c $((MB * 1000000)) /dev/urandom >"$TMP/data"
source "$SP_SRC/tools/lab.sh"
sp_lab_tap "$NS"
now() { date +%s.%N; }

# run LABEL FLAGS...: one echo; prints its line.
run() {
    local label=$1
    shift
    ip netns exec "$NS" "$SP_BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 --drop-chance "$DROP" --seed 1 "$@" \
        2>"$TMP/sp.log" &
    SPPID=$!
    sp_wait_until -p "$SPPID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" 192.0.2.2 ||
        { cat "$TMP/sp.log" >&2; exit 1; }
    local t0 t1 page
    t0=$(now)
    ip netns exec "$NS" timeout 1800 nc -N 192.0.2.2 7 <"$TMP/data" >"$TMP/echo"
    t1=$(now)
    cmp -s "$TMP/data" "$TMP/echo" || echo "  ($label: the echo differs)"
    page=$(ip netns exec "$NS" curl -sS -m 30 --retry 3 http://192.0.2.2/ || true)
    kill -TERM "$SPPID"
    wait "$SPPID" || true
    SPPID=""
    printf '  %-26s %7.1f s   %s\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(echo "$page" |
        grep -E '^(tcp_retransmit|tcp_fast_retransmit|tcp_sack_recovery) ' | tr '\n' ' ')"
}

printf 'TCP echo of %d MB through slowpath at %s loss each way (Linux nc -> slowpath port 7 -> back)\n' "$MB" "$DROP"
run "SACK and timestamps"
run "timestamps, no SACK" --no-sack
run "neither" --no-sack --no-timestamps
