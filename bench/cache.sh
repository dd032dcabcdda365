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
command="bash bench/cache.sh${*:+ $*}"
source "$here/serve.sh"
bench_build_and_serve zkr-bench-cache-zkr zkr-bench-curator zkr-bench-python

/usr/bin/python3 "$here/cache_orchestrate.py" --hosts "$hosts" --build "$build" \
    --command "$command" "$@"
