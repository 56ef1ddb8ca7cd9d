#!/usr/bin/env bash
# TCP throughput of slowpath against Linux over its TAP, next to Linux-to-Linux over a veth pair
# between two namespaces. Prints MB/s (10^6 bytes per second); a measurement, not a test.
#   receive: Linux nc -> slowpath discard (port 9)
#   send:    slowpath --connect --send FILE -> Linux nc -l (start to exit of slowpath)
#   veth:    nc -> nc -l between two namespaces, the same byte count
# Usage: bench/tcp_throughput.sh [MB] (default 200), as root; SP_BIN defaults to build/bin.
set -euo pipefail
MB=${1:-200}
SP_SRC=$(cd "$(dirname "$0")/.." && pwd)
SP_BIN=${SP_BIN:-$SP_SRC/build/bin}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
[ -x "$SP_BIN/slowpath" ] || { echo "no slowpath in $SP_BIN" >&2; exit 1; }

NS=spb-tap-$$ NSA=spb-a-$$ NSB=spb-b-$$
TMP=$(mktemp -d /tmp/sp-bench.XXXXXX)
SPPID=""
cleanup() {
    [ -n "$SPPID" ] && kill -TERM "$SPPID" 2>/dev/null || true
    for n in "$NS" "$NSA" "$NSB"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

head -c $((MB * 1000000)) /dev/urandom >"$TMP/data"
now() { date +%s.%N; }
rate() { echo "scale=1; $MB / ($2 - $1)" | bc; }

# --- slowpath on a TAP ---
source "$SP_SRC/tools/lab.sh"
sp_lab_tap "$NS"
ip netns exec "$NS" "$SP_BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 2>"$TMP/sp.log" &
SPPID=$!
sp_wait_until -p "$SPPID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" 192.0.2.2 ||
    { cat "$TMP/sp.log" >&2; exit 1; }

t0=$(now)
ip netns exec "$NS" nc -N 192.0.2.2 9 <"$TMP/data"
t1=$(now)
rx=$(rate "$t0" "$t1")
kill -TERM "$SPPID"; wait "$SPPID" || true; SPPID=""

ip netns exec "$NS" nc -l 192.0.2.1 40000 >/dev/null </dev/null &
ncpid=$!
# slowpath's SYN must find the listener there: a SYN before it would be refused.
sp_wait_port "$NS" 40000 "$ncpid" || exit 1
t0=$(now)
ip netns exec "$NS" "$SP_BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 --connect 192.0.2.1:40000 \
    --send "$TMP/data" >/dev/null 2>"$TMP/sp2.log"
t1=$(now)
tx=$(rate "$t0" "$t1")
wait "$ncpid" 2>/dev/null || true

# --- Linux to Linux over a veth pair ---
ip netns add "$NSA"
ip netns add "$NSB"
ip link add spb-va-$$ netns "$NSA" type veth peer name spb-vb-$$ netns "$NSB"
ip -n "$NSA" addr add 198.51.100.1/24 dev spb-va-$$
ip -n "$NSB" addr add 198.51.100.2/24 dev spb-vb-$$
ip -n "$NSA" link set spb-va-$$ up
ip -n "$NSB" link set spb-vb-$$ up
ip netns exec "$NSB" nc -l 198.51.100.2 40000 >/dev/null </dev/null &
ncpid=$!
sp_wait_port "$NSB" 40000 "$ncpid" || exit 1
t0=$(now)
ip netns exec "$NSA" nc -N 198.51.100.2 40000 <"$TMP/data"
t1=$(now)
veth=$(rate "$t0" "$t1")
wait "$ncpid" 2>/dev/null || true

printf 'TCP throughput, %d MB, MB/s (10^6 B/s)\n' "$MB"
printf '  slowpath receive (Linux -> slowpath discard, TAP):  %s\n' "$rx"
printf '  slowpath send    (slowpath --connect -> Linux, TAP): %s\n' "$tx"
printf '  Linux -> Linux   (veth, two namespaces):             %s\n' "$veth"
