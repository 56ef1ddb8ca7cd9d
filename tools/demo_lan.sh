#!/usr/bin/env bash
# The demo's virtual LAN scene (tools/demo.sh runs it last; `tools/demo.sh lan` runs only it): two
# slowpath hosts, each on its own TAP port of a bridge that lives in a throw-away namespace, and a
# Linux client in a namespace of its own on a veth port (tools/lab.sh's bridge layout). Host B
# starts; host A starts and fetches B's status page over TCP (--connect --stay); the client arpings
# and pings both; then each host's counters, side by side, and pcap-lint on both captures. Wants
# the binaries built (SP_BUILD_DIR, default build). Removes everything it made, also on failure.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${SP_BUILD_DIR:-build}
SHARED=${SP_SHARED:-../shared}
A_IP=192.0.2.2 B_IP=192.0.2.3 CLIENT_IP=192.0.2.10
NS="sp-lan-$$" CLIENT="sp-lan-c-$$"
TMP=$(mktemp -d /tmp/sp-lan.XXXXXX)
A_PID="" B_PID=""
cleanup() {
    local pid
    for pid in "$A_PID" "$B_PID"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    for ns in "$CLIENT" "$NS"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source tools/lab.sh
sp_lab_bridge "$NS"
sp_lab_bridge_tap "$NS" tapa
sp_lab_bridge_tap "$NS" tapb
sp_lab_bridge_client "$NS" "$CLIENT" "$CLIENT_IP/24"
in_client() { ip netns exec "$CLIENT" "$@"; }

ok=0 bad=0
report() { printf '  %-34s %s\n' "$1" "$2"; }
check() { if [ "$1" = 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi; }
# host NAME IP ARGS...: a slowpath host on tapNAME (lower case), its counters printed at exit.
host() {
    local name=$1 ip=$2; shift 2
    ip netns exec "$NS" "$BUILD"/bin/slowpath --tap "tap$name" --ip "$ip/24" --pcap "$TMP/$name.pcap" --stats -v \
        "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
}

cat <<EOF

the virtual LAN: two slowpath hosts and a Linux client on one bridge

                    br0 (a Linux bridge, in namespace $NS)
       +-------------------+-------------------+
       | tapa              | tapb              | veth
  +----------+        +----------+        +--------------+
  | slowpath | --TCP->| slowpath |        | Linux client |
  | host A   |  :80   | host B   |        | arping, ping |
  | $A_IP|        | $B_IP|        |  $CLIENT_IP  |
  +----------+        +----------+        +--------------+

EOF

# B first, so that A's SYN finds B's listener; each is up once it answers the client's ARP.
host b "$B_IP"
B_PID=$!
sp_wait_until -p "$B_PID" "$SP_WAIT_S" "host B to answer ARP" sp_client_answers_arp "$CLIENT" "$B_IP" ||
    { cat "$TMP/b.log"; echo "host B did not start"; exit 1; }
host a "$A_IP" --connect "$B_IP:80" --stay
A_PID=$!
a_fetched() { grep -q -- "--connect $B_IP:80: done, staying up" "$TMP/a.log"; }
if sp_wait_until -p "$A_PID" "$SP_WAIT_S" "host A's fetch of B's page" a_fetched &&
    grep -q "^slowpath $B_IP" "$TMP/a.out"; then
    report "host A: GET http://$B_IP/" "$(head -n 1 "$TMP/a.out" | tr -d '\r'), $(wc -c <"$TMP/a.out") bytes over TCP:"
    head -n 7 "$TMP/a.out" | tr -d '\r' | sed 's/^/      | /'
    check 0
else
    report "host A: GET http://$B_IP/" "FAILED: $(tail -n 1 "$TMP/a.log")"
    check 1
fi
echo
echo "  from the Linux client ($CLIENT_IP):"
for ip in "$A_IP" "$B_IP"; do
    out=$(in_client arping -c 3 -w 5 -I eth0 "$ip" 2>&1) || true
    n=$(echo "$out" | sed -n 's/.*Received \([0-9]*\) response.*/\1/p')
    mac=$(echo "$out" | sed -n 's/^Unicast reply from [0-9.]* \[\([0-9A-Fa-f:]*\)\].*/\1/p' | sort -u | paste -sd ' ')
    report "arping $ip (3 requests)" "${n:-0}/3 answered by ${mac:-nobody}"
    check $([ "${n:-0}" = 3 ] && echo 0 || echo 1)
done
for ip in "$A_IP" "$B_IP"; do
    out=$(in_client ping -n -q -c 5 -i 0.2 -W 2 "$ip" 2>&1) || true
    recv=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
    rtt=$(echo "$out" | sed -n 's/^rtt min\/avg\/max\/mdev = \([^ ]*\) ms/\1/p')
    report "ping $ip (5 x 56 bytes)" "${recv:-0}/5 replies, rtt min/avg/max/mdev ${rtt:-n/a} ms"
    check $([ "${recv:-0}" = 5 ] && echo 0 || echo 1)
done

# SIGTERM: each writes its counters (--stats) into its log and flushes its capture.
for pid in "$A_PID" "$B_PID"; do kill -TERM "$pid"; wait "$pid" || check 1; done
A_PID="" B_PID=""
echo
echo "  counters at the end              host A     host B"
awk '{ f = FILENAME == ARGV[1] ? 1 : 2 } /^slowpath counters:$/ { on = 1; next } on && /^  [a-z_0-9]+ +[0-9]+$/ {
         if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
         v[$1, f] = $2 }
     END { for (i = 1; i <= n; i++) printf "    %-30s %8s %10s\n", order[i], v[order[i], 1] + 0, v[order[i], 2] + 0 }' \
    "$TMP/a.log" "$TMP/b.log"
echo
for h in a:"$A_IP" b:"$B_IP"; do
    lint=$("$SHARED/tools/pcap-lint" "$TMP/${h%%:*}.pcap" "ip.src==${h#*:} || arp.src.proto_ipv4==${h#*:}" 2>/dev/null |
        tail -n 1) && rc=0 || rc=$?
    report "capture of ${h#*:}" "$(tshark -r "$TMP/${h%%:*}.pcap" 2>/dev/null | wc -l) frames; ${lint:-pcap-lint unavailable}"
    # pcap-lint missing (status 2, no tshark) is no failure of slowpath's.
    [ "$rc" = 2 ] || check "$rc"
done
echo
echo "virtual LAN: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
