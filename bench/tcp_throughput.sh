#!/usr/bin/env bash
# TCP throughput of slowpath against Linux over its TAP, next to Linux-to-Linux over a veth pair
# with the same peer program; a measurement (prints figures, asserts nothing).
#   receive: tcp-peer send -> slowpath's discard service (port 9); timed by the sender, from
#            connect's return to slowpath's FIN, which comes after the last byte was read
#   send:    slowpath --connect --send FILE -> tcp-peer recv-listen; timed by the receiver, from
#            accept to EOF; the receiver checks byte count and checksum against the file (the
#            checksum runs at several GB/s: some 0.1 s of the receiver's CPU per 300 MB)
#   veth:    tcp-peer send -> tcp-peer recv-listen between two namespaces, timed by the
#            receiver, without the checksum (tcp-peer writes one buffer over and over)
# Receive and send run with offloads on and off (--no-offload) when the build has offloads.
# Rounds are interleaved (veth, receive on/off, send on/off, then again) so that load from
# elsewhere on the machine falls on every row alike; each row keeps its best round.
# CPU s/GB is slowpath's own user+system time per 10^9 bytes moved, over all rounds: for
# receive /proc/PID/stat just before and after each transfer (the daemon stays up), for send the
# rusage of the process, which exits once the transfer is over, less that of a send of nothing.
# Usage: bench/tcp_throughput.sh [MB] [RUNS] (default 300 MB, 3 rounds), as root.
# SP_BIN: the bin directory of the build to measure (default build/bin); SP_PEER: tcp-peer
# (default $SP_BIN/tcp-peer, else this tree's build/bin/tcp-peer); SP_FLAGS: more daemon flags.
set -euo pipefail
MB=${1:-300}
RUNS=${2:-3}
SP_SRC=$(cd "$(dirname "$0")/.." && pwd)
SP_BIN=${SP_BIN:-$SP_SRC/build/bin}
SP_FLAGS=${SP_FLAGS:-}
PEER=${SP_PEER:-$SP_BIN/tcp-peer}
[ -x "$PEER" ] || PEER=$SP_SRC/build/bin/tcp-peer
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
[ -x "$SP_BIN/slowpath" ] || { echo "no slowpath in $SP_BIN" >&2; exit 1; }
[ -x "$PEER" ] || { echo "no tcp-peer (cmake --build build --target tcp-peer)" >&2; exit 1; }

