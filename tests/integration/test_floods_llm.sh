#!/usr/bin/env bash
# Floods with every decision delegated to a model that never answers: llm-sim stalls every request
# (--fault stall:1), the daemon delegates icmp, arp and tcp (--llm anthropic, then --llm openai,
# through HTTP) with a 0.5 s deadline and the native fallback. Echo requests with 4,096 sequence
# numbers, an ARP storm from 4,096 MACs (both 5,000 frames/s, 200 in an ASan build) and 200
# TCP connections at once would each park a decision: the pending table (SP_DECISION_PENDING, 64)
# must stay bounded (the overflow answered natively at once, counted as "pending table full"),
# native traffic (UDP echo, never delegated) must keep flowing, memory must stay flat, and every
# parked request must end at its deadline. Prints per provider the rates, the decision figures
# and the peak RSS.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/flood_lib.sh"
# Placeholders: slowpath wants a key per provider, llm-sim checks that it is the one sent.
export ANTHROPIC_API_KEY=sp-test-key OPENAI_API_KEY=sp-test-key
sp_setup floodsllm
sp_start_sim --fault stall:1
SCALE=$(sp_mem_scale)
FLOOD_S=${SP_FLOOD_SECONDS:-3}
# The model's deadline: under the 1 s an arping waits, so that sp_start's readiness check (one
# arping at a time, each a new delegated ARP request) sees the fallback answer.
TIMEOUT_MS=500
PENDING=64   # SP_DECISION_PENDING in include/slowpath/opts.h
# Frames per second of each flood: far past what the table holds (64 per deadline) either way. An
# ASan build takes each delegated request (the decider's prompt, the request's body, the refusal
# or the fallback) several times slower (measured: 200 + 200 frames/s take 18 % of a core there,
# 5,000 + 5,000 22 % in a normal build); on a busy 2-core machine 5,000 starve it and the TAP's
# queue drops every kind of frame alike, the UDP probe's too. 200 still overflows the table.
PPS=${SP_FLOOD_PPS:-$(if sp_is_asan; then echo 200; else echo 5000; fi)}

# in_ns TOOL ARGS: runs a tools/ script in the namespace.
in_ns() { ip netns exec "$SP_NS" $PY "$SP_TOOLS/$1" "${@:2}"; }
# bg VAR NAME TOOL ARGS: starts a tools/ script in the namespace in the background, its output
# in $SP_TMP/NAME.out, and sets VAR to its pid: the script's own, since ip netns exec execs it
# (SIGTERM must reach the script, not a subshell).
bg() {
    local var=$1 name=$2 tool=$3
    shift 3
    ip netns exec "$SP_NS" $PY "$SP_TOOLS/$tool" "$@" >"$SP_TMP/$name.out" 2>&1 &
    printf -v "$var" '%s' "$!"
}

# ran_for T0 S: S seconds have passed since T0 (ms).
ran_for() { [ $(($(sp_now_ms) - $1)) -ge $(($2 * 1000)) ]; }
json_field() { $PY -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }
# one_ping: a single echo request answered (a parked one gets the fallback at the deadline).
one_ping() { [ "$(sp_in ping -n -q -c 1 -W 3 "$SP_IP" 2>/dev/null | sed -n 's/.* \([0-9]*\) received.*/\1/p')" = 1 ]; }

