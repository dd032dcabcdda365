#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test. The tests start their
# own ZooKeeper servers (tools/zk.sh) on free loopback ports and stop them at the end.
#   1. ASan+UBSan build (g++) of everything: the whole suite (unit, real-server, multi-process,
#      fault harness, bad input, interop, examples, demo, packages), two tests at a time;
#   2. clang 16 + TSan build (warnings are errors with the second compiler too) of the library,
#      the CLI, the unit tests and the tests where threads meet (the C-client bridge, the session,
#      the mutex, the blocking layer), which it runs. It builds at the lowest priority while the
#      first stage's tests run: they spend most of their time waiting for servers and session
#      timeouts, and a niced compiler yields the CPU to them whenever they want it.
# The optimised build is the benchmark's (bench/run.sh) and the demo's (tools/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

# Everything the tests create on disk (server data, records) lives here; on exit, servers that
# a crashed test run left behind are stopped by the PID that points into it.
work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-test-run-XXXXXX")
export TMPDIR=$work
second_build=
cleanup() {
    if [ -n "$second_build" ]; then kill -- -"$second_build" 2>/dev/null || true; fi
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

# Packaged under /usr as Debian does (the .deb test then sees the multiarch library directory).
# The benchmark drivers are not built here: no test runs them (bench/run.sh builds its own).
# Both builds: line tables only (-g1: sanitizer reports keep file:line, the compiler and the
# linker skip the rest of the debug information) and the test executables in unity groups.
shared=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DZKR_UNITY_TESTS=ON -DZKR_BUILD_BENCH=OFF)
build build/asan all "${shared[@]}" -DZKR_SANITIZE=address -DCMAKE_INSTALL_PREFIX=/usr \
    -DZKR_WITH_PROMETHEUS=ON

# Stage 2's build, in a process group of its own (the cleanup stops it if stage 1 fails).
set -m
(
    renice -n 19 -p "$BASHPID" >/dev/null
    build build/tsan "zkr zkr_cli zkr_unit_tests zkr_bridge_tests" "${shared[@]}" \
        -DZKR_SANITIZE=thread -DCMAKE_CXX_COMPILER=clang++-16
) >"$work/tsan-build.log" 2>&1 &
second_build=$!
set +m

# Two tests at a time: most of their time is spent waiting for servers and session timeouts.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/integration/lsan.supp \
    ctest --test-dir build/asan --output-on-failure -j2

if ! wait "$second_build"; then
    cat "$work/tsan-build.log"
    exit 1
fi
second_build=
cat "$work/tsan-build.log"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build/tsan --output-on-failure -R '^(bridge|unit)$'
