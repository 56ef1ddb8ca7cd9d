#!/usr/bin/env bash
# Legal authority against Linux. The in-process sim chooses at random (seeded) wherever legal
# lets it, and the stack adopts what it chose:
#   1. curl and TCP echo complete over handshakes whose ISS, window, MSS and window scale are the
#      model's, pings are answered with its TTL, IP identification and DF; the capture carries
#      exactly what the trace's "deviation" says (the SYN-ACK's seq is the trace's iss), nothing
#      goes to or comes from anyone but us and the asker, and no ARP is answered for another host;
#   2. a 20 MB echo over four connections, each on handshakes the model chose (raw prompts: the
#      sim writes the bytes);
#   3. the deterministic knobs: refuse puts a RST-ACK on the wire, ignore puts nothing (a closed
#      port goes silent, where exact authority answers it with a RST);
#   4. with a model that errs 30 % of the time (raw prompts), every frame sent still passes
#      pcap-lint and the valid answers still carry what the trace says.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/llm_check.py"
sp_setup llmlegal
OTHER=192.0.2.77   # in our subnet, nobody's
LEGAL=(--authority legal --llm-seed 20261202)
NO_REFUSALS=(--llm-sim-choices random --llm-sim-refuse-rate 0 --llm-sim-ignore-rate 0)

# wire PCAP [--trace T]: one pass over what we sent; sets W_frames, W_foreign, W_arp_other,
# W_synack, W_rst_ack0, W_rst, W_icmp, W_tcp, W_port81_rst (and checks the trace's deviations).
wire() {
    local out kv
    out=$($CHECK wire "$@" --me "$SP_IP" --peer "$SP_PEER" --mac "$SP_MAC" --other "$OTHER") || sp_fail "capture: $out"
    for kv in $(head -n 1 <<<"$out"); do eval "W_$kv"; done
    W_summary=$(sed -n 2p <<<"$out")
}

# Nothing we sent is from another address, to a third party, or an ARP answer for another host.
only_ours() {   # only_ours LABEL (after wire)
    [ "$W_foreign" = 0 ] || sp_fail "$1: $W_foreign frames from us with another address or to a third party"
    [ "$W_arp_other" = 0 ] || sp_fail "$1: we answered ARP for $OTHER"
}

# --- 1. HTTP, pings, ARP, a captured echo: the model's choices on the wire ---
t="$SP_TMP/legal.trace" pcap="$SP_TMP/legal.pcap"
sp_start --delegate icmp=llm,arp=llm,tcp=llm "${LEGAL[@]}" "${NO_REFUSALS[@]}" --trace "$t" --pcap "$pcap" --stats
for i in 1 2 3 4 5 6; do
    code=$(sp_in curl -s -o /dev/null -w '%{http_code}' -m 20 "http://$SP_IP/") || true
    [ "$code" = 200 ] || sp_fail "curl $i over a legal handshake: HTTP $code"
done
out=$(sp_in ping -n -c 10 -i 0.2 -W 5 "$SP_IP" 2>&1) || sp_fail "ping: $(echo "$out" | tail -n 2)"
echo "$out" | grep -q " 10 received" || sp_fail "ping: $(echo "$out" | tail -n 2)"
out=$(sp_in arping -c 2 -w 5 -I tap0 "$SP_IP" 2>&1) || true
echo "$out" | grep -q "Received 2 response" || sp_fail "arping $SP_IP: $out"
out=$(sp_in arping -c 2 -w 3 -I tap0 "$OTHER" 2>&1) || true
echo "$out" | grep -q "Received 0 response" || sp_fail "arping $OTHER was answered: $out"
head -c 1000000 /dev/urandom >"$SP_TMP/1m"
for i in 1 2; do
    sp_in timeout 60 nc -N "$SP_IP" 7 <"$SP_TMP/1m" >"$SP_TMP/1m.echo" || sp_fail "echo $i failed"
    cmp -s "$SP_TMP/1m" "$SP_TMP/1m.echo" || sp_fail "echo $i differs"
done
sp_counters '^  llm client:' || sp_fail "no counters"
grep -q '^       deviations: ' "$SP_LOG" || sp_fail "the counters show no deviations"
sp_stop
$CHECK lint "$t" >/dev/null || sp_fail "trace malformed"
$CHECK stats "$SP_LOG" "$t" >/dev/null || sp_fail "--stats disagrees with the trace"
n=$($CHECK count "$t" --kind tcp --verdict valid --authority legal --deviates iss)
[ "$n" -ge 8 ] || sp_fail "only $n handshakes on the model's ISS: $($CHECK report "$t")"
[ "$($CHECK count "$t" --kind icmp --deviates ttl)" -ge 5 ] || sp_fail "pings kept the stack's TTL"
[ "$($CHECK count "$t" --verdict invalid)" = 0 ] || sp_fail "a random legal choice was refused: $($CHECK report "$t")"
wire "$pcap" --trace "$t"
sp_log "1. $W_summary"
only_ours "random legal choices"
[ "$W_synack" -ge 8 ] || sp_fail "$W_synack SYN-ACKs in the capture"
sp_lint "$pcap"

