#!/usr/bin/env bash
# --metrics: a scrape passes `promtool check metrics`, and once traffic has stopped its counters
# equal the SIGUSR1 dump taken at the same moment (a scrape, the dump, a scrape: the two scrapes
# must agree, else something still moved and the round is taken again), and the --stats dump at
# exit. Traffic: pings the model answers (the sim, with wrong answers now and then), arpings,
# HTTP fetches whose handshakes the model shadows, UDP echo. Also: other paths are 404, only
# GET and HEAD are served, and a non-loopback address is refused without --metrics-any.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/metrics_check.py"
sp_setup metrics
M=127.0.0.1:9464

# The kernel's IPv6 chatter on the TAP (router solicitations, MLD) would move the counters
# between a scrape and the dump.
sp_in sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1 || true

out=$("$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --metrics 192.0.2.9:9464 2>&1) && sp_fail "a non-loopback --metrics was accepted"
echo "$out" | grep -q -- "--metrics-any" || sp_fail "the refusal does not name --metrics-any: $out"
"$SP_BIN/slowpath" --print-config --metrics 0.0.0.0:9464 --metrics-any | grep -q '^metrics: 0.0.0.0:9464 (any address)$' ||
    sp_fail "--metrics-any did not allow a non-loopback address"
sp_log "non-loopback refused without --metrics-any"

sp_start --metrics "$M" --stats --delegate icmp=llm,tcp=shadow --llm-error-rate 0.3 --llm-seed 7
grep -q "metrics on http://$M/metrics" "$SP_LOG" || sp_fail "no 'metrics on' line in the log"

scrape() { sp_in curl -sS --max-time 10 -o "$1" "http://$M/metrics"; }
scrape "$SP_TMP/first" || sp_fail "the first scrape failed"
command -v promtool >/dev/null || sp_fail "promtool is missing (tools/install-deps.sh installs prometheus)"
promtool check metrics <"$SP_TMP/first" || sp_fail "promtool check metrics: the first scrape"

sp_in ping -n -q -c 20 -i 0.05 -W 2 "$SP_IP" >/dev/null || true
sp_in arping -q -c 3 -w 5 -I tap0 "$SP_IP" || true
for _ in 1 2 3; do sp_in curl -sS --max-time 10 -o /dev/null "http://$SP_IP/" || sp_fail "HTTP fetch"; done
echo hello | sp_in nc -u -w 1 "$SP_IP" 7 >/dev/null || true

# The other answers of the endpoint.
code() { sp_in curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://$M/")" = 404 ] || sp_fail "/ is not 404"
[ "$(code "http://$M/metricsx")" = 404 ] || sp_fail "/metricsx is not 404"
[ "$(code -X POST "http://$M/metrics")" = 405 ] || sp_fail "POST is not 405"
[ "$(code -I "http://$M/metrics")" = 200 ] || sp_fail "HEAD is not 200"
ctype=$(sp_in curl -s -o /dev/null -w '%{content_type}' "http://$M/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || sp_fail "content type '$ctype'"
sp_log "404 / 405 / HEAD / content type ok"

# Traffic has stopped: the decisions must all be in (a shadow grade can come after the reply), and
# the connections gone (TIME-WAIT lasts 4 s; one still there at exit would be counted closed then),
# compact TIME-WAIT entries included: each one ends expired, evicted or reused, and is counted so.
event() { $CHECK value "$SP_TMP/s" slowpath_stack_events_total "event=$1"; }
tw_gone() {
    [ "$(event tcp_time_wait)" -le $(($(event tcp_time_wait_expired) + $(event tcp_time_wait_evicted) +
        $(event tcp_time_wait_reused))) ]
}
settled() {
    scrape "$SP_TMP/s" && [ "$($CHECK value "$SP_TMP/s" slowpath_llm_inflight)" = 0 ] &&
        [ "$($CHECK value "$SP_TMP/s" slowpath_decisions_asked_total kind=icmp)" -ge 20 ] &&
        [ "$($CHECK connections "$SP_TMP/s")" = 0 ] && tw_gone
}
sp_wait_until "$SP_WAIT_S" "the decisions to settle" settled || sp_fail "decisions did not settle"

same=""
for round in 1 2 3 4 5; do
    scrape "$SP_TMP/a" || sp_fail "scrape"
    sp_counters '^  llm client:' || sp_fail "SIGUSR1 printed no complete dump"
    scrape "$SP_TMP/b" || sp_fail "scrape"
    if $CHECK same "$SP_TMP/a" "$SP_TMP/b" 2>"$SP_TMP/moved"; then same=1; break; fi
    sp_log "round $round: $(cat "$SP_TMP/moved"), again"
    sleep 1
done
[ -n "$same" ] || sp_fail "the counters never stood still for a scrape, a dump and a scrape"
promtool check metrics <"$SP_TMP/a" || sp_fail "promtool check metrics: the scrape after traffic"
res=$($CHECK compare "$SP_TMP/a" "$SP_LOG") || sp_fail "scrape vs SIGUSR1 dump: $res"
sp_log "scrape = SIGUSR1 dump: $res"
for what in "slowpath_decisions_total kind=icmp,verdict=valid" "slowpath_decision_latency_seconds_count kind=icmp" \
    "slowpath_decision_shadow_grades_total kind=tcp,grade=match" "slowpath_stack_events_total event=udp_rx"; do
    # shellcheck disable=SC2086 # name and labels are two words
    v=$($CHECK value "$SP_TMP/a" $what)
    [ "$v" != 0 ] || sp_fail "$what is 0 after the traffic"
done
[ "$($CHECK value "$SP_TMP/a" slowpath_neighbour_cache_entries)" -ge 1 ] || sp_fail "no neighbour counted"
[ "$($CHECK value "$SP_TMP/a" slowpath_tcp_connections state=listen)" = 3 ] || sp_fail "not 3 listeners"

# The dump at exit (--stats) is taken with nothing moving either.
sp_stop
res=$($CHECK compare "$SP_TMP/b" "$SP_LOG") || sp_fail "scrape vs --stats dump at exit: $res"
sp_log "scrape = --stats dump at exit: $res"
sp_log "PASS"
