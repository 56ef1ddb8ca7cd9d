#!/usr/bin/env bash
# The slowpath demo: builds everything, makes a throw-away network namespace with a TAP device,
# starts a slowpath virtual host on it (192.0.2.2) and talks to it from the Linux kernel
# (192.0.2.1): arping, ping (also 4000 bytes, fragmented both ways), UDP echo. Then the same host
# with ICMP echo and ARP decided by a model: the in-process simulated model, then
# llm-sim over HTTP in the Anthropic and the OpenAI wire format (llm-sim runs inside the
# namespace, on its own loopback). Prints a short report with, per path, the accuracy
# (valid/asked) and p50 decision latency from the trace next to the native RTT, and removes
# everything it made, also on failure. Last, the virtual LAN (tools/demo_lan.sh): two slowpath
# hosts and a Linux client on one bridge; `tools/demo.sh lan` runs only that scene. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
echo "building..."
BUILD=${SP_BUILD_DIR:-build}   # another build directory: SP_BUILD_DIR=build-x tools/demo.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
[ "${1:-}" = lan ] && exec env SP_BUILD_DIR="$BUILD" tools/demo_lan.sh

NS="sp-demo-$$"
TMP=$(mktemp -d /tmp/sp-demo.XXXXXX)
PID=""
SIM_PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null || true
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

ip netns exec "$NS" "$BUILD"/bin/slowpath --tap tap0 --ip "$ME/24" --mac "$MAC" --pcap "$TMP/demo.pcap" \
    >"$TMP/out" 2>"$TMP/log" &
PID=$!
# Up once it answers ARP (a deadline, however busy the machine).
sp_wait_until -p "$PID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$NS" "$ME" ||
    { cat "$TMP/log"; echo "slowpath did not start"; exit 1; }

