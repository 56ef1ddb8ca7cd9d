#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then builds and runs every
# unit and integration test in a normal build, and again in an ASan+UBSan build (all but the long
# integration runs marked normal-build-only). Needs root (the integration tests make their own
# network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh

jobs=$(nproc)
status=0
for variant in build build-asan; do
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    [ "$variant" = build-asan ] && flags+=(-DSLOWPATH_SANITIZE=ON)
    echo "=== $variant: configure and build"
    cmake -S . -B "$variant" "${flags[@]}" >/dev/null
    cmake --build "$variant" -j"$jobs" >/dev/null
    echo "=== $variant: tests"
    # Leak checks on; a sanitizer report fails the test that caused it.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    (cd "$variant" && ctest --output-on-failure -L unit -j"$jobs") || status=1
    # The sanitizer build skips the integration tests marked normal-build-only (tests/CMakeLists.txt).
    label=integration
    [ "$variant" = build-asan ] && label=asan
    (cd "$variant" && ctest --output-on-failure -L "$label") || status=1
done
exit $status
