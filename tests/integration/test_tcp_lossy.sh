#!/usr/bin/env bash
# TCP through slowpath's fault injector: a 5 MB echo round trip with 2% of frames dropped, and
# another with 1% corrupted, each compared byte for byte (retransmission, fast retransmit and
# out-of-order assembly at work). 5 MB rather than 50 keeps the suite short under ASan; the
# counters printed show how much recovery each run needed. Captures pass pcap-lint.
source "$(dirname "$0")/lib.sh"
sp_setup tcploss
head -c 5000000 /dev/urandom >"$SP_TMP/5m"

run() {   # run NAME FAULT-FLAGS...
    local name=$1; shift
    sp_start --pcap "$SP_TMP/$name.pcap" "$@"
    local start end
    start=$(date +%s.%N)
    sp_in timeout 180 nc -N "$SP_IP" 7 <"$SP_TMP/5m" >"$SP_TMP/$name.echo" || sp_fail "$name: nc echo failed"
    end=$(date +%s.%N)
    cmp "$SP_TMP/5m" "$SP_TMP/$name.echo" || sp_fail "$name: 5 MB echo differs"
    local page
    page=$(sp_in curl -sS -m 30 --retry 3 "http://$SP_IP/") || sp_fail "$name: curl"
    sp_log "$name: 5 MB echo identical in $(echo "$end - $start" | bc) s; $(echo "$page" |
        grep -E '^(tcp_retransmit|tcp_fast_retransmit|drop_tcp_bad_checksum|drop_ip_bad_checksum) ' | tr '\n' ' ')"
    sp_stop
    sp_lint "$SP_TMP/$name.pcap"
}

run drop --drop-chance 0.02
run corrupt --corrupt-chance 0.01
