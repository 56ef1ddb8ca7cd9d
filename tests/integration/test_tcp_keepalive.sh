#!/usr/bin/env bash
# The daemon's --tcp-keepalive against Linux (RFC 1122 4.2.3.6): an idle client of the discard
# service answers slowpath's probes, so the connection lives on; once the client's answers go
# nowhere (a blackhole route to slowpath in the client's namespace), COUNT unanswered probes end
# the connection. Keepalive 1 s idle, 1 s interval, 2 probes.
source "$(dirname "$0")/lib.sh"
sp_setup tcpka
sp_start --tcp-keepalive 1,1,2

# at_least NAME MIN: true once slowpath's counter NAME (printed on SIGUSR1) has reached MIN. A
# block still being written only reads lower: counters never go down.
at_least() {
    sp_counters '^slowpath counters:$' >/dev/null 2>&1 || return 1
    [ "$(awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$SP_LOG")" -ge "$2" ]
}

# An idle client: connected to discard, sending nothing for a minute. All of it inside the
# namespace, so that the clean-up ends it; nothing of it holds the test's output open.
sp_in sh -c "sleep 60 | nc $SP_IP 9" </dev/null >/dev/null 2>&1 &
sp_wait_until "$SP_WAIT_S" "three answered keepalive probes" at_least tcp_keepalive_probe 3 ||
    sp_fail "slowpath sent no keepalive probes"
at_least tcp_keepalive_timeout 1 && sp_fail "a connection whose peer answers was given up"
[ -n "$(sp_in ss -Htn state established "dport = :9")" ] || sp_fail "the client's connection is gone"

# The client can no longer answer: two probes unanswered, then the connection is reset.
sp_in ip route add blackhole "$SP_IP/32"
sp_wait_until "$SP_WAIT_S" "the keepalive timeout" at_least tcp_keepalive_timeout 1 ||
    sp_fail "the connection was not given up after its probes went unanswered"
sp_log "probes: $(awk '$1 == "tcp_keepalive_probe" { v = $2 } END { print v }' "$SP_LOG"), timeouts: 1"
sp_stop
