#!/usr/bin/env bash
# The man pages stay in step with the programs: every long flag that `--help` lists has an entry
# in the page's OPTIONS section and every entry there is a flag `--help` lists; and both pages
# render with man(1) without a warning from groff. No namespace needed.
# sp-test: normal-build-only (the pages against --help: text, nothing the sanitizers look at)
set -euo pipefail
SP_BIN=${SP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
SP_SRC=${SP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fail() { echo "test_manpages: FAIL: $*" >&2; exit 1; }

# help_flags PROGRAM: the long flags its --help names, one a line, sorted.
help_flags() { "$1" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# page_flags PAGE: the long flags of the OPTIONS section's entries (the line after each .TP).
page_flags() {
    awk '/^\.SH / { in_opts = ($2 == "OPTIONS") } in_opts && tp { print } { tp = ($0 == ".TP") }' "$1" |
        sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

check() {   # check PROGRAM PAGE
    local prog=$1 page=$2 missing extra
    [ -x "$prog" ] || fail "no $prog"
    missing=$(comm -23 <(help_flags "$prog") <(page_flags "$page"))
    extra=$(comm -13 <(help_flags "$prog") <(page_flags "$page"))
    [ -z "$missing" ] || fail "$(basename "$page"): no entry for $(echo "$missing" | tr '\n' ' ')(in $(basename "$prog") --help)"
    [ -z "$extra" ] || fail "$(basename "$page"): entries for $(echo "$extra" | tr '\n' ' ')that $(basename "$prog") --help does not list"
    local warnings
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page"
    [ -z "$warnings" ] || fail "groff warns on $page: $warnings"
    grep -q "^NAME" <<<"$(MANWIDTH=80 man -l "$page" 2>/dev/null)" || fail "man -l $page renders no NAME section"
    echo "test_manpages: $(basename "$page"): $(help_flags "$prog" | wc -l) flags, in step with --help"
}

check "$SP_BIN/slowpath" "$SP_SRC/docs/man/slowpath.8"
check "$SP_BIN/llm-sim" "$SP_SRC/docs/man/llm-sim.1"
echo "test_manpages: PASS"
