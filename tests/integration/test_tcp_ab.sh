#!/usr/bin/env bash
# Apache Bench against the HTTP page: 20,000 requests, 100 at a time, one connection each
# (HTTP/1.0), with the default limits. slowpath closes first, so every connection passes through
# TIME-WAIT on our side, and Linux reuses its ports well within 2 MSL: every request must complete
# without a failed connection (ab's Connect, Receive and Exceptions failures; its "Length" ones
# only say that the counters page changes), and each reused pair must open at once. Prints the
# rate and the slowest request (bench/http_ab.sh is the benchmark).
# sp-test: normal-build-only (a load run (20,000 requests); its code paths run under the sanitizers in
# test_tcp_services and test_tcp_flood)
source "$(dirname "$0")/lib.sh"
command -v ab >/dev/null || sp_fail "no ab (tools/install-deps.sh installs apache2-utils)"
sp_setup tcpab
sp_start
N=20000

# -s 30: a request stalled that long is a failure, not a wait for ab's default minute.
sp_in ab -q -r -s 30 -n "$N" -c 100 "http://$SP_IP/" >"$SP_TMP/ab.out" 2>&1 || true
complete=$(awk '/^Complete requests:/ {print $3}' "$SP_TMP/ab.out")
[ "$complete" = "$N" ] || sp_fail "ab completed ${complete:-no} requests of $N: $(cat "$SP_TMP/ab.out")"
if grep -q '^Failed requests:' "$SP_TMP/ab.out"; then
    grep -Eq '^ *\(Connect: 0, Receive: 0, Length: [0-9]+, Exceptions: 0\)$' "$SP_TMP/ab.out" ||
        sp_fail "failed connections: $(grep -A1 '^Failed requests:' "$SP_TMP/ab.out" | tr -s ' ')"
fi
grep -q '^Non-2xx responses:' "$SP_TMP/ab.out" && sp_fail "$(grep '^Non-2xx responses:' "$SP_TMP/ab.out")"
sp_log "$(grep -E '^Requests per second:' "$SP_TMP/ab.out" | tr -s ' '), slowest $(awk '/\(longest request\)/ {print $2}' "$SP_TMP/ab.out") ms"

page=$(sp_in curl -sS -m 10 "http://$SP_IP/") || sp_fail "curl after ab"
sp_log "$(grep -E '^(tcp_conn_opened|tcp_time_wait|tcp_retransmit|drop_tcp)' <<<"$page" | tr '\n' ' ')"
grep -qE '^drop_tcp_(table_full|backlog_full|no_memory) ' <<<"$page" && sp_fail "connections refused: $page"
sp_stop
sp_log "PASS"
