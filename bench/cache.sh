#!/usr/bin/env bash
# The cache benchmark, in one command: builds the drivers (Release, the tree of bench/run.sh),
# starts a throw-away standalone ZooKeeper on a free loopback port, runs zkr::tree_cache,
# Curator's TreeCache and kazoo's TreeCache interleaved on it, stops the server, and prints the
# table; the JSON lines go to a file (path printed at the end).
#
#   bash bench/cache.sh [--quick] [--reps N] [--rows zkr,curator,kazoo] [--writes N]
#                       [--interval-ms MS] [--fanout N] [--out FILE.jsonl]
#
#   --quick   one repetition, 300 writes per row (about a minute). The full run: 3
#             repetitions, 1,000 writes per row (a few minutes).
# Environment: ZKR_BENCH_BUILD (default build/bench-release), ZKR_BENCH_NO_DEPS=1 to skip the
# package check. Builds take /tmp/zkr-build.lock, so they never overlap other builds of the
# machine. See bench/README.md, "Caches".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${ZKR_BENCH_BUILD:-$root/build/bench-release}
command="bash bench/cache.sh${*:+ $*}"

if [[ ${ZKR_BENCH_NO_DEPS:-0} != 1 ]]; then
    bash "$root/tools/install-deps.sh" >&2
fi
command -v javac >/dev/null || { echo "bench: javac (a JDK) is needed for the Curator row" >&2; exit 1; }

echo "== building the drivers in $build" >&2
flock /tmp/zkr-build.lock cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DZKR_BUILD_TESTS=OFF -DZKR_BUILD_BENCH=ON >/dev/null
flock /tmp/zkr-build.lock cmake --build "$build" --target zkr-bench-cache-zkr zkr-bench-curator \
    zkr-bench-python >&2

zkdir=$(mktemp -d "${TMPDIR:-/tmp}/zkr-bench-zk.XXXXXX")
stop_server() { bash "$root/tools/zk.sh" stop "$zkdir" || true; }
trap stop_server EXIT
trap 'exit 130' INT TERM HUP
# A production JIT for the server, as bench/run.sh gives it (the test scripts stop at C1).
export ZK_JAVA_OPTS="-XX:TieredStopAtLevel=4 -Xmx1g"
hosts=$(bash "$root/tools/zk.sh" start "$zkdir")
echo "== ZooKeeper $(echo srvr | nc -N -w 2 "${hosts%:*}" "${hosts##*:}" | head -1 | sed 's/.*version: //; s/-.*//') on $hosts" >&2

/usr/bin/python3 "$here/cache_orchestrate.py" --hosts "$hosts" --build "$build" \
    --command "$command" "$@"
