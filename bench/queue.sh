#!/usr/bin/env bash
# The queue benchmark, in one command: builds the drivers (Release, the tree of bench/run.sh),
# starts a throw-away standalone ZooKeeper on a free loopback port, runs zkr's queue (take, and
# claim + complete), Curator's SimpleDistributedQueue and DistributedQueue with a lockPath,
# kazoo's Queue and LockingQueue, the raw C client's fewest requests (the floor) and the raw C
# client sending zkr's requests (floor-zkr) interleaved on it, 1 and 8 processes filling one
# queue and then draining it, stops the server, and prints the table; the JSON lines go to a file (path printed at the end). Fails when an item put is
# not handed over exactly once.
#
#   bash bench/queue.sh [--quick] [--reps N] [--items N] [--scenarios c1,c8]
#                       [--rows floor,floor-zkr,zkr,curator,kazoo,zkr-claim,curator-lock,
#                               kazoo-lock]
#                       [--out FILE.jsonl]
#
#   --quick   one repetition, 400 items per measurement (about 2 minutes). The full run: 3
#             repetitions, 1,000 items each (about 7 minutes).
# Environment: ZKR_BENCH_BUILD (default build/bench-release), ZKR_BENCH_NO_DEPS=1 to skip the
# package check. Builds take /tmp/zkr-build.lock, so they never overlap other builds of the
# machine. See bench/README.md, "Queues".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/serve.sh"
bench_side_by_side queue zkr-bench-queue-zkr zkr-bench-queue-floor zkr-bench-curator \
    zkr-bench-python -- "$@"
