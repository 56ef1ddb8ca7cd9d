#!/usr/bin/env bash
# TCP at scale against Linux: 10,000 idle connections to discard (what they cost in slowpath's
# RSS, bounded per connection), then a bounded SYN flood at the HTTP port (20,000 SYNs at 10,000
# per second from spoofed on-link sources with random ports, tests/integration/syn_flood.py)
# during which and after which curl still gets its page: the backlog fills with half-open
# connections, then SYN cookies answer. slowpath's RSS before and after the flood is printed and
# must stay bounded (a generous cap: ASan builds count too). The default limits but a backlog of
# 4096, so that the flood overflows it even when a busy machine drops some of it at the TAP.
source "$(dirname "$0")/lib.sh"
sp_setup tcpflood
sp_start --tcp-backlog 4096
IDLE=10000
FLOOD=20000
IDLE_MAX_KB_PER_CONN=8          # ~0.5 KiB expected (ASan: ~1.5)
FLOOD_MAX_GROWTH_KB=$((256 * 1024))

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SP_PID/status"; }
counter() { sed -n "s/^$1 //p" <<<"$2"; }

sp_in curl -sS -m 10 -o /dev/null "http://$SP_IP/" || sp_fail "curl before the load"

# --- 10,000 idle connections ---
out=$(sp_in timeout 180 /usr/bin/python3 "$SP_SRC/tests/integration/idle_conns.py" "$SP_IP" 9 "$IDLE" "$SP_PID") ||
    sp_fail "idle connections: $out"
read -r _ n before after <<<"$out"
per=$(((after - before) * 1024 / n))
sp_log "$n idle connections: RSS $before kB -> $after kB, $per bytes per connection"
[ "$per" -le $((IDLE_MAX_KB_PER_CONN * 1024)) ] || sp_fail "$per bytes per idle connection (cap $IDLE_MAX_KB_PER_CONN KiB)"
page=$(sp_in curl -sS -m 10 "http://$SP_IP/") || sp_fail "curl after the idle connections"
[ "$(counter tcp_conn_opened "$page")" -ge "$IDLE" ] || sp_fail "fewer than $IDLE connections opened: $page"

# all_closed: true once every connection but the page's own has gone (the idle ones close
# after the client exits, through FIN exchanges).
all_closed() {
    local p
    p=$(sp_in curl -sS -m 10 "http://$SP_IP/") || return 1
    [ "$(counter tcp_conn_opened "$p")" -eq $(($(counter tcp_conn_closed "$p") + 1)) ]
}
sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "the idle connections to close" all_closed || sp_fail "idle connections left"

# --- the flood, with curl during and after it ---
rss_before=$(rss)
sp_in /usr/bin/python3 "$SP_SRC/tests/integration/syn_flood.py" tap0 "$SP_MAC" "$SP_IP" 80 "$FLOOD" 10000 \
    192.0.2. 100 107 >"$SP_TMP/flood.out" 2>&1 &
flood=$!
# During the flood: once the backlog has overflowed (SYN cookies going out), the page still comes.
overflowing() {
    local p
    p=$(sp_in curl -sS -m 20 "http://$SP_IP/") || return 1
    [ "$(counter tcp_syncookie_sent "$p")" -gt 0 ] 2>/dev/null
}
sp_wait_until -p "$flood" "$SP_WAIT_S" "the flood to overflow the backlog" overflowing ||
    sp_fail "no SYN cookie sent while the flood ran: $(cat "$SP_TMP/flood.out")"
sp_in curl -sS -m 20 -o /dev/null "http://$SP_IP/" || sp_fail "curl during the flood"
wait "$flood" || sp_fail "the flood: $(cat "$SP_TMP/flood.out")"
sp_log "$(cat "$SP_TMP/flood.out")"
for i in 1 2 3; do
    page=$(sp_in curl -sS -m 20 "http://$SP_IP/") || sp_fail "curl $i after the flood"
done
rss_after=$(rss)
sp_log "SYN flood: RSS $rss_before kB -> $rss_after kB"
sp_log "$(grep -E '^(tcp_conn_opened|tcp_syncookie|drop_tcp_(backlog|table|syncookie|no_memory))' <<<"$page" | tr '\n' ' ')"
[ $((rss_after - rss_before)) -le "$FLOOD_MAX_GROWTH_KB" ] ||
    sp_fail "RSS grew by $((rss_after - rss_before)) kB in the flood (cap $FLOOD_MAX_GROWTH_KB kB)"
[ "$(counter tcp_syncookie_sent "$page")" -gt 0 ] || sp_fail "no SYN cookie sent: the backlog never filled"
[ "$(counter tcp_syncookie_ok "$page")" -ge 1 ] ||
    sp_fail "no connection through a SYN cookie (curl after the flood should have been one)"
sp_stop
sp_log "PASS"
