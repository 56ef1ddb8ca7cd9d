# Shared set-up for integration tests: source it, then call sp_setup.
# Every test gets its own network namespace with a TAP device; slowpath runs inside it as
# 192.0.2.2/24, the namespace's kernel is 192.0.2.1/24 on the TAP. Everything is removed on exit,
# also on failure. Only documentation addresses are used.

set -euo pipefail

SP_BIN=${SP_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}
SP_SRC=${SP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SP_SHARED=${SP_SHARED:-$SP_SRC/../shared}
source "$SP_SRC/tools/lab.sh"
SP_IP=192.0.2.2
SP_PEER=192.0.2.1
SP_MAC=02:00:00:00:00:02
SP_NS=""
SP_PID=""
SP_TMP=""
SP_LOG=""

sp_log() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }
sp_fail() {
    sp_log "FAIL: $*"
    # The counters say where things went (SIGUSR1 prints them into the log). Only diagnostics:
    # when they do not come, the log is shown as it is.
    [ -n "$SP_PID" ] && [ -n "$SP_LOG" ] && { sp_counters || true; }
    [ -n "$SP_LOG" ] && [ -s "$SP_LOG" ] && tail -n 80 "$SP_LOG" >&2
    exit 1
}

# sp_log_has RE N: true when more than N lines of the log match RE.
sp_log_has() { [ "$(grep -c -- "$1" "$SP_LOG" 2>/dev/null || true)" -gt "$2" ]; }

# sp_counters [LAST-LINE-RE]: SIGUSR1 makes slowpath print its counters block into the log; waits
# until the block's line matching LAST-LINE-RE is there (a new one: the log may hold earlier
# blocks). The default is the block's header: the signal callback writes the rest right after it.
# With a model configured the block's last line is the client's ('^  llm client:'), which a
# caller reading the decision counters waits for. Returns 1 when slowpath is gone or silent.
sp_counters() {
    local re=${1:-'^slowpath counters:$'} before
    before=$(grep -c -- "$re" "$SP_LOG" 2>/dev/null || true)
    kill -USR1 "$SP_PID" 2>/dev/null || return 1
    sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "slowpath's counters after SIGUSR1" sp_log_has "$re" "$before"
}

# sp_gone: true when slowpath (SP_PID) is no longer running.
sp_gone() { ! kill -0 "$SP_PID" 2>/dev/null; }

# sp_on_exit CMD...: one more thing sp_cleanup undoes (a second namespace, a throw-away user),
# before the test's own namespace goes; a failing step does not stop the rest.
SP_ON_EXIT=()
sp_on_exit() { SP_ON_EXIT+=("$(printf '%q ' "$@")"); }
sp_del_ns() { ip netns pids "$1" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true; ip netns del "$1" 2>/dev/null || true; }

sp_cleanup() {
    local rc=$? step
    for step in "${SP_ON_EXIT[@]}"; do eval "$step" || true; done
    if [ -n "$SP_PID" ] && kill -0 "$SP_PID" 2>/dev/null; then
        kill -TERM "$SP_PID" 2>/dev/null || true
        # A grace period to exit cleanly; the test's status is already decided.
        sp_wait_until 10 "slowpath to exit on SIGTERM" sp_gone || kill -KILL "$SP_PID" 2>/dev/null || true
    fi
    [ -n "$SP_NS" ] && sp_del_ns "$SP_NS"
    [ -n "$SP_TMP" ] && rm -rf "$SP_TMP"
    exit $rc
}

# sp_setup NAME: makes namespace sp-NAME-PID with tap0 = 192.0.2.1/24, and a temp dir.
sp_setup() {
    [ "$(id -u)" -eq 0 ] || sp_fail "needs root (network namespaces)"
    [ -x "$SP_BIN/slowpath" ] || sp_fail "no slowpath binary in $SP_BIN"
    SP_NS="sp-$1-$$"
    SP_TMP=$(mktemp -d "/tmp/sp-$1.XXXXXX")
    SP_LOG="$SP_TMP/slowpath.log"
    trap sp_cleanup EXIT
    trap 'exit 130' INT TERM
    sp_lab_tap "$SP_NS"
}

# sp_in CMD...: runs CMD inside the namespace.
sp_in() { ip netns exec "$SP_NS" "$@"; }

