#!/usr/bin/env bash
# Soak: one slowpath daemon under mixed traffic for a bounded time, its resident memory and open
# descriptors sampled every few seconds; fails when either grows without bound, or when traffic
# stops being answered. Runs as root in a namespace it makes and removes.
#
#   tools/soak.sh [--minutes N] [--interval S] [--out DIR]      (default 10 minutes, 2 s, a new
#                                                               /tmp/slowpath-soak.XXXXXX)
#
# The traffic: ping every 0.2 s, UDP echo every 50 ms (one in ten datagrams fragmented), the status
# page every 0.25 s, long TCP transfers through echo (64 KB..1 MB, compared) and discard
# (256 KB..2 MB), the kernel's ARP entry for slowpath flushed every 5 s (tools/soak_traffic.py).
# Echo replies, ARP replies and TCP handshakes are delegated to llm-sim over HTTP, which answers
# 429, 500, 529, resets, stalls, slow answers and wrong answers now and then (the native fallback
# covers them); slowpath itself drops 1 % of the frames and corrupts 0.5 % both ways.
#
# Bounded growth: the largest sample of the last third of the run may exceed the largest of the
# first third by 10 % plus 4 MB (RSS) or 16 (descriptors: connections to the model come and go),
# and never pass 64 MB or 256 descriptors (scaled for an AddressSanitizer build). Results in DIR:
# samples.dat (seconds, RSS kB, descriptors), soak.png (gnuplot), summary.txt.
# SP_BIN picks the build (default build/bin).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=10 INTERVAL=2 OUT=""
while [ $# -gt 0 ]; do
    case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
SECS=$(awk -v m="$MINUTES" 'BEGIN {s = int(m * 60 + 0.5); if (s < 30 || s > 24 * 3600) exit 1; print s}') ||
    { echo "soak: --minutes from 0.5 to 1440" >&2; exit 2; }
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/slowpath-soak.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/flood_lib.sh"
for tool in gnuplot tshark; do
    command -v "$tool" >/dev/null || { echo "soak: $tool missing (tools/install-deps.sh)" >&2; exit 1; }
done
SCALE=$(sp_mem_scale)   # flood_lib.sh also keeps an ASan build's quarantine small
export ANTHROPIC_API_KEY=sp-test-key   # a placeholder, checked by llm-sim
sp_setup soak

sp_start_sim --seed 11 --latency-ms 2 --error-rate 0.05 --fault 429:0.05 --fault 500:0.02 --fault 529:0.01 \
    --fault reset:0.02 --fault stall:0.01 --fault slow:0.02 --slow-ms 300 --retry-after-ms 50
sp_start --delegate icmp=llm,arp=llm,tcp=llm --llm anthropic --llm-url "http://127.0.0.1:$SIM_PORT" \
    --llm-timeout 2000 --drop-chance 0.01 --corrupt-chance 0.005 --seed 11 --stats
SAMPLES="$SP_TMP/samples"
sp_sampler_start "$SAMPLES" "$INTERVAL"
T0=$(sp_now_ms)
sp_log "slowpath pid $SP_PID up; ${SECS} s of traffic, samples every ${INTERVAL} s, results in $OUT"

ip netns exec "$SP_NS" ping -n -q -i 0.2 -W 2 -w "$SECS" "$SP_IP" >"$SP_TMP/ping.out" 2>&1 &
PING_PID=$!
ip netns exec "$SP_NS" $PY "$SP_TOOLS/soak_traffic.py" "$SP_IP" --seconds "$SECS" --seed 11 \
    >"$SP_TMP/traffic.out" 2>"$SP_TMP/traffic.err" &
TRAFFIC_PID=$!

# Progress once a minute; the run ends when the traffic does (its own deadline).
progress() {
    local now=$SECONDS
    if [ $((now - LAST_PROGRESS)) -ge 60 ]; then
        LAST_PROGRESS=$now
        sp_log "$(((now - START_S) / 60)) min: RSS $(sp_mb "$(sp_rss_kb)") MB, $(sp_fd_count) descriptors;" \
            "$(tail -n 1 "$SP_TMP/traffic.out" 2>/dev/null)"
    fi
    ! kill -0 "$TRAFFIC_PID" 2>/dev/null
}
START_S=$SECONDS LAST_PROGRESS=$SECONDS
sp_wait_until -p "$SP_PID" $((SECS + 120)) "the traffic to end" progress || sp_fail "the soak did not end in time"
wait "$TRAFFIC_PID" || sp_fail "soak_traffic.py failed: $(cat "$SP_TMP/traffic.err")"
wait "$PING_PID" || true   # non-zero when a ping was lost: counted below
T1=$(sp_now_ms)
A="$SP_TMP/counters"
sp_snapshot "$A"
sp_stop   # exit status 0, no sanitizer report

# --- The figures ---------------------------------------------------------------------------
awk -v t0="$T0" -v t1="$T1" '$1 >= t0 && $1 <= t1 {printf "%.1f %d %d\n", ($1 - t0) / 1000, $2, $3}' "$SAMPLES" \
    >"$OUT/samples.dat"
n=$(wc -l <"$OUT/samples.dat")
[ "$n" -ge 6 ] || sp_fail "only $n samples"
read -r rss_first rss_last rss_max fd_first fd_last fd_max rss_start rss_end fd_start fd_end < <(awk -v n="$n" '
    {t[NR] = $1; r[NR] = $2; f[NR] = $3}
    END {
        third = int(n / 3)
        for (i = 1; i <= n; i++) {
            if (r[i] > rmax) rmax = r[i]
            if (f[i] > fmax) fmax = f[i]
            if (i <= third) { if (r[i] > r1) r1 = r[i]; if (f[i] > f1) f1 = f[i] }
            if (i > n - third) { if (r[i] > r3) r3 = r[i]; if (f[i] > f3) f3 = f[i] }
        }
        print r1, r3, rmax, f1, f3, fmax, r[1], r[n], f[1], f[n]
    }' "$OUT/samples.dat")

gnuplot <<EOF
set terminal pngcairo size 1000,500 font ",10"
set output "$OUT/soak.png"
set title "slowpath soak: $(awk -v s="$SECS" 'BEGIN {printf "%g", s / 60}') min of mixed traffic, delegated decisions through a faulty llm-sim, 1 % loss"
set xlabel "minutes"
set ylabel "resident memory (MB)"
set y2label "open descriptors"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left
plot "$OUT/samples.dat" using (\$1 / 60):(\$2 / 1024) with lines lw 2 title "RSS (MB)", \
     "$OUT/samples.dat" using (\$1 / 60):3 axes x1y2 with steps lw 2 title "descriptors"
EOF

traffic=$(tail -n 1 "$SP_TMP/traffic.out")
ping_line=$(grep -E 'packets transmitted' "$SP_TMP/ping.out" || echo "no ping summary")
{
    echo "slowpath soak, $SECS s, $(date -u +%Y-%m-%dT%H:%MZ), $(sp_is_asan && echo 'ASan build' || echo 'normal build')"
    echo "RSS kB: start $rss_start, end $rss_end, max $rss_max; first third max $rss_first, last third max $rss_last"
    echo "descriptors: start $fd_start, end $fd_end, max $fd_max; first third max $fd_first, last third max $fd_last"
    echo "ping: $ping_line"
    echo "traffic: $traffic"
    echo "drops: $(awk '$1 ~ /^drop_/ {printf "%s%s %s", s, $1, $2; s = ", "}' "$A")"
    grep -E '^  (icmp|arp|tcp) +asked|^  llm client:' "$A.block" | sed 's/^  //'
} >"$OUT/summary.txt"
sed 's/^/  /' "$OUT/summary.txt" >&2

# --- The verdict ---------------------------------------------------------------------------
rss_allowed=$((rss_first + rss_first / 10 + 4096 * SCALE))
[ "$rss_last" -le "$rss_allowed" ] ||
    sp_fail "RSS grows: last third's max $(sp_mb "$rss_last") MB > first third's $(sp_mb "$rss_first") MB + 10 % + $((4 * SCALE)) MB"
[ "$rss_max" -le $((64 * 1024 * SCALE)) ] || sp_fail "RSS reached $(sp_mb "$rss_max") MB, over $((64 * SCALE)) MB"
[ "$fd_last" -le $((fd_first + 16)) ] || sp_fail "descriptors grow: last third's max $fd_last > first third's $fd_first + 16"
[ "$fd_max" -le 256 ] || sp_fail "$fd_max descriptors open"
# Answered: 1 % loss each way and a faulty model cost some, never most.
rate() { $PY -c 'import json, sys
d = json.loads(sys.argv[1])[sys.argv[2]]
total = d["ok"] + d["failed"] + d["bad"]
print(d["bad"], d["ok"] * 100 // total if total else 0, total)' "$traffic" "$1"; }
for kind in udp http echo discard; do
    read -r bad pct total < <(rate "$kind")
    [ "$bad" = 0 ] || sp_fail "$kind: $bad answers differed from what was sent"
    [ "$total" -ge 1 ] && [ "$pct" -ge 80 ] || sp_fail "$kind: $pct % of $total answered"
done
received=$(echo "$ping_line" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
transmitted=$(echo "$ping_line" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
[ -n "$received" ] && [ "$received" -ge $((transmitted * 80 / 100)) ] || sp_fail "ping: $ping_line"
sp_log "PASS: RSS $(sp_mb "$rss_first") -> $(sp_mb "$rss_last") MB (first vs last third max, allowed $(sp_mb "$rss_allowed")), descriptors $fd_first -> $fd_last; plot $OUT/soak.png"
