#!/usr/bin/env bash
# TCP over the TAP with virtio-net offloads (IFF_VNET_HDR, partial checksums, TCPv4 super-segments)
# and without them (--no-offload), against Linux: 100 MB each way, compared byte for byte. Linux
# sends to the echo service, which sends every byte back (both directions at once); then
# slowpath --connect --send delivers 100 MB to a Linux listener (our send path alone). The
# counters must show super-segments in both directions with offloads on, none with them off, so
# the test cannot pass with offloads silently off. Then both again at --drop-chance 0.02, where a
# lost super-segment (40-odd wire segments at once) must be recovered. Last, a 2 MB echo with
# offloads on is captured and must pass pcap-lint: super-segments are written as the MSS-sized
# frames they stand for, and no frame in it is longer than Ethernet's.
# sp-test: normal-build-only
source "$(dirname "$0")/lib.sh"
sp_setup tcpoffl
head -c 100000000 /dev/urandom >"$SP_TMP/100m"
head -c 2000000 "$SP_TMP/100m" >"$SP_TMP/2m"

counter() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$SP_LOG"; }

# echo_run FILE LABEL: FILE through the echo service and back, compared.
echo_run() {
    local t0 t1
    t0=$(date +%s.%N)
    sp_in timeout 300 nc -N "$SP_IP" 7 <"$1" >"$SP_TMP/echoed" || sp_fail "$2: nc echo failed"
    t1=$(date +%s.%N)
    cmp -s "$1" "$SP_TMP/echoed" || sp_fail "$2: the echoed bytes differ"
    sp_log "$2: $(stat -c %s "$1") bytes echoed identical in $(echo "$t1 - $t0" | bc) s"
}

# send_run LABEL SLOWPATH-FLAGS...: slowpath --connect --send 100 MB to a Linux listener; the
# counters it prints on exit are left in $SP_TMP/send.log.
send_run() {
    local label=$1 rc=0
    shift
    sp_in timeout 300 nc -N -l "$SP_PEER" 40000 </dev/null >"$SP_TMP/recv" &
    local ncpid=$!
    sp_wait_port "$SP_NS" 40000 "$ncpid" || sp_fail "nc -l did not listen on port 40000"
    ip netns exec "$SP_NS" timeout 300 "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" --stats \
        "$@" --connect "$SP_PEER:40000" --send "$SP_TMP/100m" >/dev/null 2>"$SP_TMP/send.log" || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 40 "$SP_TMP/send.log" >&2; sp_fail "$label: slowpath --connect exited with $rc"; }
    wait "$ncpid" || sp_fail "$label: nc -l failed"
    cmp -s "$SP_TMP/100m" "$SP_TMP/recv" || sp_fail "$label: the 100 MB Linux received differ"
    sp_log "$label: 100 MB sent by slowpath received identical"
}
send_counter() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$SP_TMP/send.log"; }

# --- offloads on (the default) --------------------------------------------------------------------
sp_start -v
grep -q 'offloads csum,tso4' "$SP_LOG" || sp_fail "offloads not enabled: $(grep -m1 'up on' "$SP_LOG")"
echo_run "$SP_TMP/100m" "offloads on"
sp_counters
[ "$(counter rx_super_segments)" -gt 0 ] || sp_fail "offloads on: no super-segment received"
[ "$(counter tx_super_segments)" -gt 0 ] || sp_fail "offloads on: no super-segment sent"
sp_log "offloads on: $(grep -E '^  (rx_super_segments|tx_super_segments|rx_csum_offloaded|tcp_retransmit) ' "$SP_LOG" | tr -s ' ' | tr '\n' ' ')"
sp_stop
send_run "offloads on, --connect"
[ "$(send_counter tx_super_segments)" -gt 0 ] || sp_fail "offloads on, --connect: no super-segment sent"

# --- offloads off -----------------------------------------------------------------------------------
sp_start -v --no-offload
grep -q 'offloads none' "$SP_LOG" || sp_fail "--no-offload: $(grep -m1 'up on' "$SP_LOG")"
echo_run "$SP_TMP/100m" "--no-offload"
sp_counters
[ "$(counter rx_super_segments)" -eq 0 ] || sp_fail "--no-offload: super-segments received"
[ "$(counter tx_super_segments)" -eq 0 ] || sp_fail "--no-offload: super-segments sent"
sp_stop
send_run "--no-offload, --connect" --no-offload
[ "$(send_counter tx_super_segments)" -eq 0 ] || sp_fail "--no-offload, --connect: super-segments sent"

# --- 2 % loss: lost super-segments are recovered ----------------------------------------------------
sp_start --drop-chance 0.02 --seed 11
echo_run "$SP_TMP/100m" "offloads on, 2 % loss"
sp_counters
[ "$(counter tcp_retransmit)" -gt 0 ] || sp_fail "2 % loss: nothing was retransmitted"
[ "$(counter rx_super_segments)" -gt 0 ] || sp_fail "2 % loss: no super-segment received"
sp_log "2 % loss: $(grep -E '^  (rx_super_segments|tx_super_segments|tcp_retransmit|tcp_fast_retransmit|tcp_sack_recovery) ' "$SP_LOG" | tr -s ' ' | tr '\n' ' ')"
sp_stop
send_run "offloads on, 2 % loss, --connect" --drop-chance 0.02 --seed 12
[ "$(send_counter tx_super_segments)" -gt 0 ] || sp_fail "2 % loss, --connect: no super-segment sent"
[ "$(send_counter tcp_retransmit)" -gt 0 ] || sp_fail "2 % loss, --connect: nothing was retransmitted"

# --- the capture of an offloaded run reads as wire traffic ------------------------------------------
sp_start --pcap "$SP_TMP/offload.pcap"
echo_run "$SP_TMP/2m" "offloads on, captured"
sp_counters
[ "$(counter tx_super_segments)" -gt 0 ] || sp_fail "captured run: no super-segment sent"
sp_stop
big=$(tshark -r "$SP_TMP/offload.pcap" -Y 'frame.len > 1514' -T fields -e frame.number 2>/dev/null | wc -l)
[ "$big" -eq 0 ] || sp_fail "the capture holds $big frames longer than an Ethernet frame"
sp_lint "$SP_TMP/offload.pcap"
