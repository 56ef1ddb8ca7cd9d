#!/usr/bin/env bash
# A pending decision never blocks the packet loop. One kind is delegated to a slow model
# (in-process sim, --llm-latency-ms 12000: ample for a 2000-ping flood even on a busy machine) and
# ICMP stays native; a request of that kind is parked
# (curl's SYN for tcp; an arping for arp, the kernel being given slowpath's MAC as a permanent
# neighbour so that its pings need no ARP), and while it is pending a `ping -f -c 2000` on another
# flow runs to the end, 2000/2000. The only timing asserted is the order: the flood is over
# (checked through the daemon's own counters, SIGUSR1, and the trace time of the decision, wall
# clock) before the pending decision completes; then that request is answered by the model.
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/llm_check.py"
sp_setup llmasync
t="$SP_TMP/async.trace"

usr1() {   # usr1: makes slowpath print its counters and waits until the block is complete
    # The llm client's line is the last of a block when a model is configured.
    sp_counters '^  llm client:' || sp_fail "SIGUSR1 printed no complete counters block"
}
answers_ping() { sp_in ping -n -c 1 -W 1 "$SP_IP" >/dev/null 2>&1; }
asked() {   # asked KIND: the daemon's counters say the KIND decision was asked
    usr1
    [ "$($CHECK counter "$SP_LOG" "$1" asked 2>/dev/null || echo 0)" -ge 1 ]
}

sp_in ip neigh replace "$SP_IP" lladdr "$SP_MAC" dev tap0 nud permanent

run_case() {   # run_case KIND
    local kind=$1 client_pid out v d
    t="$SP_TMP/$kind.trace"
    SP_LOG="$SP_TMP/$kind.log"
    # Not sp_start: it waits for ARP answers, which would themselves wait for the model.
    ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" --delegate "$kind=llm" \
        --llm-latency-ms 12000 --llm-timeout 30000 --trace "$t" --stats >"$SP_TMP/slowpath.out" 2>"$SP_LOG" &
    SP_PID=$!
    sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "slowpath to answer ping" answers_ping ||
        sp_fail "slowpath did not come up (exited, or no ping answer in $SP_WAIT_S s)"

    # The pending decision (repeats of the request join it).
    if [ "$kind" = arp ]; then
        sp_in arping -f -w 40 -I tap0 "$SP_IP" >"$SP_TMP/client.out" 2>&1 &
    else
        sp_in curl -sS --max-time 40 -o "$SP_TMP/page" "http://$SP_IP/" >"$SP_TMP/client.out" 2>&1 &
    fi
    client_pid=$!
    sp_wait_until "$SP_WAIT_S" "the $kind decision to be asked" asked "$kind" ||
        sp_fail "$kind: the decision was never asked"
    [ "$($CHECK counter "$SP_LOG" "$kind" valid)" = 0 ] || sp_fail "$kind: the decision completed before the flood began"

    out=$(sp_in ping -n -q -f -c 2000 -W 2 "$SP_IP" 2>&1) || true
    flood_end=$(date +%s.%N)
    usr1
    echo "$out" | grep -q "2000 packets transmitted, 2000 received" || sp_fail "$kind: flood: $(echo "$out" | tail -n 2)"
    # Still pending when the flood was over: no verdict counted. (Whether it was traced by then is
    # checked below from the record's time: counting records now would also see a decision that
    # completed after the flood, while a busy machine ran the checks.)
    v=$($CHECK counter "$SP_LOG" "$kind" valid)
    [ "$v" = 0 ] || sp_fail "$kind: the decision completed before the flood ended (valid=$v): the flood was slow, or waited"
    sp_log "$kind: ping -f 2000/2000 while the $kind decision was pending: $(echo "$out" | tail -n 1)"

    wait "$client_pid" || sp_fail "$kind: client failed: $(cat "$SP_TMP/client.out")"
    if [ "$kind" = arp ]; then
        grep -q "Received 1 response" "$SP_TMP/client.out" || sp_fail "arping: $(cat "$SP_TMP/client.out")"
    else
        [ -s "$SP_TMP/page" ] || sp_fail "curl got an empty page"
    fi
    sp_stop
    $CHECK lint "$t" >/dev/null || sp_fail "$kind: trace malformed"
    [ "$($CHECK count "$t" --kind "$kind" --verdict valid --action llm)" = 1 ] ||
        sp_fail "$kind: want one valid llm decision: $(cat "$t")"
    [ "$($CHECK count "$t" --kind icmp)" = 0 ] || sp_fail "$kind: icmp was native, yet traced"
    # The trace's time of the decision (wall clock) is after the flood's end.
    d=$($CHECK after "$t" "$kind" "$flood_end") || sp_fail "$kind: trace time of the decision"
    sp_log "$kind: the decision was traced $d s after the flood ended, then answered"
}
run_case arp
run_case tcp
sp_log "PASS"
