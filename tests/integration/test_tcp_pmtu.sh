#!/usr/bin/env bash
# Path MTU discovery against a Linux router (RFC 1191): slowpath on the TAP (192.0.2.2, its
# gateway the namespace's kernel 192.0.2.1, which forwards), a client in a second namespace
# behind a veth whose MTU is 1280 (198.51.100.0/24). The client's route says advmss 1460, as a
# host whose own link is wider than the path would, so slowpath starts with 1500-byte datagrams.
# They carry DF, the router cannot put them on the 1280 link and answers Fragmentation Needed;
# slowpath lowers the connection's path MTU and sends again in smaller segments. A 3 MB echo round
# trip must come back byte for byte, slowpath's counters must show the ICMP taken and the MTU
# lowered, and its capture must show that every segment it sent after the first Fragmentation
# Needed fits in 1280 bytes (and that it did start with full-size ones, DF set).
source "$(dirname "$0")/lib.sh"
sp_setup tcppmtu
NS2="sp-tcppmtu2-$$"
# Removed with the first namespace, whatever happens (a failing `(exit $rc)` in a trap of its own
# stopped that trap under set -e before, leaving both namespaces behind).
sp_on_exit sp_del_ns "$NS2"

CLIENT=198.51.100.2
PATH_MTU=1280
ip netns add "$NS2"
ip -n "$NS2" link set lo up
ip -n "$SP_NS" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$SP_NS" link set veth0 mtu "$PATH_MTU"
ip -n "$NS2" link set veth1 mtu "$PATH_MTU"
ip -n "$SP_NS" addr add 198.51.100.1/24 dev veth0
ip -n "$NS2" addr add "$CLIENT/24" dev veth1
ip -n "$SP_NS" link set veth0 up
ip -n "$NS2" link set veth1 up
ip -n "$NS2" route add default via 198.51.100.1 advmss 1460
sp_in sysctl -qw net.ipv4.ip_forward=1

head -c 3000000 /dev/urandom >"$SP_TMP/3m"
sp_start --gw "$SP_PEER" --pcap "$SP_TMP/pmtu.pcap" --stats
ip netns exec "$NS2" timeout 180 nc -N "$SP_IP" 7 <"$SP_TMP/3m" >"$SP_TMP/echo" || sp_fail "nc echo through the router failed"
cmp "$SP_TMP/3m" "$SP_TMP/echo" || sp_fail "the 3 MB echo differs"
sp_stop

# The counters --stats printed at exit: NAME's value, 0 when not printed.
counter() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$SP_LOG"; }
icmp=$(counter tcp_icmp_rx) lowered=$(counter tcp_pmtu_lowered)
sp_log "3 MB echo identical; tcp_icmp_rx $icmp, tcp_pmtu_lowered $lowered, drop_tcp_icmp_pmtu" \
    "$(counter drop_tcp_icmp_pmtu), tcp_retransmit $(counter tcp_retransmit)"
[ "$icmp" -ge 1 ] || sp_fail "no ICMP error reached TCP"
[ "$lowered" -ge 1 ] || sp_fail "the path MTU was never lowered"

# The capture: the first Fragmentation Needed from the router, then slowpath's segments.
pcap="$SP_TMP/pmtu.pcap"
# (not icmp: an ICMP error quotes one of our segments, and tshark's fields match the quote too)
ours="ip.src==$SP_IP && tcp && !icmp"
first=$(tshark -r "$pcap" -Y "icmp.type==3 && icmp.code==4 && icmp.mtu==$PATH_MTU" -T fields -e frame.number 2>/dev/null |
    head -n 1)
[ -n "$first" ] || sp_fail "no Fragmentation Needed with MTU $PATH_MTU in the capture"
big_before=$(tshark -r "$pcap" -Y "$ours && ip.len > $PATH_MTU && ip.flags.df == 1 && frame.number < $first" 2>/dev/null | wc -l)
big_after=$(tshark -r "$pcap" -Y "$ours && ip.len > $PATH_MTU && frame.number > $first" 2>/dev/null | wc -l)
after=$(tshark -r "$pcap" -Y "$ours && frame.number > $first" 2>/dev/null | wc -l)
no_df=$(tshark -r "$pcap" -Y "$ours && ip.flags.df == 0" 2>/dev/null | wc -l)
sp_log "capture: $big_before segments over $PATH_MTU bytes before frame $first (the first Fragmentation" \
    "Needed), $big_after of $after after it; $no_df without DF"
[ "$big_before" -ge 1 ] || sp_fail "slowpath never sent a segment larger than the path (with DF)"
[ "$after" -ge 1000 ] || sp_fail "only $after segments after the Fragmentation Needed"
[ "$big_after" -eq 0 ] || sp_fail "$big_after segments over $PATH_MTU bytes after the Fragmentation Needed"
[ "$no_df" -eq 0 ] || sp_fail "$no_df segments without DF"
# What slowpath sent passes pcap-lint. Judged by its MAC rather than sp_lint's address filter, which
# also takes in the router's errors that quote our segments (cut short, so never clean).
out=$("$SP_SHARED/tools/pcap-lint" "$pcap" "eth.src==$SP_MAC") || sp_fail "pcap-lint: $out"
sp_log "$(printf '%s\n' "$out" | tail -n 1)"