run_provider() {
    local provider=$1 url=$2 samples="$SP_TMP/samples-$1" B="$SP_TMP/c-$1-before" A="$SP_TMP/c-$1-after"
    local t0 t1 rss0 fds0 icmp_pid arp_pid hold_pid probe_pid probe base tap0 tapdrop
    sp_start --delegate icmp=llm,arp=llm,tcp=llm --llm "$provider" --llm-url "$url" \
        --llm-timeout "$TIMEOUT_MS" --stats
    sp_sampler_start "$samples" 0.1
    # The kernel resolves slowpath's address first: its ARP answer is delegated, so it comes at
    # the deadline, after the probe's first datagrams would have given up.
    sp_wait_until "$SP_WAIT_S" "a first ping answered" one_ping || sp_fail "$provider: no first ping answered"
    rss0=$(sp_rss_kb) fds0=$(sp_fd_count)
    # Native traffic before: the reference the flood is compared with.
    base=$(in_ns udp_probe.py "$SP_IP" 7 --seconds 1 --interval-ms 20 --timeout-ms 500 | tail -n 1)
    [ "$(json_field "$base" answered)" = "$(json_field "$base" sent)" ] ||
        sp_fail "$provider: UDP echo before the flood: $base"
    sp_snapshot "$B"
    tap0=$(sp_tap_dropped)

    bg probe_pid "probe-$provider" udp_probe.py "$SP_IP" 7 --seconds 30 --interval-ms 20 --timeout-ms 500
    bg icmp_pid "icmp-$provider" flood.py icmp --ids 1 --pool 4096 --pps "$PPS" --seconds 20 --count 200000
    # 4,096 MACs (each request its own decision) on 32 addresses: fewer than the neighbour cache's
    # 64 entries, so the storm does not evict the kernel's own entry, which test_floods covers;
    # here the echoes must not wait on ARP.
    bg arp_pid "arp-$provider" flood.py arp --senders 4096 --sender-ips 32 --pps "$PPS" --seconds 20 --count 200000
    # Handshakes whose SYN-ACK is delegated: each parks until the deadline, or is answered
    # natively when the table is full.
    bg hold_pid "hold-$provider" conn_hold.py "$SP_IP" 7 --conns 200 --parallel 100 --open-seconds "$FLOOD_S" \
        --hold-seconds 30
    # The clock starts once all are going (a busy machine takes a while to start Python).
    for f in probe icmp arp; do
        sp_wait_until "$SP_WAIT_S" "the $f flood to start" grep -q '"started"' "$SP_TMP/$f-$provider.out" ||
            sp_fail "$provider: $f did not start: $(cat "$SP_TMP/$f-$provider.out")"
    done
    t0=$(sp_now_ms)
    sp_wait_until "$SP_WAIT_S" "$FLOOD_S s of floods" ran_for "$t0" "$FLOOD_S" || true
    kill -TERM "$icmp_pid" "$arp_pid" "$probe_pid" 2>/dev/null || true
    wait "$icmp_pid" || sp_fail "$provider: icmp flood: $(cat "$SP_TMP/icmp-$provider.out")"
    wait "$arp_pid" || sp_fail "$provider: arp flood: $(cat "$SP_TMP/arp-$provider.out")"
    wait "$probe_pid" || sp_fail "$provider: udp probe: $(cat "$SP_TMP/probe-$provider.out")"
    sp_wait_until -p "$hold_pid" "$SP_WAIT_S" "conn_hold.py to say how many it opened" \
        grep -q '"opened"' "$SP_TMP/hold-$provider.out" ||
        sp_fail "$provider: conn_hold.py: $(cat "$SP_TMP/hold-$provider.out")"
    kill -TERM "$hold_pid" 2>/dev/null || true
    wait "$hold_pid" || sp_fail "$provider: conn_hold.py failed"
    t1=$(sp_now_ms)

    # Every parked request ends at its deadline: a new one is answered (by the fallback) after it.
    sp_wait_until "$SP_WAIT_S" "a delegated ping answered after the flood" one_ping ||
        sp_fail "$provider: no ping answered after the flood"
    sp_snapshot "$A"
    tapdrop=$(($(sp_tap_dropped) - tap0))
    local secs peak fdpeak icmp arp hold icmp_full arp_full tcp_full asked client asks busy out bound sent answered
    secs=$(((t1 - t0 + 999) / 1000))
    peak=$(sp_peak_kb "$samples" "$t0" "$t1")
    fdpeak=$(sp_peak_fds "$samples" "$t0" "$t1")
    icmp=$(tail -n 1 "$SP_TMP/icmp-$provider.out")
    arp=$(tail -n 1 "$SP_TMP/arp-$provider.out")
    hold=$(grep '"opened"' "$SP_TMP/hold-$provider.out")
    probe=$(tail -n 1 "$SP_TMP/probe-$provider.out")
    icmp_full=$(sp_pending_full "$A" icmp) arp_full=$(sp_pending_full "$A" arp) tcp_full=$(sp_pending_full "$A" tcp)
    asked=$(($(sp_asked "$A" icmp) + $(sp_asked "$A" arp) + $(sp_asked "$A" tcp)))

    # Bounded: the table overflowed (the overflow answered natively at once), the client refused
    # asks past its in-flight limit (--llm-max-inflight, 64 like the table: error:busy, the
    # fallback at once), and the asks that went out were no more than the limit per deadline
    # (each stalls until the deadline ends it), plus those of the seconds around the flood.
    [ "$icmp_full" -gt 0 ] && [ "$arp_full" -gt 0 ] ||
        sp_fail "$provider: the pending table never overflowed (icmp $icmp_full, arp $arp_full): $(cat "$A.block")"
    client=$(sp_llm_client_line "$A")
    asks=$(echo "$client" | sed -n 's/.* asks \([0-9]*\),.*/\1/p')
    busy=$(echo "$client" | sed -n 's/.* busy \([0-9]*\),.*/\1/p')
    out=$((asks - busy))
    bound=$((PENDING * (secs + 3) * 1000 / TIMEOUT_MS))
    [ "$out" -le "$bound" ] ||
        sp_fail "$provider: $out requests went to the model in $secs s, more than $bound: $client"
    # Native traffic kept flowing: UDP echo answered as before, fast.
    sent=$(json_field "$probe" sent) answered=$(json_field "$probe" answered)
    # (Most, not all: on a busy shared machine a starved daemon lets the TAP's queue overflow.)
    [ "$sent" -ge $((FLOOD_S * 5)) ] && [ "$answered" -ge $((sent * 80 / 100)) ] ||
        sp_fail "$provider: UDP echo during the flood: $probe"
    # Memory flat, descriptors bounded (one connection to the model per request in flight).
    [ "$peak" -le $((rss0 + 16 * 1024 * SCALE)) ] && [ "$peak" -le $((64 * 1024 * SCALE)) ] ||
        sp_fail "$provider: peak RSS $(sp_mb "$peak") MB, $(sp_mb "$rss0") MB before"
    [ "$fdpeak" -le $((fds0 + PENDING + 16)) ] || sp_fail "$provider: $fdpeak descriptors open, $fds0 before"

    sp_log "$provider: echo flood $(json_field "$icmp" pps)/s ($(json_field "$icmp" sent) frames)," \
        "ARP storm $(json_field "$arp" pps)/s ($(json_field "$arp" sent))," \
        "TCP $(json_field "$hold" opened) of 200 handshakes done," \
        "for $secs s; $asked decisions parked, answered natively with the table full:" \
        "icmp $icmp_full, arp $arp_full, tcp $tcp_full; $out requests to the model (bound $bound)," \
        "$busy refused past the in-flight limit; slowpath received $(sp_delta "$B" "$A" rx_frames) frames," \
        "the TAP's queue dropped $tapdrop; drops: $(sp_drops "$B" "$A")"
    sp_log "$provider: $client"
    sp_log "$provider: UDP echo during: $answered/$sent answered, p50 $(json_field "$probe" p50_ms) ms," \
        "p99 $(json_field "$probe" p99_ms) ms (before: p50 $(json_field "$base" p50_ms) ms);" \
        "RSS $(sp_mb "$rss0") MB before, peak $(sp_mb "$peak") MB, after $(sp_mb "$(sp_rss_kb)") MB;" \
        "descriptors $fds0 before, peak $fdpeak, after $(sp_fd_count)"
    sp_stop
}

run_provider anthropic "http://127.0.0.1:$SIM_PORT"
run_provider openai "http://127.0.0.1:$SIM_PORT/v1"
sp_log "PASS"
