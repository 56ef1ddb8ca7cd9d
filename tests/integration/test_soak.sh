#!/usr/bin/env bash
# The soak for CI: one minute of tools/soak.sh (mixed traffic, delegated decisions through a faulty
# llm-sim, frame loss and corruption), which fails when resident memory or open descriptors grow
# without bound or traffic goes unanswered; here also the plot must be a PNG. The long run is
# `tools/soak.sh` (10 minutes) or `--minutes N`.
# sp-test: normal-build-only (a time-bounded run whose figures are growth over time; the
# sanitizer build would only stretch it, and its traffic runs under the sanitizers elsewhere)
set -euo pipefail
SRC=${SP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
OUT=$(mktemp -d /tmp/sp-soak-test.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$SRC/tools/soak.sh" --minutes "${SP_SOAK_MINUTES:-1}" --out "$OUT"
# The PNG signature: \x89 P N G.
[ "$(head -c 4 "$OUT/soak.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] ||
    { echo "test_soak: FAIL: no PNG plot" >&2; exit 1; }
[ "$(wc -l <"$OUT/samples.dat")" -ge 20 ] || { echo "test_soak: FAIL: too few samples" >&2; exit 1; }
echo "test_soak: PASS" >&2
