#!/usr/bin/env bash
# The layers' include rules hold: each public header of a layer refuses to be compiled into a
# layer below it (include/slowpath/layer_*.h), and is fine where it belongs. The link half of the
# rule is the layer_check_* executables, which are part of every build.
# Usage: layering.sh CC INCLUDE_DIR
set -euo pipefail
cc=$1 inc=$(cd "$2" && pwd)
fails=0
compiles() { # LAYER HEADER: 0 when a file of LAYER may include HEADER
    printf '#include "%s"\nint sp_layering_probe;\n' "$2" |
        "$cc" -std=c11 -D_GNU_SOURCE -DSP_LAYER_"$1" -I"$inc" -fsyntax-only -x c - 2>/dev/null
}
expect() { # yes|no LAYER HEADER
    local got=no
    compiles "$2" "$3" && got=yes
    if [ "$got" != "$1" ]; then
        echo "FAIL: layer $2 including $3: expected $1, got $got"
        fails=$((fails + 1))
    fi
}
cd "$inc"
for h in slowpath/llm/*.h; do
    for layer in WIRE DEV STACK; do expect no "$layer" "$h"; done
    expect yes LLM "$h"
done
for h in slowpath/iface.h slowpath/tcp.h slowpath/udp.h slowpath/decide.h slowpath/stats.h slowpath/opts.h; do
    for layer in WIRE DEV; do expect no "$layer" "$h"; done
    expect yes STACK "$h"
done
expect no WIRE slowpath/device.h
expect yes DEV slowpath/device.h
expect no LLM slowpath/device.h
expect no LLM slowpath/iface.h
expect yes LLM slowpath/decide.h
for h in slowpath/wire/*.h slowpath/error.h; do expect yes WIRE "$h"; done
checked=$(( $(ls slowpath/llm/*.h | wc -l) * 4 + 6 * 3 + 5 + $(ls slowpath/wire/*.h | wc -l) + 1 ))
echo "$((checked - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
