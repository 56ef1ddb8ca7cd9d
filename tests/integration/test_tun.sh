#!/usr/bin/env bash
# TUN mode (--tun): the original experiment's set-up, a point-to-point link carrying bare IP with
# no ARP. The kernel (192.0.2.1 peer 192.0.2.2 on tun0) pings slowpath (small, and 4000 bytes
# fragmented both ways), gets its UDP echo on port 7 and curls its HTTP page on port 80. The
# capture is raw IP (LINKTYPE_RAW, 101), passes pcap-lint, and holds no ARP; the counters show
# none either. Then the capture itself is replayed (--replay of a raw-IP capture): every echo
# request in it is answered again. ARP decisions on a TUN and mixed-link replays are refused.
source "$(dirname "$0")/lib.sh"
sp_setup_tun tun
PCAP=$SP_TMP/sp.pcap
sp_start_tun --pcap "$PCAP" --stats

check_ping() {
    local count=$1 out
    shift
    out=$(sp_in ping -n -c "$count" -i 0.05 -W 5 "$@" "$SP_IP" 2>&1) || true
    echo "$out" | grep -q " $count received" || sp_fail "ping $*: $(echo "$out" | tail -n 3)"
    sp_log "ping $* $count/$count over tun0"
}
check_ping 10
check_ping 3 -s 4000

# UDP echo (port 7), with a deadline rather than nc's idle timer.
sp_in /usr/bin/python3 - "$SP_IP" <<'PY' || sp_fail "UDP echo over tun0"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
for data in (b"hello over tun0", bytes(range(256)) * 12):  # the second is fragmented both ways
    s.sendto(data, (sys.argv[1], 7))
    got, peer = s.recvfrom(65535)
    assert got == data and peer == (sys.argv[1], 7), "echo differs: %r from %r" % (got[:40], peer)
PY
sp_log "UDP echo over tun0 ok"

page=$(sp_in curl -sS -m 60 "http://$SP_IP/") || sp_fail "curl http://$SP_IP/ over tun0"
echo "$page" | grep -qx "slowpath $SP_IP" || sp_fail "unexpected page: $(echo "$page" | head -n 3)"
# The page lists the counters above zero: echo replies went out, no ARP of any kind did.
echo "$page" | grep -q '^icmp_echo_tx [1-9]' || sp_fail "no icmp_echo_tx on the page"
if echo "$page" | grep -q '^arp_'; then sp_fail "ARP counters on a TUN: $(echo "$page" | grep '^arp_')"; fi
sp_log "curl over tun0 ok"

# The kernel sees a NOARP point-to-point device: nothing in its neighbour table for tun0.
[ -z "$(sp_in ip neigh show dev tun0)" ] || sp_fail "neighbour entries on tun0: $(sp_in ip neigh show dev tun0)"

sp_stop
if grep -E '^  (arp_|drop_arp_|drop_raw_not_ipv4)' "$SP_LOG"; then sp_fail "ARP counted on a TUN"; fi

# The capture: raw IP, clean, every frame an IP datagram.
linktype() { od -An -tu4 -j20 -N4 "$1" | tr -d ' '; }
[ "$(linktype "$PCAP")" = 101 ] || sp_fail "capture link type $(linktype "$PCAP"), expected 101 (LINKTYPE_RAW)"
sp_lint "$PCAP"
"$SP_SHARED/tools/pcap-lint" "$PCAP" >/dev/null || sp_fail "pcap-lint on the whole capture: $("$SP_SHARED/tools/pcap-lint" "$PCAP" | tail -n 3)"
count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
[ "$(count "$PCAP" 'arp || eth')" -eq 0 ] || sp_fail "ARP or Ethernet in the capture"
[ "$(count "$PCAP" '!ip && !ipv6')" -eq 0 ] || sp_fail "frames that are not IP in the capture"
requests=$(count "$PCAP" "icmp.type==8 && ip.dst==$SP_IP")
replies=$(count "$PCAP" "icmp.type==0 && ip.src==$SP_IP")
# 13 and the pings that waited for slowpath to come up.
[ "$requests" -ge 13 ] && [ "$replies" -eq "$requests" ] || sp_fail "capture: $requests echo requests, $replies replies"

sp_log "capture: link type 101, $requests echo requests and replies, no ARP"

# The capture replayed: the same requests, answered again, in a raw-IP capture of its own.
OUT=$SP_TMP/replayed.pcap
"$SP_BIN/slowpath" --replay "$PCAP" --ip "$SP_IP/24" --pcap "$OUT" --seed 1 --stats >/dev/null 2>"$SP_TMP/replay.log" ||
    sp_fail "replay of the TUN capture failed: $(tail -n 5 "$SP_TMP/replay.log")"
! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SP_TMP/replay.log" || sp_fail "sanitizer report in the replay"
[ "$(linktype "$OUT")" = 101 ] || sp_fail "replay's capture link type $(linktype "$OUT"), expected 101"
"$SP_SHARED/tools/pcap-lint" "$OUT" >/dev/null || sp_fail "pcap-lint on the replay's capture: $("$SP_SHARED/tools/pcap-lint" "$OUT" | tail -n 3)"
again=$(count "$OUT" "icmp.type==0 && ip.src==$SP_IP && ip.dst==$SP_PEER")
[ "$again" -eq "$requests" ] || sp_fail "replay answered $again of $requests echo requests"
udp_in=$(count "$PCAP" "udp.dstport==7 && ip.dst==$SP_IP")
udp_out=$(count "$OUT" "udp.srcport==7 && ip.src==$SP_IP")
[ "$udp_out" -eq "$udp_in" ] || sp_fail "replay echoed $udp_out of $udp_in UDP datagrams"
if grep -E '^  (arp_|drop_arp_|drop_raw_not_ipv4)' "$SP_TMP/replay.log"; then sp_fail "ARP counted in the raw-IP replay"; fi
sp_log "replay of the TUN capture: $again echo replies, $udp_out UDP echoes, link type 101"

# What cannot be: an ARP decision on a TUN (a usage error), and raw-IP and Ethernet captures in one run.
rc=0
msg=$("$SP_BIN/slowpath" --tun tun0 --ip "$SP_IP/24" --delegate arp=llm --llm sim 2>&1) || rc=$?
[ "$rc" -eq 2 ] && echo "$msg" | grep -q "no ARP" || sp_fail "--tun with --delegate arp=llm: status $rc, '$msg'"
rc=0
msg=$("$SP_BIN/slowpath" --replay "$PCAP" --replay "$SP_SHARED/corpus/pcap/zeek-icmp__icmp-ping.pcap" \
    --ip "$SP_IP/24" 2>&1) || rc=$?
[ "$rc" -ne 0 ] && echo "$msg" | grep -q "differs from the first capture" ||
    sp_fail "a raw-IP then an Ethernet capture: status $rc, '$msg'"
sp_log "PASS"
