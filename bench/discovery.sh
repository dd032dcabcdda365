#!/usr/bin/env bash
# The discovery benchmark, in one command: builds the drivers (Release, the tree of
# bench/run.sh), starts a throw-away standalone ZooKeeper on a free loopback port, runs
# zkr::service_discovery and Curator's discovery interleaved on it, stops the server, and prints
# the table; the JSON lines go to a file (path printed at the end).
#
#   bash bench/discovery.sh [--quick] [--reps N] [--rows zkr,curator] [--registrations N]
#                           [--deaths N] [--session-timeout-ms MS] [--out FILE.jsonl]
#
#   --quick   one repetition, 30 registrations and 3 deaths per row (about a minute). The full
#             run: 3 repetitions, 100 registrations and 5 deaths per row.
# Environment: ZKR_BENCH_BUILD (default build/bench-release), ZKR_BENCH_NO_DEPS=1 to skip the
# package check. Builds take /tmp/zkr-build.lock, so they never overlap other builds of the
# machine. See bench/README.md, "Discovery".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command="bash bench/discovery.sh${*:+ $*}"
source "$here/serve.sh"
bench_build_and_serve zkr-bench-discovery-zkr zkr-bench-curator zkr-bench-python

/usr/bin/python3 "$here/discovery_orchestrate.py" --hosts "$hosts" --build "$build" \
    --command "$command" "$@"
