#!/usr/bin/env bash
# SACK (RFC 2018, RFC 6675) and timestamps (RFC 7323) against Linux: a 50 MB echo round trip
# through slowpath's fault injector at 5 % loss both ways, compared byte for byte. dumpcap keeps
# only the segments with SYN (a capture of the whole run would be 100 MB and slow to read), and
# tshark checks that Linux's SYN and slowpath's SYN-ACK both carry SACK-permitted and a timestamp.
# The counters must show SACK recovery and D-SACKs at work. Then an active open (--connect, 2 MB
# at 5 % loss) whose capture must show slowpath's SYN offering both and Linux's SYN-ACK taking them.
source "$(dirname "$0")/lib.sh"
sp_setup tcpsack
head -c 50000000 /dev/urandom >"$SP_TMP/50m"

# syn_options PCAP: one line per SYN or SYN-ACK: "S" or "SA", the source, and whether it carries
# SACK-permitted and a TSval (1 or empty).
syn_options() {
    tshark -r "$1" -Y 'tcp.flags.syn == 1' -T fields -E separator=' ' \
        -e tcp.flags.ack -e ip.src -e tcp.options.sack_perm -e tcp.options.timestamp.tsval 2>/dev/null |
        awk '{ printf "%s %s %s %s\n", ($1 == "1" || $1 == "True") ? "SA" : "S", $2, ($3 != "") ? "sack" : "-", ($4 != "") ? "ts" : "-" }'
}
# has_syn PCAP KIND SRC: a SYN of KIND from SRC with both options is in the capture.
has_syn() { syn_options "$1" | grep -q "^$2 $3 sack ts$"; }

dumpcap_up() { grep -q "Capturing on" "$SP_TMP/dumpcap.log" 2>/dev/null; }

# --- passive open: the 50 MB echo -----------------------------------------------------------------
# Not through sp_in: $! must be dumpcap itself (ip netns exec execs it), not a subshell.
ip netns exec "$SP_NS" dumpcap -q -i tap0 -f 'tcp[tcpflags] & tcp-syn != 0' -w "$SP_TMP/syn.pcap" 2>"$SP_TMP/dumpcap.log" &
dcpid=$!
sp_wait_until -p "$dcpid" "$SP_WAIT_S" "dumpcap to capture" dumpcap_up || sp_fail "dumpcap: $(cat "$SP_TMP/dumpcap.log")"
sp_start --drop-chance 0.05 --seed 5
start=$(date +%s.%N)
sp_in timeout 240 nc -N "$SP_IP" 7 <"$SP_TMP/50m" >"$SP_TMP/50m.echo" || sp_fail "nc echo failed"
end=$(date +%s.%N)
cmp "$SP_TMP/50m" "$SP_TMP/50m.echo" || sp_fail "the 50 MB echo differs"
kill -INT "$dcpid"
wait "$dcpid" || true
has_syn "$SP_TMP/syn.pcap" S "$SP_PEER" || sp_fail "Linux's SYN without SACK-permitted and TSopt: $(syn_options "$SP_TMP/syn.pcap")"
has_syn "$SP_TMP/syn.pcap" SA "$SP_IP" || sp_fail "slowpath's SYN-ACK without SACK-permitted and TSopt: $(syn_options "$SP_TMP/syn.pcap")"
page=$(sp_in curl -sS -m 30 --retry 3 "http://$SP_IP/") || sp_fail "curl"
counter() { echo "$page" | awk -v n="$1" '$1 == n { print $2 }'; }
[ "$(counter tcp_sack_recovery)" -gt 0 ] || sp_fail "no SACK loss recovery: $(echo "$page" | grep tcp_)"
[ -n "$(counter drop_tcp_no_timestamp)" ] && sp_fail "Linux segments without a timestamp were dropped"
sp_log "50 MB echo at 5 % loss identical in $(echo "$end - $start" | bc) s; $(echo "$page" |
    grep -E '^(tcp_retransmit|tcp_fast_retransmit|tcp_sack_recovery|tcp_sack_rescue|tcp_dsack_rx|tcp_dsack_tx|drop_tcp_paws) ' | tr '\n' ' ')"
sp_stop

# --- active open: slowpath --connect ---------------------------------------------------------------
head -c 1500000 /dev/urandom | base64 -w 76 >"$SP_TMP/2m"
sp_in timeout 120 nc -N -l "$SP_PEER" 40000 </dev/null >"$SP_TMP/recv" &
ncpid=$!
sp_wait_port "$SP_NS" 40000 "$ncpid" || sp_fail "nc -l did not listen on port 40000"
ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" --drop-chance 0.05 --seed 9 \
    --pcap "$SP_TMP/connect.pcap" --connect "$SP_PEER:40000" --send "$SP_TMP/2m" >/dev/null 2>"$SP_LOG" &
SP_PID=$!
sp_wait_until 120 "slowpath --connect to exit" sp_gone || sp_fail "slowpath --connect still running after 120 s"
rc=0
wait "$SP_PID" || rc=$?
SP_PID=""
[ "$rc" -eq 0 ] || sp_fail "slowpath --connect exited with $rc"
wait "$ncpid" || sp_fail "nc -l failed"
cmp "$SP_TMP/2m" "$SP_TMP/recv" || sp_fail "the file received by Linux differs"
has_syn "$SP_TMP/connect.pcap" S "$SP_IP" || sp_fail "slowpath's SYN without SACK-permitted and TSopt: $(syn_options "$SP_TMP/connect.pcap")"
has_syn "$SP_TMP/connect.pcap" SA "$SP_PEER" || sp_fail "Linux's SYN-ACK without SACK-permitted and TSopt: $(syn_options "$SP_TMP/connect.pcap")"
sp_lint "$SP_TMP/connect.pcap"
sp_log "--connect at 5 % loss: 2 MB delivered, SACK and timestamps on both SYNs"