BYTES=$((MB * 1000000))
LIMIT_S=$((60 + MB / 5))   # a transfer slower than 5 MB/s is stuck, not slow
NS=spb-tap-$$ NSA=spb-a-$$ NSB=spb-b-$$
TMP=$(mktemp -d /tmp/sp-bench.XXXXXX)
# The file --send reads lives in memory so that the disk is never what is measured.
DATA=$(mktemp /dev/shm/sp-bench-data.XXXXXX)
SPPID=""
cleanup() {
    if [ -n "$SPPID" ]; then kill -TERM "$SPPID" 2>/dev/null || true; fi
    for n in "$NS" "$NSA" "$NSB"; do
        ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$n" 2>/dev/null || true
    done
    rm -rf "$TMP" "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

head -c "$BYTES" /dev/urandom >"$DATA"
: >"$TMP/empty"
read -r _ _ DATA_SUM < <("$PEER" sum "$DATA")
TICK=$(getconf CLK_TCK)

source "$SP_SRC/tools/lab.sh"
sp_lab_tap "$NS"
ip netns add "$NSA"
ip netns add "$NSB"
ip link add spb-va-$$ netns "$NSA" type veth peer name spb-vb-$$ netns "$NSB"
ip -n "$NSA" addr add 198.51.100.1/24 dev spb-va-$$
ip -n "$NSB" addr add 198.51.100.2/24 dev spb-vb-$$
ip -n "$NSA" link set spb-va-$$ up
ip -n "$NSB" link set spb-vb-$$ up

# Not "--help | grep -q": grep stops reading at the match, slowpath dies of SIGPIPE, and under
# pipefail the test is false just when the flag is there.
if grep -q -- '--no-offload' <<<"$("$SP_BIN/slowpath" --help 2>&1 || true)"; then
    MODES=(on off)
else
    MODES=(na)   # a build without offloads: one row each way
fi
read -r -a EXTRA <<<"$SP_FLAGS"
# daemon_flags MODE: sets FLAGS, what the daemon runs with in that mode.
daemon_flags() {
    FLAGS=(--tap tap0 --ip 192.0.2.2/24 "${EXTRA[@]}")
    if [ "$1" = off ]; then FLAGS+=(--no-offload); fi
}

# Results: per row, the seconds of each round (best = fewest) and slowpath's CPU seconds summed.
declare -A SECS CPU
add_secs() { SECS[$1]="${SECS[$1]:-} $2"; }
add_cpu() { CPU[$1]=$(awk -v a="${CPU[$1]:-0}" -v b="$2" 'BEGIN {print a + b}'); }

# utime + stime of PID in seconds; the fields after the ")" that ends the command name.
cpu_s() { sed 's/.*) //' "/proc/$1/stat" | awk -v t="$TICK" '{print ($12 + $13) / t}'; }

# check_bytes WHAT GOT: a short transfer would make a fine-looking figure out of nothing.
check_bytes() { check_bytes_of "$1" "$2" "$BYTES"; }
check_bytes_of() {
    [ "$2" -eq "$3" ] || { echo "$1: moved $2 of $3 bytes" >&2; exit 1; }
}

start_daemon() {
    daemon_flags "$1"
    ip netns exec "$NS" "$SP_BIN/slowpath" "${FLAGS[@]}" >/dev/null 2>"$TMP/sp.log" &
    SPPID=$!
    sp_wait_until -p "$SPPID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" 192.0.2.2 ||
        { cat "$TMP/sp.log" >&2; exit 1; }
}
stop_daemon() { kill -TERM "$SPPID"; wait "$SPPID" || true; SPPID=""; }

run_veth() {
    local bytes secs
    ip netns exec "$NSB" timeout "$LIMIT_S" "$PEER" recv-listen 198.51.100.2 40000 >"$TMP/peer.out" &
    local peerpid=$!
    sp_wait_port "$NSB" 40000 "$peerpid" || exit 1
    ip netns exec "$NSA" timeout "$LIMIT_S" "$PEER" send 198.51.100.2 40000 "$BYTES" >/dev/null
    wait "$peerpid"
    read -r bytes secs <"$TMP/peer.out"
    check_bytes "veth" "$bytes"
    add_secs veth "$secs"
}

run_receive() {
    local mode=$1 bytes secs c0 c1
    start_daemon "$mode"
    c0=$(cpu_s "$SPPID")
    read -r bytes secs < <(ip netns exec "$NS" timeout "$LIMIT_S" "$PEER" send 192.0.2.2 9 "$BYTES")
    c1=$(cpu_s "$SPPID")   # before the daemon stops: its /proc entry goes with it
    stop_daemon
    check_bytes "slowpath receive ($mode)" "$bytes"
    add_secs "rx-$mode" "$secs"
    add_cpu "rx-$mode" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')"
}

# send_once MODE FILE: slowpath --connect sends FILE to tcp-peer; sets OUT_BYTES, OUT_SECS,
# OUT_SUM (the receiver's view) and OUT_CPU (slowpath's user + system seconds).
send_once() {
    local mode=$1 file=$2 user sys
    ip netns exec "$NS" timeout "$LIMIT_S" "$PEER" --sum recv-listen 192.0.2.1 40000 >"$TMP/peer.out" &
    local peerpid=$!
    # slowpath's SYN must find the listener there: a SYN before it would be refused.
    sp_wait_port "$NS" 40000 "$peerpid" || exit 1
    # bash's time reports the rusage of what it waited for: slowpath's (timeout and ip netns exec
    # add theirs, which the empty send below takes away again).
    daemon_flags "$mode"
    { TIMEFORMAT='%3U %3S'; time ip netns exec "$NS" timeout "$LIMIT_S" "$SP_BIN/slowpath" "${FLAGS[@]}" \
        --connect 192.0.2.1:40000 --send "$file" >/dev/null 2>"$TMP/sp.log"; } 2>"$TMP/time" ||
        { echo "slowpath send ($mode) failed:" >&2; cat "$TMP/sp.log" >&2; exit 1; }
    wait "$peerpid"
    read -r OUT_BYTES OUT_SECS OUT_SUM <"$TMP/peer.out"
    read -r user sys <"$TMP/time"
    OUT_CPU=$(awk -v a="$user" -v b="$sys" 'BEGIN {print a + b}')
}

# A send of nothing first: what starting, connecting and stopping cost (some 0.08 s, a tenth of a
# second's worth at 1 GB/s) is not part of the CPU per GB.
run_send() {
    local mode=$1 idle_cpu
    send_once "$mode" "$TMP/empty"
    check_bytes_of "slowpath send of nothing ($mode)" "$OUT_BYTES" 0
    idle_cpu=$OUT_CPU
    send_once "$mode" "$DATA"
    check_bytes "slowpath send ($mode)" "$OUT_BYTES"
    [ "$OUT_SUM" = "$DATA_SUM" ] || { echo "slowpath send ($mode): the bytes differ from the file" >&2; exit 1; }
    add_secs "tx-$mode" "$OUT_SECS"
    add_cpu "tx-$mode" "$(awk -v a="$OUT_CPU" -v b="$idle_cpu" 'BEGIN {print a - b}')"
}

for ((r = 1; r <= RUNS; r++)); do
    run_veth
    for m in "${MODES[@]}"; do run_receive "$m"; done
    for m in "${MODES[@]}"; do run_send "$m"; done
done

best() { tr ' ' '\n' <<<"${SECS[$1]}" | awk 'NF' | sort -g | head -1; }
gbit() { awk -v b="$BYTES" -v s="$1" 'BEGIN {printf "%.2f", b * 8 / s / 1e9}'; }
VETH_BEST=$(best veth)

# row KEY LABEL: Gbit/s and MB/s of the best round, its ratio to the veth's best, CPU s/GB over
# all rounds, and every round's Gbit/s.
row() {
    local key=$1 label=$2 s all cpu="-"
    s=$(best "$key")
    all=$(for x in ${SECS[$key]}; do printf '%s ' "$(gbit "$x")"; done)
    [ -n "${CPU[$key]:-}" ] &&
        cpu=$(awk -v c="${CPU[$key]}" -v b="$BYTES" -v n="$RUNS" 'BEGIN {printf "%.2f", c / (b * n / 1e9)}')
    printf '  %-54s %7s %8s %7s %9s   %s\n' "$label" "$(gbit "$s")" \
        "$(awk -v b="$BYTES" -v s="$s" 'BEGIN {printf "%.0f", b / s / 1e6}')" \
        "$(awk -v a="$VETH_BEST" -v s="$s" 'BEGIN {printf "%.2f", a / s}')" "$cpu" "$all"
}
label() {
    case $1 in
        on) echo "offloads on" ;;
        off) echo "offloads off (--no-offload)" ;;
        na) echo "offloads: n/a (this build has none)" ;;
    esac
}

printf 'TCP throughput: %d MB (10^6 B) a transfer, best of %d interleaved rounds; %s\n' "$MB" "$RUNS" \
    "peer tcp-peer (256 KiB writes/reads, 4 MiB socket buffers)"
printf 'slowpath: %s%s; load average at the end: %s\n' "$SP_BIN/slowpath" "${SP_FLAGS:+ $SP_FLAGS}" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-54s %7s %8s %7s %9s   %s\n' "path" "Gbit/s" "MB/s" "/ veth" "CPU s/GB" "each round, Gbit/s"
for m in "${MODES[@]}"; do row "rx-$m" "slowpath receive, $(label "$m")"; done
for m in "${MODES[@]}"; do row "tx-$m" "slowpath send, $(label "$m")"; done
row veth "Linux -> Linux over a veth (tcp-peer both ends)"
