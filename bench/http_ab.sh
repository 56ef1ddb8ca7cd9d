#!/usr/bin/env bash
# HTTP requests per second against slowpath's status page (port 80) with Apache Bench, one new
# TCP connection per request (ab speaks HTTP/1.0 without keep-alive): what the connection table,
# TIME-WAIT and the listener's backlog allow. Prints requests/s, the slowest request and ab's
# failure counts, plus the daemon's TCP counters; a measurement, not a test.
# Usage: bench/http_ab.sh [REQUESTS] [CONCURRENCY] [-- SLOWPATH-FLAGS...] (default 5000 and 50),
# as root; SP_BIN defaults to build/bin (point it at another build to compare).
# Needs ab (Debian apache2-utils, tools/install-deps.sh).
# The page's length changes with the counters it shows, so ab's "Length" failures are expected;
# Connect, Receive and Exceptions are the failures that count.
set -euo pipefail
N=${1:-5000}
C=${2:-50}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = -- ] && shift
SP_SRC=$(cd "$(dirname "$0")/.." && pwd)
SP_BIN=${SP_BIN:-$SP_SRC/build/bin}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
[ -x "$SP_BIN/slowpath" ] || { echo "no slowpath in $SP_BIN" >&2; exit 1; }
command -v ab >/dev/null || { echo "no ab (apt-get install apache2-utils)" >&2; exit 1; }

NS=spb-ab-$$
TMP=$(mktemp -d /tmp/sp-ab.XXXXXX)
SPPID=""
cleanup() {
    if [ -n "$SPPID" ]; then kill -TERM "$SPPID" 2>/dev/null || true; fi
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

source "$SP_SRC/tools/lab.sh"
sp_lab_tap "$NS"
ip netns exec "$NS" "$SP_BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 --stats "$@" 2>"$TMP/sp.log" &
SPPID=$!
sp_wait_until -p "$SPPID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" 192.0.2.2 ||
    { cat "$TMP/sp.log" >&2; exit 1; }

# -r: a socket error does not end the run (it is counted); -s: a stalled request gives up after
# 30 s instead of ab's default of a minute.
ip netns exec "$NS" ab -q -r -s 30 -n "$N" -c "$C" http://192.0.2.2/ >"$TMP/ab.out" 2>&1 || true
rss=$(awk '/^VmRSS:/ {print $2 " " $3}' "/proc/$SPPID/status" 2>/dev/null || echo "?")
kill -TERM "$SPPID"
wait "$SPPID" || true
SPPID=""

rps=$(awk '/^Requests per second:/ {print $4}' "$TMP/ab.out")
longest=$(awk '/\(longest request\)/ {print $2}' "$TMP/ab.out")
complete=$(awk '/^Complete requests:/ {print $3}' "$TMP/ab.out")
failed=$(sed -n 's/^Failed requests: *//p' "$TMP/ab.out")
detail=$(sed -n 's/^ *(Connect: \(.*\))$/\1/p' "$TMP/ab.out")
[ -n "$rps" ] || { echo "ab gave no figures:" >&2; cat "$TMP/ab.out" >&2; exit 1; }

printf 'HTTP over slowpath, ab -n %s -c %s (one connection per request)\n' "$N" "$C"
printf '  requests per second: %s\n' "$rps"
printf '  slowest request:     %s ms\n' "$longest"
printf '  complete requests:   %s\n' "$complete"
printf '  failed requests:     %s (Connect: %s)\n' "${failed:-0}" "${detail:-0}"
printf '  slowpath RSS at end: %s\n' "$rss"
printf '  ab percentiles (ms):\n'
sed -n '/^Percentage of the requests/,$p' "$TMP/ab.out" | tail -n +2 | sed 's/^/  /'
printf '  slowpath TCP counters:\n'
grep -E '^  (tcp_|drop_tcp)' "$TMP/sp.log" | sed 's/^/  /' || true
