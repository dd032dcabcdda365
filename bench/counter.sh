#!/usr/bin/env bash
# The counter benchmark, in one command: builds the drivers (Release, the tree of bench/run.sh),
# starts a throw-away standalone ZooKeeper on a free loopback port, runs zkr's shared_count and
# atomic_long, Curator's SharedCount and DistributedAtomicLong, kazoo's Counter and the raw C
# client's get + set (the floor) interleaved on it, 1 and 8 contenders on one counter, stops the
# server, and prints the table; the JSON lines go to a file (path printed at the end). Fails
# when a counter's final value is not the sum of the increments its contenders reported.
#
#   bash bench/counter.sh [--quick] [--reps N] [--secs S] [--scenarios c1,c8]
#                         [--rows floor,zkr-sc,curator-sc,kazoo,zkr-al,curator-al]
#                         [--out FILE.jsonl]
#
#   --quick   one repetition, 1 s per measurement (under a minute). The full run: 3
#             repetitions, 5 s each (about 6 minutes).
# Environment: ZKR_BENCH_BUILD (default build/bench-release), ZKR_BENCH_NO_DEPS=1 to skip the
# package check. Builds take /tmp/zkr-build.lock, so they never overlap other builds of the
# machine. See bench/README.md, "Counters".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/serve.sh"
bench_side_by_side counter zkr-bench-counter-zkr zkr-bench-counter-floor zkr-bench-curator \
    zkr-bench-python -- "$@"