# sp_start [ARGS...]: starts slowpath on tap0 with ARGS and waits until it answers ARP.
sp_start() {
    # Not through sp_in: $! must be slowpath itself (ip netns exec execs it), not a subshell.
    ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tap tap0 --ip "$SP_IP/24" --mac "$SP_MAC" "$@" >"$SP_TMP/slowpath.out" 2>"$SP_LOG" &
    SP_PID=$!
    # A deadline, not a number of tries: on a busy machine start-up and each arping take longer.
    sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "slowpath to answer ARP" sp_answers_arp "$SP_NS" "$SP_IP" ||
        sp_fail "slowpath did not come up (exited, or no ARP answer in $SP_WAIT_S s)"
}

# sp_setup_tun NAME: as sp_setup, with the TUN layout instead (sp_lab_tun: tun0, the kernel
# 192.0.2.1 with peer 192.0.2.2, no ARP); then sp_start_tun.
sp_setup_tun() {
    [ "$(id -u)" -eq 0 ] || sp_fail "needs root (network namespaces)"
    [ -x "$SP_BIN/slowpath" ] || sp_fail "no slowpath binary in $SP_BIN"
    SP_NS="sp-$1-$$"
    SP_TMP=$(mktemp -d "/tmp/sp-$1.XXXXXX")
    SP_LOG="$SP_TMP/slowpath.log"
    trap sp_cleanup EXIT
    trap 'exit 130' INT TERM
    sp_lab_tun "$SP_NS"
}

# sp_start_tun [ARGS...]: starts slowpath on tun0 with ARGS and waits until it answers a ping.
sp_start_tun() {
    ip netns exec "$SP_NS" "$SP_BIN/slowpath" --tun tun0 --ip "$SP_IP/24" "$@" >"$SP_TMP/slowpath.out" 2>"$SP_LOG" &
    SP_PID=$!
    sp_wait_until -p "$SP_PID" "$SP_WAIT_S" "slowpath to answer a ping on tun0" sp_answers_ping "$SP_NS" "$SP_IP" ||
        sp_fail "slowpath did not come up on tun0 (exited, or no ping answered in $SP_WAIT_S s)"
}

# sp_stop: SIGTERM, and the exit status must be 0 (sanitizer reports make it non-zero).
sp_stop() {
    [ -n "$SP_PID" ] || return 0
    kill -TERM "$SP_PID"
    local rc=0
    wait "$SP_PID" || rc=$?
    SP_PID=""
    [ "$rc" -eq 0 ] || sp_fail "slowpath exited with status $rc"
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SP_LOG"; then
        sp_fail "sanitizer report in the log"
    fi
}

# sp_lint PCAP: every frame slowpath sent passes the shared pcap-lint.
sp_lint() {
    local out
    out=$("$SP_SHARED/tools/pcap-lint" "$1" "ip.src==$SP_IP || arp.src.proto_ipv4==$SP_IP") ||
        sp_fail "pcap-lint: $out"
    sp_log "$(printf '%s\n' "$out" | tail -n 1)"
}

# sp_start_sim [llm-sim flags]: starts llm-sim on the namespace's loopback (it wants the key
# sp-test-key, which the tests export as a placeholder) and sets SIM_PORT.
SIM_PID="" SIM_PORT=""
sp_start_sim() {
    ip netns exec "$SP_NS" "$SP_BIN/llm-sim" --listen 127.0.0.1:0 --require-key sp-test-key "$@" >"$SP_TMP/sim.out" 2>"$SP_TMP/sim.log" &
    SIM_PID=$!
    disown "$SIM_PID"   # cleanup kills it with the namespace; no job notice
    # It prints the port once it listens.
    sp_wait_until -p "$SIM_PID" "$SP_WAIT_S" "llm-sim to say where it listens" sp_sim_port ||
        sp_fail "llm-sim did not start: $(cat "$SP_TMP/sim.log")"
}
# sp_sim_port: true once llm-sim has printed its port; sets SIM_PORT.
sp_sim_port() {
    SIM_PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$SP_TMP/sim.out")
    [ -n "$SIM_PORT" ]
}

# sp_traced MIN TRACE [llm_check count filters...]: true when TRACE holds at least MIN decisions
# matching the filters. A record is written once the stack has acted on the decision, which can
# be after the reply a client saw (a shadow grade, a fallback at the deadline): wait with this.
sp_traced() {
    local min=$1 n
    shift
    # A missing file or a line being written makes count fail: not there yet.
    n=$(/usr/bin/python3 "$SP_SRC/tests/integration/llm_check.py" count "$@" 2>/dev/null) || return 1
    [ "$n" -ge "$min" ]
}
