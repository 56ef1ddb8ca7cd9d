#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then builds and runs every
# unit and integration test in a normal build, and again in an ASan+UBSan build (all but the long
# integration runs marked normal-build-only), then builds the libFuzzer targets with clang and runs
# each from its seeds for a short fixed time. Needs root (the integration tests make their own
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

# The fuzz targets (tests/fuzz): SP_FUZZ_SECONDS (default 20) each from their seeds, two at a time,
# about a minute and a half for the eight. A build error stops the script (set -e); a crash, leak,
# hang or sanitizer report fails it, with the input in build-fuzz/tests/fuzz/work/TARGET/artifacts/.
if command -v clang >/dev/null; then
    echo "=== build-fuzz: configure and build (clang, libFuzzer)"
    CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLOWPATH_FUZZ=ON \
        -DSP_FUZZ_SECONDS="${SP_FUZZ_SECONDS:-20}" >/dev/null
    cmake --build build-fuzz -j"$jobs" --target fuzz_all >/dev/null
    echo "=== build-fuzz: fuzz targets"
    (cd build-fuzz && ctest --output-on-failure -L fuzz -j2) || status=1
else
    echo "=== build-fuzz: skipped (no clang; tools/install-deps.sh installs it)"
fi
exit $status
