#!/usr/bin/env bash
# The experiment report (tools/experiment.sh) with the simulated models at a small count: native,
# the in-process sim and llm-sim in both wire formats, both prompt formats, with faulty answers
# (--llm-error-rate) so that refusals are counted too. report.md must have a row per path, format
# and authority, its PNGs must be PNGs, and each row's asked / valid / invalid / timeout / error
# must equal what llm_check.py counts in the trace the row names. The namespace it made is gone.
# sp-test: normal-build-only (a long report run through every path; the paths themselves run
# under the sanitizers in the test_llm_* scripts)
source "$(dirname "$0")/lib.sh"
CHECK="/usr/bin/python3 $SP_SRC/tests/integration/llm_check.py"
[ "$(id -u)" -eq 0 ] || sp_fail "needs root (network namespaces)"
SP_TMP=$(mktemp -d /tmp/sp-experiment.XXXXXX)
remove_tmp() { local rc=$?; rm -rf "$SP_TMP"; exit $rc; }
trap remove_tmp EXIT
OUT=$SP_TMP/out
PATHS=(sim llm-sim-anthropic llm-sim-openai)

namespaces() { ip netns list 2>/dev/null | awk '/^sp-exp-/ {print $1}' | sort; }
before=$(namespaces)
SP_BIN=$SP_BIN "$SP_SRC/tools/experiment.sh" --out "$OUT" --paths "native,$(IFS=,; echo "${PATHS[*]}")" \
    --formats structured,raw --count 5 --price-in 1 --price-out 5 --price-cached 0.1 \
    -- --llm-error-rate 0.3 >"$SP_TMP/run.log" 2>&1 || { cat "$SP_TMP/run.log" >&2; sp_fail "experiment.sh failed"; }
[ "$(namespaces)" = "$before" ] || sp_fail "a namespace was left behind: $(comm -13 <(echo "$before") <(namespaces))"
grep -q '^\[1/' "$SP_TMP/run.log" || sp_fail "no progress lines: $(head -n 5 "$SP_TMP/run.log")"
[ -s "$OUT/report.md" ] || sp_fail "no report.md"

# The authorities the daemon can run: legal only once it has the flag.
auths=(exact)
help=$("$SP_BIN/slowpath" --help 2>&1 || true)
grep -q -- --authority <<<"$help" && auths=(exact legal)

# The main table as TSV: path, format, authority (without the "(no flag)" note), asked, valid,
# invalid, timeout, error, trace.
rows=$(/usr/bin/python3 - "$OUT/report.md" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("| # | path |"))
head = [c.strip() for c in lines[start].strip("|").split("|")]
for l in lines[start + 2:]:
    if not l.startswith("|"):
        break
    row = dict(zip(head, (c.strip() for c in l.strip("|").split("|"))))
    print("\t".join([row["path"], row["format"], row["authority"].split(" ")[0]] +
                    [row[k] for k in ("asked", "valid", "invalid", "timeout", "error")] +
                    [row["trace"].strip("`")]))
EOF
) || sp_fail "no main table in report.md"

has_row() { grep -q "^$1	$2	$3	" <<<"$rows"; }
has_row native - - || sp_fail "no native row"
for p in "${PATHS[@]}"; do
    for f in structured raw; do
        for a in "${auths[@]}"; do has_row "$p" "$f" "$a" || sp_fail "no row for $p $f $a"; done
    done
done
[ "$(wc -l <<<"$rows")" = $((1 + ${#PATHS[@]} * 2 * ${#auths[@]})) ] || sp_fail "unexpected rows: $rows"

# Each row's counts against an independent count of its trace.
invalid_total=0
while IFS=$'\t' read -r path fmt auth asked valid invalid timeout error trace; do
    [ "$path" = native ] && continue
    t="$OUT/$trace"
    [ -s "$t" ] || sp_fail "$path $fmt: trace $trace missing"
    $CHECK lint "$t" >/dev/null || sp_fail "$trace malformed"
    declare -A said=([asked]=$asked [valid]=$valid [invalid]=$invalid [timeout]=$timeout [error]=$error)
    for name in "${!said[@]}"; do
        filter=(--verdict "$name")
        [ "$name" = asked ] && filter=()
        want=$($CHECK count "$t" ${filter[@]+"${filter[@]}"})
        [ "${said[$name]}" = "$want" ] || sp_fail "$path $fmt $auth: report says $name ${said[$name]}, the trace has $want"
    done
    invalid_total=$((invalid_total + invalid))
done <<<"$rows"
# The error rate makes refusals: the comparison above covered non-zero invalid counts.
[ "$invalid_total" -gt 0 ] || sp_fail "no invalid decision at --llm-error-rate 0.3"

# Every plot the report shows exists and is a PNG.
pngs=$(sed -n 's/^!\[[^]]*\](\([^)]*\.png\))$/\1/p' "$OUT/report.md")
for want in latency-cdf-sim.png latency-cdf-llm-sim-anthropic.png latency-cdf-llm-sim-openai.png \
    rtt-cdf.png verdicts.png; do
    grep -qx "$want" <<<"$pngs" || sp_fail "report.md shows no $want"
done
for png in $pngs; do
    [ "$(head -c 8 "$OUT/$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || sp_fail "$png is not a PNG"
done
grep -q '42,593 ms' "$OUT/report.md" || sp_fail "the reference point (Dunkels, 42,593 ms) is missing"
sp_log "$(wc -l <<<"$rows") rows, counts equal the traces ($invalid_total invalid), $(wc -w <<<"$pngs") PNGs"
sp_log "PASS"
