#!/usr/bin/env bash
# The virtual LAN (tools/lab.sh's bridge layout): two slowpath hosts, A = 192.0.2.2 and
# B = 192.0.2.3, each on its own TAP port of br0 in one namespace, and a Linux client 192.0.2.10
# in a namespace of its own on a veth port. Host A fetches B's status page with
# --connect 192.0.2.3:80 --stay (TCP between two slowpath stacks, through the bridge), then the
# client's arping and ping reach both hosts, each answering from its own MAC; both hosts exit 0
# on SIGTERM, their counters show the pings, and both captures pass pcap-lint.
source "$(dirname "$0")/lib.sh"

A_IP=192.0.2.2 B_IP=192.0.2.3 CLIENT_IP=192.0.2.10
# sp_setup's layout is one TAP with a kernel peer; this one is the bridge: the same clean-up
# (SP_NS, SP_TMP, sp_cleanup), another namespace for the client, registered before it exists.
[ "$(id -u)" -eq 0 ] || sp_fail "needs root (network namespaces)"
[ -x "$SP_BIN/slowpath" ] || sp_fail "no slowpath binary in $SP_BIN"
SP_NS="sp-bridge-$$"
CLIENT="sp-bridge-c-$$"
SP_TMP=$(mktemp -d /tmp/sp-bridge.XXXXXX)
trap sp_cleanup EXIT
trap 'exit 130' INT TERM
sp_on_exit sp_del_ns "$CLIENT"
sp_lab_bridge "$SP_NS"
sp_lab_bridge_tap "$SP_NS" tapa
sp_lab_bridge_tap "$SP_NS" tapb
sp_lab_bridge_client "$SP_NS" "$CLIENT" "$CLIENT_IP/24"
in_client() { ip netns exec "$CLIENT" "$@"; }

# B is lib.sh's slowpath (SP_PID, SP_LOG: sp_fail shows its counters and log); A's log is shown
# here too when something fails.
A_PID=""
A_LOG="$SP_TMP/a.log"
fail() {
    [ -s "$A_LOG" ] && { echo "--- host A's log:"; tail -n 40 "$A_LOG"; echo "--- host B's log:"; } >&2
    sp_fail "$@"
}

# A host is up once it answers the client's ARP (default MACs: 02:53:50 + the address's low bits).
SP_LOG="$SP_TMP/b.log"
ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tapb --ip "$B_IP/24" --pcap "$SP_TMP/b.pcap" --stats -v \
    >"$SP_TMP/b.out" 2>"$SP_LOG" &
SP_PID=$!
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "host B to answer the client's ARP" sp_client_answers_arp "$CLIENT" "$B_IP" ||
    fail "host B did not come up"

# A starts with its fetch: B already answers, so the SYN finds B's listener on port 80.
ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tapa --ip "$A_IP/24" --pcap "$SP_TMP/a.pcap" --stats -v \
    --connect "$B_IP:80" --stay >"$SP_TMP/a.out" 2>"$A_LOG" &
A_PID=$!
# With -v and --stay, A logs this line once both sides have closed and it stays up.
a_fetched() { grep -q -- "--connect $B_IP:80: done, staying up" "$A_LOG"; }
sp_wait_until -p "$A_PID" "$SP_WAIT_S" "host A's fetch of B's page to finish" a_fetched ||
    fail "host A's --connect $B_IP:80 did not finish: $(head -n 1 "$SP_TMP/a.out")"
head -n 1 "$SP_TMP/a.out" | grep -q '^HTTP/1.1 200 OK' || fail "A got: $(head -n 1 "$SP_TMP/a.out")"
grep -q "^slowpath $B_IP\$" "$SP_TMP/a.out" || fail "A's answer is not B's status page"
grep -q '^tcp_conn_opened [1-9]' "$SP_TMP/a.out" || fail "B's page does not count the connection it serves"
sp_log "host A fetched host B's status page over TCP (HTTP/1.1 200, 'slowpath $B_IP')"

# arping_mac IP: three separate requests from the client, each answered; prints the one MAC that
# answered them all (arping -f ends at the first answer; -w is only a limit for a lost one).
arping_mac() {
    local out macs="" i
    for i in 1 2 3; do
        out=$(in_client arping -f -w 10 -I eth0 "$1" 2>&1) || fail "arping $1 (request $i): $out"
        macs+=$(echo "$out" | sed -n "s/^Unicast reply from $1 \[\([0-9A-Fa-f:]*\)\].*/\1/p")$'\n'
    done
    macs=$(printf '%s' "$macs" | sort -u)
    [ "$(printf '%s\n' "$macs" | grep -c .)" -eq 1 ] || fail "arping $1: answers from '$macs'"
    echo "$macs"
}
a_mac=$(arping_mac "$A_IP")
b_mac=$(arping_mac "$B_IP")
[ "${a_mac,,}" != "${b_mac,,}" ] || fail "both hosts answer ARP from $a_mac"
sp_log "arping from the client: $A_IP is at $a_mac, $B_IP at $b_mac (3/3 each)"

# ping_all IP: five echo requests from the client, all answered.
ping_all() {
    local out
    out=$(in_client ping -n -c 5 -i 0.2 -W 10 "$1" 2>&1) || fail "ping $1: $out"
    echo "$out" | grep -q '^5 packets transmitted, 5 received' || fail "ping $1: $(echo "$out" | tail -n 2)"
}
ping_all "$A_IP"
ping_all "$B_IP"
sp_log "ping from the client: 5/5 answered by each host"

# Both exit 0 on SIGTERM with counters that saw it all (--stats prints them into the logs).
kill -TERM "$A_PID"
rc=0
wait "$A_PID" || rc=$?
A_PID=""
[ "$rc" -eq 0 ] || fail "host A exited with status $rc"
grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$A_LOG" && fail "sanitizer report in A's log"
sp_stop
# counter LOG NAME: its value in the block --stats printed at exit (0 when absent).
counter() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }
for h in A:"$A_LOG" B:"$SP_LOG"; do
    log=${h#*:}
    [ "$(counter "$log" icmp_echo_tx)" -ge 5 ] || fail "host ${h%%:*}: icmp_echo_tx $(counter "$log" icmp_echo_tx), want >= 5"
    [ "$(counter "$log" tcp_conn_opened)" -eq 1 ] || fail "host ${h%%:*}: tcp_conn_opened $(counter "$log" tcp_conn_opened), want 1"
    [ "$(counter "$log" arp_tx_reply)" -ge 3 ] || fail "host ${h%%:*}: arp_tx_reply $(counter "$log" arp_tx_reply), want >= 3"
done
sp_log "counters at exit: each host sent >= 5 echo replies and >= 3 ARP replies and opened 1 connection"

# Every frame each host sent is well formed.
for h in a:"$A_IP" b:"$B_IP"; do
    out=$("$SP_SHARED/tools/pcap-lint" "$SP_TMP/${h%%:*}.pcap" "ip.src==${h#*:} || arp.src.proto_ipv4==${h#*:}") ||
        fail "pcap-lint (${h#*:}): $out"
    sp_log "${h#*:}: $(printf '%s\n' "$out" | tail -n 1)"
done
sp_log "PASS"