# --- 2. a 20 MB echo over four connections on the model's handshakes (raw prompts) ---
t="$SP_TMP/bulk.trace"
sp_start --delegate tcp=llm --prompt-format raw "${LEGAL[@]}" --llm-seed 77 "${NO_REFUSALS[@]}" --trace "$t"
head -c 5000000 /dev/urandom >"$SP_TMP/5m"
pids=()
for i in 1 2 3 4; do
    sp_in timeout 120 nc -N "$SP_IP" 7 <"$SP_TMP/5m" >"$SP_TMP/5m.$i" &
    pids+=($!)
done
for i in 1 2 3 4; do
    wait "${pids[i - 1]}" || sp_fail "echo connection $i failed"
    cmp -s "$SP_TMP/5m" "$SP_TMP/5m.$i" || sp_fail "echo connection $i differs"
done
sp_stop
$CHECK lint "$t" >/dev/null || sp_fail "bulk trace malformed"
n=$($CHECK count "$t" --kind tcp --verdict valid --deviates iss)
[ "$n" = 4 ] || sp_fail "$n of 4 echo handshakes on the model's ISS: $(cat "$t")"
sp_log "2. 20 MB echoed intact over 4 connections; their SYN-ACKs chose $(grep -o '"deviation":{[^}]*}' "$t" | tr '\n' ' ')"

# --- 3. refuse and ignore, deterministic ---
syn_to() {   # syn_to PORT: curl's exit status for a connection to PORT (7 refused, 28 timed out)
    local rc=0
    sp_in curl -s -o /dev/null --connect-timeout 2 -m 3 "http://$SP_IP:$1/" || rc=$?
    echo "$rc"
}
pcap="$SP_TMP/refuse.pcap"
sp_start --delegate tcp=llm "${LEGAL[@]}" --llm-sim-choices refuse --pcap "$pcap"
[ "$(syn_to 80)" = 7 ] || sp_fail "refuse: a connection to the listener was not refused"
[ "$(syn_to 81)" = 7 ] || sp_fail "refuse: the closed port did not refuse"
sp_stop
wire "$pcap"
[ "$W_rst_ack0" -ge 2 ] || sp_fail "refuse: $W_rst_ack0 RST-ACKs in the capture"
[ "$W_synack" = 0 ] || sp_fail "refuse: a SYN-ACK went out"

pcap="$SP_TMP/ignore.pcap"
sp_start --delegate tcp=llm,icmp=llm "${LEGAL[@]}" --llm-sim-choices ignore --pcap "$pcap"
[ "$(syn_to 80)" = 28 ] || sp_fail "ignore: the listener answered"
[ "$(syn_to 81)" = 28 ] || sp_fail "ignore: the closed port answered"
out=$(sp_in ping -n -c 2 -i 0.3 -W 1 "$SP_IP" 2>&1) || true
echo "$out" | grep -q " 0 received" || sp_fail "ignore: pings answered: $out"
sp_stop
wire "$pcap"
[ "$W_tcp" = 0 ] && [ "$W_icmp" = 0 ] ||
    sp_fail "ignore: $W_tcp TCP and $W_icmp ICMP frames went out (a retried SYN gets silence too)"

pcap="$SP_TMP/exact.pcap"
sp_start --delegate tcp=llm --pcap "$pcap"
[ "$(syn_to 81)" = 7 ] || sp_fail "exact: the closed port was not refused"
sp_stop
wire "$pcap"
[ "$W_port81_rst" -ge 1 ] || sp_fail "exact: no RST from the closed port"
sp_log "3. refuse: RST-ACKs on the wire; ignore: nothing at all (a closed port silent); exact: the closed port's RST"

# --- 4. a model that errs (raw: checksums, lengths, fields): every frame sent is well formed ---
t="$SP_TMP/err.trace" pcap="$SP_TMP/err.pcap"
sp_start --delegate icmp=llm,arp=llm,tcp=llm --prompt-format raw "${LEGAL[@]}" --llm-sim-choices random \
    --llm-error-rate 0.3 --trace "$t" --pcap "$pcap"
sp_in ping -n -c 16 -i 0.1 -W 3 "$SP_IP" >/dev/null 2>&1 || true
for i in 1 2 3 4 5 6; do sp_in curl -s -o /dev/null -m 8 "http://$SP_IP/" || true; done
sp_in arping -c 3 -w 4 -I tap0 "$SP_IP" >/dev/null 2>&1 || true
syn_to 81 >/dev/null
sp_stop
$CHECK lint "$t" >/dev/null || sp_fail "error rate 0.3: trace malformed"
[ "$($CHECK count "$t" --verdict invalid)" -ge 3 ] || sp_fail "the model hardly erred: $($CHECK report "$t")"
wire "$pcap" --trace "$t"
only_ours "error rate 0.3"
sp_lint "$pcap"
sp_log "4. raw, error rate 0.3: $($CHECK summary "$t"); $W_summary"
sp_log "PASS"
