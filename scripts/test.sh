#!/usr/bin/env bash
# Every test posta has: set up (packages), then the normal build and suite,
# the sanitizer build (clang, ASan+UBSan) and suite, and each fuzz target for
# a short time.  This is what CI runs (.ci/run).
#   POSTA_FUZZ_SECONDS  seconds per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
fuzz_seconds=${POSTA_FUZZ_SECONDS:-20}
status=0

section() { printf '\n===== %s =====\n' "$1"; }

section "build (gcc, warnings are errors)"
bash scripts/build.sh build
section "test suite"
(cd build && ctest --output-on-failure -j"$jobs") || status=1

section "build (clang, ASan+UBSan, warnings are errors)"
bash scripts/build.sh build-asan -DCMAKE_C_COMPILER=clang -DPOSTA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
section "test suite under ASan+UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$jobs") || status=1

section "fuzz targets (${fuzz_seconds}s each)"
bash scripts/build.sh build-fuzz -DCMAKE_C_COMPILER=clang -DPOSTA_FUZZ=ON \
    -DPOSTA_BUILD_TESTS=OFF -DPOSTA_BUILD_EXAMPLES=OFF
for f in build-fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f" | sed 's/^fuzz_//')
    work=build-fuzz/corpus-$name
    mkdir -p "$work"
    seeds=fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    echo "-- $name"
    "$f" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$work" $seeds >"build-fuzz/$name.log" 2>&1 || {
        tail -40 "build-fuzz/$name.log"
        echo "fuzz target $name failed" >&2
        status=1
    }
done

section "result"
if [ "$status" -ne 0 ]; then
    echo "FAILED"
    exit 1
fi
echo "all passed"
