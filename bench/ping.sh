#!/usr/bin/env bash
# Benchmark (prints figures, asserts nothing): ping round trips to slowpath on a TAP versus the
# Linux kernel over a veth pair, and the time of a bounded `ping -f` against slowpath versus a
# trivial TAP reflector (the limit of the TAP path itself). Runs in namespaces it makes and
# removes. Usage: bench/ping.sh [BUILD_DIR] [FLOOD_COUNT] [ROUNDS]; SP_BIN, when set, is the bin
# directory to take slowpath and tap-reflector from instead of BUILD_DIR/bin (as the other
# benches take it). The floods alternate, slowpath then the reflector, ROUNDS times (default 3),
# and each keeps its fastest: on a shared machine one flood alone moves by more than the 5 % the
# ratio is judged by.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SP_BIN:-${1:-build}/bin}
FLOOD=${2:-30000}
ROUNDS=${3:-3}
RTT_COUNT=200
[ -x "$BIN/slowpath" ] && [ -x "$BIN/tap-reflector" ] || { echo "build first (cmake --build build)"; exit 1; }

NS=sp-bench-$$ NS2=sp-bench2-$$
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$NS2" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source tools/lab.sh
sp_lab_tap "$NS"
ip netns add "$NS2"
# The kernel-to-kernel reference: a veth pair between the two namespaces.
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS2" addr add 198.51.100.2/24 dev veth1
ip -n "$NS" link set veth0 up
ip -n "$NS2" link set veth1 up

# p50 of ping's per-reply times.
p50() {
    ip netns exec "$NS" ping -n -c "$RTT_COUNT" -i 0.01 -W 1 "$1" 2>/dev/null |
        sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n |
        awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else printf "%.3f ms (%d replies)", a[int((NR+1)/2)], NR}'
}
flood() {
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$(ip netns exec "$NS" timeout 120 ping -n -q -f -c "$FLOOD" -W 1 192.0.2.2 2>&1 || true)
    t1=$(date +%s.%N)
    printf '%s s (%s)' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')" "$(echo "$out" | grep -o '[0-9]* received')"
}

start_host() {
    ip netns exec "$NS" "$@" >/dev/null 2>&1 &
    PID=$!
    sp_wait_until -p "$PID" "$SP_WAIT_S" "$(basename "$1") to answer ARP" sp_answers_arp "$NS" 192.0.2.2 ||
        { echo "host did not come up: $*"; exit 1; }
}
stop_host() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

echo "ping round trip p50 ($RTT_COUNT pings, 10 ms apart)"
start_host "$BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 --mac 02:00:00:00:00:02
printf '  %-36s %s\n' "slowpath over the TAP" "$(p50 192.0.2.2)"
printf '  %-36s %s\n' "Linux kernel over a veth" "$(p50 198.51.100.2)"
stop_host
# fastest SECONDS...: the smallest.
fastest() { printf '%s\n' "$@" | sort -g | head -1; }
sp_times=() ref_times=() sp_got="" ref_got=""
for ((r = 1; r <= ROUNDS; r++)); do
    start_host "$BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 --mac 02:00:00:00:00:02
    out=$(flood)
    sp_times+=("${out%% *}") sp_got="$sp_got $(grep -o '[0-9]* received' <<<"$out" | cut -d' ' -f1)"
    stop_host
    start_host "$BIN/tap-reflector" --tap tap0 --ip 192.0.2.2 --mac 02:00:00:00:00:02
    out=$(flood)
    ref_times+=("${out%% *}") ref_got="$ref_got $(grep -o '[0-9]* received' <<<"$out" | cut -d' ' -f1)"
    stop_host
done
sp_best=$(fastest "${sp_times[@]}") ref_best=$(fastest "${ref_times[@]}")
echo "ping -f -c $FLOOD (wall time, fastest of $ROUNDS alternating rounds)"
printf '  %-36s %s s   (rounds: %s s; replies:%s)\n' "slowpath" "$sp_best" "${sp_times[*]}" "$sp_got"
printf '  %-36s %s s   (rounds: %s s; replies:%s)\n' "tap-reflector (TAP path limit)" "$ref_best" \
    "${ref_times[*]}" "$ref_got"
# The goal is a ratio: slowpath's flood time over the reflector's (1.00 = the TAP path's limit).
printf '  %-36s %s\n' "ratio slowpath / reflector" \
    "$(awk -v a="$sp_best" -v b="$ref_best" 'BEGIN {printf "%.3f", a / b}')"
