#!/usr/bin/env bash
# The benchmark, in one command: builds the drivers (Release), starts a throw-away standalone
# ZooKeeper on a free loopback port, runs every row interleaved, stops the server, and prints
# the table; the JSON lines go to a file (path printed at the end).
#
#   bash bench/run.sh [--quick] [--reps N]
#                     [--rows floor-seq,floor-pipe,floor-hop,floor-st,zkr,curator,kazoo]
#                     [--out FILE.jsonl]
#
#   --quick   one repetition, 0.5 s per timed scenario, 1,000 queued waiters: a sanity run
#             (about 1 minute). The full run: 3 repetitions, 2 s, 10,000 waiters.
# Environment: ZKR_BENCH_BUILD (default build/bench-release), ZKR_BENCH_NO_DEPS=1 to skip the
# package check. See bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${ZKR_BENCH_BUILD:-$root/build/bench-release}
command="bash bench/run.sh${*:+ $*}"

if [[ ${ZKR_BENCH_NO_DEPS:-0} != 1 ]]; then
    bash "$root/tools/install-deps.sh" >&2
fi
command -v javac >/dev/null || { echo "bench: javac (a JDK) is needed for the Curator row" >&2; exit 1; }

echo "== building the drivers in $build" >&2
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZKR_BUILD_TESTS=OFF \
    -DZKR_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target zkr-bench-floor zkr-bench-floor-st zkr-bench-zkr zkr-bench-curator >&2

zkdir=$(mktemp -d "${TMPDIR:-/tmp}/zkr-bench-zk.XXXXXX")
stop_server() { bash "$root/tools/zk.sh" stop "$zkdir" || true; }
trap stop_server EXIT
trap 'exit 130' INT TERM HUP
# The test scripts run the server with C1 only (fast start) and a 256 MB heap; a benchmark wants
# the JIT a production server has (the last -XX option wins), and the queue of 10,000 waiters
# needs heap: their pipelined listings (up to 10,000 names each) wait in the server's output
# queue, and 256 MB runs out (OutOfMemoryError, the server dies).
export ZK_JAVA_OPTS="-XX:TieredStopAtLevel=4 -Xmx2g"
hosts=$(bash "$root/tools/zk.sh" start "$zkdir")
echo "== ZooKeeper $(echo srvr | nc -N -w 2 "${hosts%:*}" "${hosts##*:}" | head -1 | sed 's/.*version: //; s/-.*//') on $hosts" >&2

/usr/bin/python3 "$here/orchestrate.py" --hosts "$hosts" --build "$build" --command "$command" \
    --server-pid "$(cat "$zkdir/1/pid")" "$@"
