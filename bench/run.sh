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
command="bash bench/run.sh${*:+ $*}"
source "$here/serve.sh"
# The queue of 10,000 waiters needs heap: their pipelined listings (up to 10,000 names each) wait
# in the server's output queue, and 256 MB runs out (OutOfMemoryError, the server dies).
BENCH_SERVER_HEAP=2g bench_build_and_serve zkr-bench-floor zkr-bench-floor-st zkr-bench-zkr \
    zkr-bench-curator

/usr/bin/python3 "$here/orchestrate.py" --hosts "$hosts" --build "$build" --command "$command" \
    --server-pid "$(cat "$zkdir/1/pid")" "$@"
