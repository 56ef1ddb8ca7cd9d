#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time from its seeds (what ctest's fuzz label does):
#   run.sh FUZZER SECONDS WORKDIR SEED_DIR...
# New inputs go to WORKDIR/corpus (emptied first, so that every run starts from the seeds alone),
# a crash, leak, timeout or out-of-memory input to WORKDIR/artifacts/, the fuzzer's output to
# WORKDIR/log. Exits non-zero on any finding; missing seed folders are skipped.
set -euo pipefail

fuzzer=$1 seconds=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
seeds=()
for d in "$@"; do
    [ -d "$d" ] && seeds+=("$d")
done

# A timeout is a finding: no single input may take seconds on a stack that never waits.
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1 || status=$?

name=$(basename "$fuzzer")
if [ "$status" -ne 0 ] || compgen -G "$work/artifacts/*" >/dev/null; then
    tail -n 60 "$work/log"
    echo "$name: FAILED (exit $status); inputs in $work/artifacts/, log in $work/log" >&2
    exit 1
fi
# The last status line (cov / ft / corpus / exec/s) and the totals.
last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "$name: ok, ${execs:-?} runs in ${seconds}s; $last"