ok=0 bad=0
report() { printf '  %-34s %s\n' "$1" "$2"; }
check() { if [ "$1" = 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi; }

echo
echo "slowpath demo: a user-space host at $ME on a TAP, the Linux kernel at $PEER"
echo

out=$(in_ns arping -c 3 -w 5 -I tap0 "$ME" 2>&1) && rc=0 || rc=$?
n=$(echo "$out" | sed -n 's/.*Received \([0-9]*\) response.*/\1/p')
rtt=$(echo "$out" | grep -o '[0-9.]*ms' | head -n 3 | tr '\n' ' ')
report "arping (3 requests)" "${n:-0}/3 answered by $MAC  ${rtt}"
check $([ "${n:-0}" = 3 ] && echo 0 || echo 1)

ping_line() {
    local label=$1; shift
    local out sent recv rtt
    out=$(in_ns ping -n -q "$@" "$ME" 2>&1) || true
    sent=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
    recv=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
    rtt=$(echo "$out" | sed -n 's/^rtt min\/avg\/max\/mdev = \([^ ]*\) ms/\1/p')
    report "$label" "${recv:-0}/${sent:-?} replies, rtt min/avg/max/mdev ${rtt:-n/a} ms"
    check $([ -n "$recv" ] && [ "$recv" = "$sent" ] && echo 0 || echo 1)
    LAST_RTT=$(echo "${rtt:-}" | cut -d/ -f2)
}
ping_line "ping (10 x 56 bytes)" -c 10 -i 0.1 -W 2
NATIVE_RTT=${LAST_RTT:-n/a}
ping_line "ping (5 x 4000 bytes, fragmented)" -c 5 -i 0.1 -W 2 -s 4000

reply=$(echo "hello from the kernel" | in_ns nc -u -w 1 "$ME" 7 2>/dev/null) || true
report "UDP echo (port 7) via nc" "$([ "$reply" = "hello from the kernel" ] && echo "echoed: '$reply'" || echo "FAILED: '$reply'")"
check $([ "$reply" = "hello from the kernel" ] && echo 0 || echo 1)

kill -TERM "$PID"; wait "$PID" || true; PID=""
frames=$(tshark -r "$TMP/demo.pcap" 2>/dev/null | wc -l)
lint=$("${SP_SHARED:-../shared}"/tools/pcap-lint "$TMP/demo.pcap" "ip.src==$ME || arp.src.proto_ipv4==$ME" 2>/dev/null | tail -n 1 || true)
echo
report "capture" "$frames frames; ${lint:-pcap-lint unavailable}"

# --- Decisions by a model: ping and arping answered through each path in turn. ---
echo
echo "the same host with ICMP echo and ARP replies decided by a model (--delegate icmp=llm,arp=llm)"
echo
CHECK="/usr/bin/python3 tests/integration/llm_check.py"
ip netns exec "$NS" "$BUILD"/bin/llm-sim --listen 127.0.0.1:0 >"$TMP/sim.out" 2>"$TMP/sim.log" &
SIM_PID=$!
port=""
sim_port() {   # llm-sim prints its port once it listens
    port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/sim.out")
    [ -n "$port" ]
}
sp_wait_until -p "$SIM_PID" "$SP_WAIT_S" "llm-sim to say where it listens" sim_port ||
    { cat "$TMP/sim.log"; echo "llm-sim did not start"; exit 1; }

summaries=()
llm_path() {   # llm_path NAME LABEL SLOWPATH-FLAGS...
    local name=$1 label=$2; shift 2
    local t="$TMP/$name.trace" out n
    ip netns exec "$NS" "$BUILD"/bin/slowpath --tap tap0 --ip "$ME/24" --mac "$MAC" --delegate icmp=llm,arp=llm \
        --trace "$t" --pcap "$TMP/$name.pcap" "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
    PID=$!
    # Up once it answers ARP (through the model: one more arp decision in the summary).
    if ! sp_wait_until -p "$PID" "$SP_WAIT_S" "slowpath ($label) to answer ARP" sp_answers_arp "$NS" "$ME"; then
        kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
        PID=""
        report "$label" "FAILED: slowpath did not start: $(tail -n 1 "$TMP/$name.log")"
        check 1
        return 0
    fi
    ping_line "$label: ping x5" -c 5 -i 0.2 -W 3
    local rtt=${LAST_RTT:-n/a}
    n=0   # one request per arping run: its interval is whole seconds
    for _ in 1 2 3; do
        in_ns arping -f -w 3 -I tap0 "$ME" 2>&1 | grep -q "Received 1 response" && n=$((n + 1))
    done
    report "$label: arping x3" "$n/3 answered"
    check $([ "$n" = 3 ] && echo 0 || echo 1)
    kill -TERM "$PID"; wait "$PID" || true; PID=""
    summaries+=("$(printf '  %-22s ping rtt avg %s ms; %s' "$label" "$rtt" "$($CHECK summary "$t" 2>&1)")")
}
llm_path sim "in-process sim"
# slowpath wants a key for Anthropic; llm-sim on the namespace's loopback takes any: a placeholder,
# so that a real key in the environment never leaves for a local test server.
ANTHROPIC_API_KEY=placeholder-for-llm-sim OPENAI_API_KEY=placeholder-for-llm-sim \
    llm_path anthropic "llm-sim (anthropic)" --llm anthropic --llm-url "http://127.0.0.1:$port" --model demo-model
OPENAI_API_KEY=placeholder-for-llm-sim llm_path openai "llm-sim (openai)" --llm openai --llm-url "http://127.0.0.1:$port/v1" --model demo-model
kill -TERM "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""

echo
echo "decisions per path (accuracy = valid/asked; p50 = ask-to-answer latency from the trace):"
printf '  %-22s ping rtt avg %s ms (no model)\n' "native" "$NATIVE_RTT"
printf '%s\n' "${summaries[@]}"

# The virtual LAN scene: its own namespaces, its own clean-up; one check here.
lan=0
SP_BUILD_DIR="$BUILD" tools/demo_lan.sh || lan=$?
check "$lan"
echo
echo "demo: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
