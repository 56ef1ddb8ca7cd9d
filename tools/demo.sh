#!/usr/bin/env bash
# The slowpath demo: builds everything, makes a throw-away network namespace with a TAP device,
# starts a slowpath virtual host on it (192.0.2.2) and talks to it from the Linux kernel
# (192.0.2.1): arping, ping (also 4000 bytes, fragmented both ways), UDP echo. Prints a short
# report and removes everything it made, also on failure. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
echo "building..."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

NS="sp-demo-$$"
TMP=$(mktemp -d /tmp/sp-demo.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ME=192.0.2.2 PEER=192.0.2.1 MAC=02:00:00:00:00:02
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add "$PEER/24" dev tap0
ip -n "$NS" link set tap0 up
in_ns() { ip netns exec "$NS" "$@"; }

ip netns exec "$NS" build/bin/slowpath --tap tap0 --ip "$ME/24" --mac "$MAC" --pcap "$TMP/demo.pcap" \
    >"$TMP/out" 2>"$TMP/log" &
PID=$!
sleep 0.3
kill -0 "$PID" 2>/dev/null || { cat "$TMP/log"; echo "slowpath did not start"; exit 1; }

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
}
ping_line "ping (10 x 56 bytes)" -c 10 -i 0.1 -W 2
ping_line "ping (5 x 4000 bytes, fragmented)" -c 5 -i 0.1 -W 2 -s 4000

reply=$(echo "hello from the kernel" | in_ns nc -u -w 1 "$ME" 7 2>/dev/null) || true
report "UDP echo (port 7) via nc" "$([ "$reply" = "hello from the kernel" ] && echo "echoed: '$reply'" || echo "FAILED: '$reply'")"
check $([ "$reply" = "hello from the kernel" ] && echo 0 || echo 1)

kill -TERM "$PID"; wait "$PID" || true; PID=""
frames=$(tshark -r "$TMP/demo.pcap" 2>/dev/null | wc -l)
lint=$(../shared/tools/pcap-lint "$TMP/demo.pcap" "ip.src==$ME || arp.src.proto_ipv4==$ME" 2>/dev/null | tail -n 1 || true)
echo
report "capture" "$frames frames; ${lint:-pcap-lint unavailable}"
echo
echo "demo: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
