#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. The tests start their
# own ZooKeeper servers (integration/zk.sh) on free loopback ports and stop them at the end.
#   1. ASan+UBSan build: unit, real-server, multi-process and interop tests;
#   2. TSan build: the session and mutex tests (the C-client bridge is where threads meet);
#      (the fault harness, bad-input tests, demo, examples and consumer run in step 3)
#   3. optimised build: the whole suite again, and the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

# Everything the tests create on disk (server data, records) lives here; on exit, servers that
# a crashed test run left behind are stopped by the PID that points into it.
work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-test-run-XXXXXX")
export TMPDIR=$work
cleanup() {
    for pid in $(pgrep -f "$work/" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# build DIR "TARGETS" CMAKE_ARGS...: configure, then build TARGETS ("all" for everything).
build() {
    local dir=$1 targets=$2
    shift 2
    echo "== configuring and building $dir ($targets)"
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
    # shellcheck disable=SC2086
    cmake --build "$dir" --target $targets
}

# The sanitizer builds leave out what they do not run (benchmarks; under TSan all but the
# real-server tests) to keep the suite within its time on two cores.
build build/asan "zkr_unit_tests zkr_integration_tests" -DCMAKE_BUILD_TYPE=Debug -DZKR_SANITIZE=address -DZKR_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/integration/lsan.supp \
    ctest --test-dir build/asan --output-on-failure -R '^(unit|integration)$'

build build/tsan zkr_bridge_tests -DCMAKE_BUILD_TYPE=Debug -DZKR_SANITIZE=thread -DZKR_BUILD_BENCH=OFF
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build/tsan --output-on-failure -R '^bridge$'

build build/ci all -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build/ci --output-on-failure
