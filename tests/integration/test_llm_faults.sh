#!/usr/bin/env bash
# A faulty model and a faulty transport never cost a packet nor let a bad one out.
# 1. Raw format through llm-sim with wrong answers (--error-rate 0.3) and HTTP faults (500, 429,
#    reset, stall): every ping and arping is answered (the native answer is the fallback), refused
#    proposals are in the trace, the daemon's --stats decision counters equal the trace's, and
#    every frame slowpath sent passes pcap-lint.
# 2. --on-invalid drop with an always-wrong in-process sim: no echo reply leaves at all, and the
#    trace says drop for each request.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/llm_check.py"
# A placeholder key: slowpath wants one for Anthropic, llm-sim checks that it is the one sent.
export ANTHROPIC_API_KEY=sp-test-key OPENAI_API_KEY=sp-test-key
sp_setup llmfaults

# A short retry-after keeps 429s from stretching the test; the seed makes the fault mix fixed.
sp_start_sim --error-rate 0.3 --fault 500:0.1 --fault 429:0.1 --fault reset:0.05 --fault stall:0.03 --retry-after-ms 50 \
    --seed 7 --log

t="$SP_TMP/faults.trace"
sp_start --delegate icmp=llm,arp=llm --prompt-format raw --llm anthropic --llm-url "http://127.0.0.1:$SIM_PORT" \
    --llm-timeout 3000 --trace "$t" --pcap "$SP_TMP/faults.pcap" --stats
# -w 20: ping sends until 30 answers are in (a stalled request is answered by the fallback only
# at the 3 s deadline, after ping may have sent a few more); then every request it sent must be
# answered: wait until each has its decision in the trace.
out=$(sp_in ping -n -c 30 -i 0.05 -w 20 "$SP_IP" 2>&1) || true
sent=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted, 30 received.*/\1/p')
[ -n "$sent" ] || sp_fail "ping: $(echo "$out" | tail -n 3)"
sp_wait_until "$SP_WAIT_S" "a decision in the trace for each of the $sent echo requests" sp_traced "$sent" "$t" --kind icmp ||
    sp_fail "$($CHECK count "$t" --kind icmp 2>&1) icmp decisions traced for $sent echo requests"
# arping's interval is whole seconds: one run per request (-f: until the first reply; -c 1 would
# give up as soon as its one request is out) keeps this short.
for i in 1 2 3 4 5; do
    out=$(sp_in arping -f -w 8 -I tap0 "$SP_IP" 2>&1) || true
    echo "$out" | grep -q "Received 1 response" || sp_fail "arping $i: $out"
done
sp_stop

$CHECK lint "$t" >/dev/null || sp_fail "trace malformed"
asked=$($CHECK count "$t" --kind icmp)
[ "$asked" = "$sent" ] || sp_fail "$asked icmp decisions traced for $sent echo requests"
bad=$($CHECK count "$t" --kind icmp --verdict invalid)
[ "$bad" -ge 1 ] || sp_fail "no invalid icmp verdict with --error-rate 0.3: $($CHECK report "$t")"
fb=$($CHECK count "$t" --action fallback)
[ "$($CHECK count "$t" --action drop)" = 0 ] || sp_fail "a decision was dropped under the fallback policy"
# Each request was answered once: by the model or by the fallback, never both, never twice.
n=$(tshark -r "$SP_TMP/faults.pcap" -Y "icmp.type==0 && ip.src==$SP_IP" 2>/dev/null | wc -l)
[ "$n" = "$sent" ] || sp_fail "$n echo replies in the capture for $sent requests"
$CHECK replies "$SP_TMP/faults.pcap" "$SP_IP" "$SP_PEER" >/dev/null || sp_fail "echo replies differ from the requests"
$CHECK stats "$SP_LOG" "$t" >/dev/null || sp_fail "--stats counters differ from the trace"
# The transport faults happened and were retried: llm-sim logged more requests than decisions.
reqs=$(grep -c '^{"n":' "$SP_TMP/sim.log" || true)
faulted=$(grep -cE '"fault":"(500|429)"' "$SP_TMP/sim.log" || true)
all=$($CHECK count "$t")
[ "$faulted" -ge 1 ] && [ "$reqs" -gt "$all" ] ||
    sp_fail "llm-sim saw $reqs requests ($faulted 500/429) for $all decisions: no retried fault"
sp_lint "$SP_TMP/faults.pcap"
sp_log "llm-sim: $reqs requests for $all decisions, $faulted answered 500 or 429"
sp_log "faults: ping $sent/$sent, arping 5/5; $bad invalid icmp proposals, $fb fallbacks, $($CHECK count "$t" --verdict timeout) timeouts; counters = trace"
sp_log "$($CHECK report "$t" | tail -n +2 | tr -s ' ' | paste -sd ';')"

# 2. Drop policy: every proposal is wrong, so no echo reply may appear.
t="$SP_TMP/drop.trace"
sp_start --delegate icmp=llm --on-invalid drop --prompt-format raw --llm-error-rate 1.0 --trace "$t" \
    --pcap "$SP_TMP/drop.pcap" --stats
out=$(sp_in ping -n -c 10 -i 0.1 -W 1 "$SP_IP" 2>&1) || true
echo "$out" | grep -q "10 packets transmitted, 0 received" || sp_fail "drop: ping got answers: $(echo "$out" | tail -n 3)"
# A drop leaves nothing on the wire to wait for: wait for its record.
sp_wait_until "$SP_WAIT_S" "10 icmp decisions in the trace" sp_traced 10 "$t" --kind icmp ||
    sp_fail "drop: $($CHECK count "$t" --kind icmp 2>&1) icmp decisions traced, want 10"
sp_stop
$CHECK lint "$t" >/dev/null || sp_fail "drop: trace malformed"
n=$($CHECK count "$t" --kind icmp --action drop)
[ "$n" = 10 ] || sp_fail "drop: $n icmp drops traced, want 10: $(head -n 3 "$t")"
[ "$($CHECK count "$t" --kind icmp --verdict valid)" = 0 ] || sp_fail "drop: a valid verdict at error rate 1"
[ "$($CHECK count "$t" --kind icmp --verdict invalid)" -ge 1 ] || sp_fail "drop: no invalid verdict"
n=$(tshark -r "$SP_TMP/drop.pcap" -Y "icmp.type==0" 2>/dev/null | wc -l)
[ "$n" = 0 ] || sp_fail "drop: $n echo replies in the capture"
$CHECK stats "$SP_LOG" "$t" >/dev/null || sp_fail "drop: --stats counters differ from the trace"
sp_lint "$SP_TMP/drop.pcap"
sp_log "drop: 10 requests, 10 drops, no echo reply on the wire"
sp_log "PASS"
