#!/usr/bin/env bash
# The TAP path end to end: tap-reflector attaches to a TAP interface inside a namespace of its own
# and must answer the kernel's pings (3/3) and ARP requests. Everything runs in netns sp-devtap-PID,
# deleted on exit whatever happens.
set -u

SP_BIN=${SP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SP_SRC=${SP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$SP_SRC/tools/lab.sh"   # sp_wait_until
NS="sp-devtap-$$"
TAP=tap0
HOST_IP=192.0.2.1
PEER_IP=192.0.2.2
PEER_MAC=02:00:00:00:00:02
LOG=$(mktemp /tmp/sp-devtap-XXXXXX.log)
REFLECTOR_PID=

fail() {
    echo "test_dev_tap: FAIL: $*" >&2
    if [ -s "$LOG" ]; then
        echo "--- tap-reflector output:" >&2
        cat "$LOG" >&2
    fi
    exit 1
}

cleanup() {
    if [ -n "$REFLECTOR_PID" ] && kill -0 "$REFLECTOR_PID" 2>/dev/null; then
        kill -TERM "$REFLECTOR_PID" 2>/dev/null
        wait "$REFLECTOR_PID" 2>/dev/null
    fi
    ip netns del "$NS" 2>/dev/null
    rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces)"
[ -x "$SP_BIN/tap-reflector" ] || fail "no $SP_BIN/tap-reflector: build the project first"
for tool in ip ping arping; do
    command -v "$tool" >/dev/null || fail "$tool not installed (tools/install-deps.sh)"
done

ip netns add "$NS" || fail "cannot create netns $NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap || fail "cannot create $TAP in $NS"
ip -n "$NS" addr add "$HOST_IP/24" dev "$TAP" || fail "cannot address $TAP"
ip -n "$NS" link set "$TAP" up || fail "cannot bring $TAP up"

ip netns exec "$NS" "$SP_BIN/tap-reflector" --tap "$TAP" --ip "$PEER_IP" --mac "$PEER_MAC" \
    >"$LOG" 2>&1 &
REFLECTOR_PID=$!

# The TAP carrier comes up when the reflector attaches; wait for that (not a pass/fail timing).
carrier() { ip -n "$NS" link show "$TAP" | grep -q LOWER_UP; }
sp_wait_until -p "$REFLECTOR_PID" "$SP_WAIT_S" "carrier on $TAP" carrier ||
    fail "$TAP has no carrier: tap-reflector exited or did not attach"

out=$(ip netns exec "$NS" ping -c 3 -W 1 "$PEER_IP" 2>&1)
echo "$out"
echo "$out" | grep -q "3 packets transmitted, 3 received" || fail "ping $PEER_IP did not get 3/3"

out=$(ip netns exec "$NS" arping -c 3 -I "$TAP" "$PEER_IP" 2>&1)
echo "$out"
replies=$(echo "$out" | grep -ci "reply from $PEER_IP")
[ "$replies" -eq 3 ] || fail "arping $PEER_IP got $replies replies, not 3"
echo "$out" | grep -qi "${PEER_MAC}" || fail "arping reply does not carry $PEER_MAC"

# The kernel learnt the reflector's MAC from its ARP reply.
ip -n "$NS" neigh show "$PEER_IP" dev "$TAP" | grep -qi "$PEER_MAC" ||
    fail "neighbour entry for $PEER_IP is not $PEER_MAC"

kill -TERM "$REFLECTOR_PID"
wait "$REFLECTOR_PID"
rc=$?
REFLECTOR_PID=
[ "$rc" -eq 0 ] || fail "tap-reflector exited with $rc on SIGTERM"
cat "$LOG"
echo "test_dev_tap: PASS"
