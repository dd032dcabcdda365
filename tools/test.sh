#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. The tests start their
# own ZooKeeper servers (integration/zk.sh) on free loopback ports and stop them at the end.
#   1. ASan+UBSan build: unit, real-server, multi-process and interop tests;
#   2. TSan build: the session and mutex tests (the C-client bridge is where threads meet);
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

build() {
    local dir=$1
    shift
    echo "== configuring and building $dir"
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
    cmake --build "$dir"
}

build build/asan -DCMAKE_BUILD_TYPE=Debug -DZKR_SANITIZE=address
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -R '^(unit|integration)$'

build build/tsan -DCMAKE_BUILD_TYPE=Debug -DZKR_SANITIZE=thread
GTEST_FILTER='Session.*:Mutex.*' TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build/tsan --output-on-failure -R '^integration$'

build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build/ci --output-on-failure
