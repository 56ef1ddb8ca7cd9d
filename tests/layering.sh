#!/usr/bin/env bash
# The layers' include rules hold: each public header of a layer refuses to be compiled into a
# layer below it (include/slowpath/layer_*.h), and is fine where it belongs; the loop edge sits
# above the stack and may not include llm/ headers. The link half of the rule is the
# layer_check_* executables, which are part of every build.
# Usage: layering.sh CC INCLUDE_DIR
set -euo pipefail
cc=$1 inc=$(cd "$2" && pwd)
fails=0 total=0
compiles() { # LAYER HEADER: 0 when a file of LAYER may include HEADER
    printf '#include "%s"\nint sp_layering_probe;\n' "$2" |
        "$cc" -std=c11 -D_GNU_SOURCE -DSP_LAYER_"$1" -I"$inc" -fsyntax-only -x c - 2>/dev/null
}
expect() { # yes|no LAYER HEADER
    local got=no
    total=$((total + 1))
    compiles "$2" "$3" && got=yes
    if [ "$got" != "$1" ]; then
        echo "FAIL: layer $2 including $3: expected $1, got $got"
        fails=$((fails + 1))
    fi
}
cd "$inc"
for h in slowpath/llm/*.h; do
    for layer in WIRE DEV STACK EDGE; do expect no "$layer" "$h"; done
    expect yes LLM "$h"
done
for layer in WIRE DEV STACK; do expect no "$layer" slowpath/edge.h; done
expect yes EDGE slowpath/edge.h
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
checked=$total
echo "$((checked - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
