# Shared by the flood tests and the soak (tools/soak.sh): the daemon's memory and descriptors
# sampled from /proc, its counters read back from the log, and the liveness checks a flood must
# not break. Source it after lib.sh.

SP_TOOLS="$SP_SRC/tools"
PY=/usr/bin/python3   # Debian's: the one the namespace tools are written for

# Milliseconds since the epoch, without a fork (bash 5's EPOCHREALTIME).
sp_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo "${t:0:-3}"; }

# sp_is_asan: slowpath is an AddressSanitizer build. Its RSS then holds shadow memory and a
# quarantine of freed blocks, so memory caps are scaled for it (sp_mem_scale).
# (Not ldd | grep -q: grep's early exit would make ldd die of SIGPIPE, and pipefail report it.)
sp_is_asan() { [[ $(ldd "$SP_BIN/slowpath" 2>/dev/null) == *libasan* ]]; }
# The factor memory caps are multiplied by: 1, or 4 under ASan (measured there: 16 MB at rest and
# 54 MB with 1,000 TCP connections open, against 9 and 18 MB in a normal build).
sp_mem_scale() { if sp_is_asan; then echo 4; else echo 1; fi; }
if sp_is_asan; then
    # ASan holds freed blocks in a quarantine of up to 256 MB, which fills under a flood or a long
    # run and reads as growth; a small one shows the daemon's own plateau (and still catches a
    # use after a recent free).
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
fi

# sp_rss_kb [PID]: resident memory (VmRSS) in kB; sp_fd_count [PID]: open descriptors.
sp_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/${1:-$SP_PID}/status" 2>/dev/null; }
sp_fd_count() { find "/proc/${1:-$SP_PID}/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sp_mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# sp_sampler_start FILE [INTERVAL_S]: appends "MS RSS_KB FDS" for slowpath (SP_PID) to FILE every
# INTERVAL_S seconds (default 0.1) in the background, until slowpath exits: a sampling period,
# not a wait for something to happen. Builtins but for the sleep: on a busy machine forks would
# both stretch the sampling period and take CPU from the floods.
sp_sampler_start() {
    local file=$1 interval=${2:-0.1} pid=$SP_PID
    (
        while kill -0 "$pid" 2>/dev/null; do
            rss="" fds=()
            while read -r key val _; do
                [ "$key" = VmRSS: ] && { rss=$val; break; }
            done <"/proc/$pid/status" 2>/dev/null || true
            fds=("/proc/$pid/fd/"*)
            t=${EPOCHREALTIME/[.,]/}
            [ -n "$rss" ] && printf '%s %s %s\n' "${t:0:-3}" "$rss" "${#fds[@]}" >>"$file"
            sleep "$interval"
        done
    ) &
    disown $!
}
# sp_peak_kb FILE FROM_MS TO_MS: the largest RSS sampled in [FROM_MS, TO_MS].
sp_peak_kb() { awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b && $2 > m {m = $2} END {print m + 0}' "$1"; }
# sp_peak_fds FILE FROM_MS TO_MS: the most descriptors sampled in [FROM_MS, TO_MS].
sp_peak_fds() { awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b && $3 > m {m = $3} END {print m + 0}' "$1"; }

# sp_snapshot FILE: the counters as "name value" lines in FILE, and the whole block (with the
# decision figures when a model is configured) in FILE.block. SIGUSR1 twice: a block is known to
# be whole once the next one's header is in the log (stderr is unbuffered: a reader could catch a
# block half written), so the next-to-last block is read.
sp_snapshot() {
    sp_counters && sp_counters || sp_fail "no counters from slowpath"
    local n
    n=$(grep -c '^slowpath counters:$' "$SP_LOG")
    awk -v want=$((n - 1)) '/^slowpath counters:$/ {b++} b == want' "$SP_LOG" >"$1.block"
    awk '/^  [a-z0-9_]+ +[0-9]+$/ {print $1, $2}' "$1.block" >"$1"
}
# sp_get FILE NAME: a counter from a snapshot (0: not printed, counters at 0 are left out).
sp_get() { awk -v n="$2" '$1 == n {v = $2} END {print v + 0}' "$1"; }
# sp_delta BEFORE AFTER NAME: how much counter NAME moved between two snapshots.
sp_delta() { echo $(($(sp_get "$2" "$3") - $(sp_get "$1" "$3"))); }
# sp_drops BEFORE AFTER: every drop counter that moved, "drop_x +N, ...", or "none".
sp_drops() {
    awk 'NR == FNR {b[$1] = $2; next} $1 ~ /^drop_/ && $2 > b[$1] {printf "%s%s +%d", s, $1, $2 - b[$1]; s = ", "}
         END {if (!s) printf "none"}' "$1" "$2"
}
# sp_decision_lines FILE KIND: from snapshot FILE, the line "KIND asked ..." and, when the pending
# table overflowed or requests joined, the line after it with those figures.
sp_decision_lines() {
    awk -v k="$2" '$1 == k && $2 == "asked" {print; getline m; if (m ~ /repeats joined/) print m}' "$1.block"
}
# sp_pending_full FILE KIND: requests of KIND answered natively because the pending table was full.
sp_pending_full() {
    sp_decision_lines "$1" "$2" | sed -n 's/.*pending table full \([0-9]*\).*/\1/p' | grep . || echo 0
}
# sp_asked FILE KIND: decisions of KIND asked of the model.
sp_asked() { sp_decision_lines "$1" "$2" | sed -n 's/^ *[a-z]* asked \([0-9]*\),.*/\1/p' | grep . || echo 0; }
# sp_llm_client_line FILE: the snapshot's "llm client:" line.
sp_llm_client_line() { grep '^  llm client:' "$1.block" | sed 's/^  //'; }

# sp_tap_dropped: frames the kernel dropped on the TAP because slowpath had not read its queue.
sp_tap_dropped() { sp_in cat /sys/class/net/tap0/statistics/tx_dropped; }

# sp_ping_received COUNT [PING ARGS...]: pings slowpath COUNT times (0.2 s apart, 1 s each) and
# prints how many replies came.
sp_ping_received() {
    local count=$1 out
    shift
    out=$(sp_in ping -n -q -c "$count" -i 0.2 -W 1 "$@" "$SP_IP" 2>&1) || true
    echo "$out" | sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' | grep . || echo 0
}
# sp_curl [MAX_S]: fetches the status page; prints "HTTP_CODE SECONDS" (000 when it failed).
sp_curl() {
    sp_in curl -s -o /dev/null -m "${1:-10}" -w '%{http_code} %{time_total}' "http://$SP_IP/" 2>/dev/null || true
}
