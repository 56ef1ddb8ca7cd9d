#!/usr/bin/env bash
# Decisions answered by a model over HTTP: llm-sim runs inside the namespace on its loopback and
# slowpath asks it in the Anthropic and the OpenAI wire format (one prompt format each way round).
# ping, arping and curl's handshake (the SYN-ACK of slowpath's HTTP service) are answered through
# the model: every reply arrives, the trace records a valid llm decision per request with the
# provider and model, each frame number it names is that echo reply / ARP reply / SYN-ACK in the
# capture, and the --stats counters equal the trace's. Then shadow mode: native answers, graded in
# the trace.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/llm_check.py"
# A placeholder key: slowpath wants one for Anthropic, llm-sim checks that it is the one sent.
export ANTHROPIC_API_KEY=sp-test-key OPENAI_API_KEY=sp-test-key
sp_setup llmhttp

sp_start_sim

# run_provider PROVIDER URL FORMAT
run_provider() {
    local prov=$1 url=$2 fmt=$3 out n t="$SP_TMP/$1.trace" pcap="$SP_TMP/$1.pcap"
    local model="test-model-$prov"
    sp_start --delegate icmp=llm,arp=llm,tcp=llm --llm "$prov" --llm-url "$url" --model "$model" \
        --prompt-format "$fmt" --trace "$t" --pcap "$pcap" --stats
    out=$(sp_in ping -n -c 5 -i 0.2 -W 3 "$SP_IP" 2>&1) || true
    echo "$out" | grep -q " 5 received" || sp_fail "$prov ping: $(echo "$out" | tail -n 3)"
    # One run per request (-f: until the first reply; -c would stop waiting once its last
    # request is out, and arping's interval is whole seconds).
    for i in 1 2 3; do
        out=$(sp_in arping -f -w 5 -I tap0 "$SP_IP" 2>&1) || true
        echo "$out" | grep -q "Received 1 response" || sp_fail "$prov arping $i: $out"
        echo "$out" | grep -qi "$SP_MAC" || sp_fail "$prov arping answered with another MAC: $out"
    done
    out=$(sp_in curl -sS --max-time 20 -o "$SP_TMP/page" -w '%{http_code}' "http://$SP_IP/" 2>&1) || true
    [ "$out" = 200 ] && [ -s "$SP_TMP/page" ] || sp_fail "$prov curl: $out"
    sp_stop

    $CHECK lint "$t" >/dev/null || sp_fail "$prov: trace malformed"
    # Every record is this provider's valid answer, emitted as is.
    n=$($CHECK count "$t") || sp_fail "$prov: count"
    [ "$($CHECK count "$t" --verdict valid --action llm --provider "$prov" --model "$model" --format "$fmt")" = "$n" ] ||
        sp_fail "$prov: not every decision is a valid $fmt llm answer from $prov/$model: $(head -n 3 "$t")"
    [ "$($CHECK count "$t" --kind icmp)" -ge 5 ] || sp_fail "$prov: fewer than 5 icmp decisions"
    # arping's 3 requests plus sp_start's readiness probes; the kernel may add a probe of its own.
    [ "$($CHECK count "$t" --kind arp)" -ge 3 ] || sp_fail "$prov: fewer than 3 arp decisions"
    $CHECK frames "$t" "$pcap" --kind icmp --action llm --expect icmp-reply --me "$SP_IP" >/dev/null ||
        sp_fail "$prov: icmp frame numbers"
    $CHECK frames "$t" "$pcap" --kind arp --action llm --expect arp-reply --me "$SP_IP" >/dev/null ||
        sp_fail "$prov: arp frame numbers"
    [ "$($CHECK count "$t" --kind tcp)" = 1 ] || sp_fail "$prov: want one tcp decision (curl's SYN)"
    $CHECK frames "$t" "$pcap" --kind tcp --action llm --expect syn-ack --me "$SP_IP" >/dev/null ||
        sp_fail "$prov: tcp frame number"
    $CHECK replies "$pcap" "$SP_IP" "$SP_PEER" >/dev/null || sp_fail "$prov: echo replies differ from the requests"
    $CHECK stats "$SP_LOG" "$t" >/dev/null || sp_fail "$prov: --stats counters differ from the trace"
    sp_lint "$pcap"
    sp_log "$prov ($fmt): ping 5/5, arping 3/3, curl 200; $n valid llm decisions, frames are the replies"
}
run_provider anthropic "http://127.0.0.1:$SIM_PORT" structured
run_provider openai "http://127.0.0.1:$SIM_PORT/v1" raw

# Shadow: the stack answers natively at once and still asks; the trace grades each answer.
t="$SP_TMP/shadow.trace"
sp_start --delegate icmp=shadow --llm openai --llm-url "http://127.0.0.1:$SIM_PORT/v1" --trace "$t" \
    --pcap "$SP_TMP/shadow.pcap"
out=$(sp_in ping -n -c 5 -i 0.2 -W 3 "$SP_IP" 2>&1) || true
echo "$out" | grep -q " 5 received" || sp_fail "shadow ping: $(echo "$out" | tail -n 3)"
# Each grade is traced when the model's answer arrives, after the native reply ping already has.
sp_wait_until "$SP_WAIT_S" "5 shadow grades in the trace" sp_traced 5 "$t" --kind icmp ||
    sp_fail "shadow: $($CHECK count "$t" --kind icmp 2>&1) icmp decisions traced, want 5"
sp_stop
$CHECK lint "$t" >/dev/null || sp_fail "shadow: trace malformed"
n=$($CHECK count "$t" --kind icmp --action shadow --verdict valid)
[ "$n" -ge 5 ] || sp_fail "shadow: $n valid shadow grades, want >= 5: $(head -n 3 "$t")"
[ "$($CHECK count "$t" --kind icmp --action llm)" = 0 ] || sp_fail "shadow: a shadow answer was emitted"
m=$(grep -c '"shadow_match":true' "$t" || true)
[ "$m" = "$($CHECK count "$t")" ] || sp_fail "shadow: $m of the correct sim's answers match the native ones"
n=$(tshark -r "$SP_TMP/shadow.pcap" -Y "icmp.type==0 && ip.src==$SP_IP" 2>/dev/null | wc -l)
[ "$n" = 5 ] || sp_fail "shadow: $n echo replies in the capture, want 5 (one each, no duplicate)"
sp_lint "$SP_TMP/shadow.pcap"
sp_log "shadow: 5 native replies, $n valid grades matching them, nothing emitted from the model"
sp_log "PASS"
