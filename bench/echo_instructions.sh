#!/usr/bin/env bash
# User-space instructions slowpath spends per ICMP echo reply, counted by valgrind's callgrind:
# a count, not a time, so it repeats on a loaded machine where ping -f's wall time does not.
# Instructions are counted from the moment the host answers ARP (callgrind_control -i on) to its
# exit. Two such runs differ only in how many pings they answer (BASE, then BASE + COUNT): the
# kernel's ARP before the first ping, the first pings' one-off costs and the shutdown appear in
# both and cancel, so
#     (instructions of run 2 - instructions of run 1) / (replies of run 2 - replies of run 1)
# is what one more echo reply costs: the TAP read, the stack, the reply, the TAP write and the
# event loop around them (the kernel's side of the read and the write is not counted).
# Two ways of pinging, two figures:
#   paced  ping -i 0.002: every request finds the loop asleep, so each reply pays one whole
#          wake-up; the same count run after run (within 0.5 %), the figure to compare builds by
#   flood  ping -f: the next request may already be queued when the loop finishes a reply and
#          is read in the same wake-up, as often as valgrind's slowness and the load allow, so
#          it moves between runs (seen: 1,380 to 2,350 on one build); it shows what batching
#          can save, not a figure to compare builds by
# A build with offloads (--no-offload in its --help) is counted with them on and off.
# Prints figures, asserts nothing; runs in a namespace it makes and removes.
set -euo pipefail
COUNT=${1:-2000}
BASE=200
SP_SRC=$(cd "$(dirname "$0")/.." && pwd)
SP_BIN=${SP_BIN:-$SP_SRC/build/bin}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
[ -x "$SP_BIN/slowpath" ] || { echo "no slowpath in $SP_BIN" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "no valgrind (apt-get install valgrind)" >&2; exit 1; }

NS=spb-cg-$$
TMP=$(mktemp -d /tmp/sp-cg.XXXXXX)
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; fi
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$SP_SRC/tools/lab.sh"
sp_lab_tap "$NS"

# run N PING-OPTION...: slowpath under callgrind answers ping -c N; sets INSTR and REPLIES.
# The daemon runs with its defaults and EXTRA (--no-offload or nothing).
run() {
    local out="$TMP/callgrind.out" replies
    rm -f "$out"
    ip netns exec "$NS" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$SP_BIN/slowpath" --tap tap0 --ip 192.0.2.2/24 "${EXTRA[@]}" >/dev/null 2>"$TMP/vg.log" &
    PID=$!
    sp_wait_until -p "$PID" "$SP_WAIT_S" "slowpath under callgrind to answer ARP" \
        sp_answers_arp "$NS" 192.0.2.2 || { cat "$TMP/vg.log" >&2; exit 1; }
    # Counting starts here: how long startup took and how many ARP probes it needed vary.
    callgrind_control -i on "$PID" >/dev/null 2>&1
    # -W 1: a reply lost under valgrind's slowness costs a second, not the run.
    replies=$(ip netns exec "$NS" ping -n -q "${@:2}" -c "$1" -W 1 192.0.2.2 2>&1 |
        sed -n 's/.* \([0-9]*\) received.*/\1/p')
    kill -TERM "$PID"
    wait "$PID" || true   # callgrind writes its file as the client exits
    PID=""
    INSTR=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")
    REPLIES=${replies:-0}
}

# per_reply NAME PING-OPTION...: the pair of runs; prints one line of the table.
per_reply() {
    local name=$1 i1 r1 i2 r2
    shift
    run "$BASE" "$@"
    i1=$INSTR r1=$REPLIES
    run $((BASE + COUNT)) "$@"
    i2=$INSTR r2=$REPLIES
    if [ -z "$i1" ] || [ -z "$i2" ] || [ "$i2" -le "$i1" ] || [ "$r2" -le "$r1" ]; then
        echo "$name: no usable counts (run 1: '$i1' '$r1', run 2: '$i2' '$r2')" >&2
        exit 1
    fi
    printf '  %-30s %9s   %22s   %22s\n' "$name" \
        "$(awk -v a="$i1" -v b="$i2" -v x="$r1" -v y="$r2" 'BEGIN {printf "%.0f", (b - a) / (y - x)}')" \
        "$i1 / $r1" "$i2 / $r2"
}

echo "instructions per ICMP echo reply (valgrind --tool=callgrind, user space): $SP_BIN/slowpath"
printf '  %-30s %9s   %22s   %22s\n' "ping" "per reply" "run 1: instr / replies" "run 2: instr / replies"
EXTRA=()
# Not "--help | grep -q": grep stops reading at the match, slowpath dies of SIGPIPE, and under
# pipefail the test is false just when the flag is there.
if grep -q -- '--no-offload' <<<"$("$SP_BIN/slowpath" --help 2>&1 || true)"; then
    per_reply "paced (-i 0.002), offloads on" -i 0.002
    per_reply "flood (-f), offloads on" -f
    EXTRA=(--no-offload)
    per_reply "paced, --no-offload" -i 0.002
    per_reply "flood, --no-offload" -f
else
    per_reply "paced (-i 0.002)" -i 0.002
    per_reply "flood (-f)" -f
fi
