#!/usr/bin/python3
"""The counter benchmark: zkr::shared_count and zkr::atomic_long, Curator's SharedCount and
DistributedAtomicLong, kazoo's Counter and the raw C client's two requests (the floor) on one
ZooKeeper server, interleaved, with ratios taken within each repetition.

Started by bench/counter.sh, which builds the drivers and starts the server:

    counter_orchestrate.py --hosts 127.0.0.1:PORT --build BUILD_DIR [--quick] [--reps N]
                           [--rows floor,zkr-sc,curator-sc,kazoo,zkr-al,curator-al]
                           [--scenarios c1,c8] [--secs S] [--out FILE.jsonl]

A scenario cN is N contenders incrementing one counter by 1 for a fixed time: N driver
processes of the row, one session each, speaking the protocol of bench/counter_protocol.hpp.
Every measurement gets a fresh counter node, created here with kazoo holding 0 in the row's
layout (kazoo's Counter would create an empty node, which is not a SharedCount). Each
contender first increments for a while unrecorded (warm-up: the JIT, the first requests), then
all start at once on "go" and stop after --secs.

* increments/s: the contenders' recorded increments over the longest contender's time.
* latency: from the call to its return, retries included, every contender's merged.
* requests per increment: the server's `recved` count of each contender's connection (the
  `cons` four-letter word) right before "go" and after the last "done", summed over the
  contenders, over their recorded increments (pings included: a client's cost too).
* client CPU per increment: the contenders' process CPU (every thread) over the same stretch.
* The sum: once the contenders are done, the node must hold exactly the sum of every
  increment each contender reported (warm-up included); anything else fails the run.

Rounds are interleaved: for each repetition, each scenario runs on every row in turn.
"""
import json
import os
import struct
import sys

from orchestrate import (CURATOR_CP, Driver, DriverError, SideBySideRun, pct, received_between,
                         received_per_session, side_by_side_arguments, side_by_side_plan,
                         side_by_side_report, with_kazoo)

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["floor", "zkr-sc", "curator-sc", "kazoo", "zkr-al", "curator-al"]
SCENARIOS = {"c1": 1, "c8": 8}
BASE = "/zcc"
# Each row's counter layout: Curator's SharedCount (int32) or DistributedAtomicLong (int64).
LAYOUT = {"floor": ">i", "zkr-sc": ">i", "curator-sc": ">i", "kazoo": ">i",
          "zkr-al": ">q", "curator-al": ">q"}
PAIRS = [("zkr-sc", "curator-sc"), ("zkr-sc", "kazoo"), ("zkr-al", "curator-al"),
         ("zkr-sc", "floor")]


def driver_argv(row, a, path):
    bench = os.path.join(a.build, "bench")
    args = ["--hosts", a.hosts, "--path", path]
    kind = ["--kind", "atomic-long" if row.endswith("-al") else "shared-count"]
    if row == "floor":
        return [os.path.join(bench, "zkr-bench-counter-floor")] + args
    if row.startswith("zkr-"):
        return [os.path.join(bench, "zkr-bench-counter-zkr")] + args + kind
    if row.startswith("curator-"):
        # The JVM's defaults (G1, tiered JIT), as in the other benchmarks.
        return ["java", "-cp", os.path.join(bench, "peers-java") + ":" + CURATOR_CP,
                "CuratorCounterBench"] + args + kind
    if row == "kazoo":
        return ["/usr/bin/python3", os.path.join(HERE, "peers", "kazoo_counter_bench.py")] + args
    raise ValueError(row)


def measure(row, scen, rep, a, zk, secs, warm_ms, log_dir):
    """One scenario on one row: its metrics; a DriverError if anything fails, the sum included."""
    host, port = a.hosts.split(",")[0].rsplit(":", 1)
    path = "%s/%s-%s-%d" % (BASE, scen, row, rep)
    zk.create(path, struct.pack(LAYOUT[row], 0), makepath=True)
    contenders = [Driver("counter-%s-%s-%d" % (row, scen, k), driver_argv(row, a, path), log_dir)
                  for k in range(SCENARIOS[scen])]
    try:
        sessions = [int(json.loads(d.expect("ready", timeout=60))["session"], 16)
                    for d in contenders]
        for d in contenders:
            d.send("warm ms=%d" % warm_ms)
        for d in contenders:
            d.expect("warmed", timeout=60 + warm_ms / 1e3)
        before = received_per_session(host, int(port))
        for d in contenders:
            d.send("go ms=%d" % (secs * 1000))
        done = [json.loads(d.expect("done", timeout=60 + secs)) for d in contenders]
        after = received_per_session(host, int(port))
    finally:
        for d in contenders:
            d.stop()
    requests = received_between(before, after, sessions)

    counted = sum(d["total"] for d in done)
    value = struct.unpack(LAYOUT[row], zk.get(path)[0])[0]
    if value != counted:
        raise DriverError("LOST OR EXTRA INCREMENTS: %s holds %d, the contenders counted %d"
                          % (path, value, counted))
    increments = sum(d["increments"] for d in done)
    latency = [x for d in done for x in d["latency_ns"]]
    return {
        "contenders": len(contenders),
        "increments": increments,
        "increments_per_s": increments / (max(d["wall_ns"] for d in done) / 1e9),
        "latency_p50_us": pct(latency, 50) / 1e3,
        "latency_p99_us": pct(latency, 99) / 1e3,
        "requests_per_increment": requests / increments,
        "cpu_us_per_increment": sum(d["cpu_ns"] for d in done) / 1e3 / increments,
        "final_value": value,
    }


# (metric, label, format)
TABLE = [
    ("increments_per_s", "increments/s (all contenders)", "%.0f"),
    ("latency_p50_us", "increment latency p50 (us)", "%.0f"),
    ("latency_p99_us", "increment latency p99 (us)", "%.0f"),
    ("requests_per_increment", "server requests/increment", "%.2f"),
    ("cpu_us_per_increment", "client CPU us/increment", "%.1f"),
]


def render(results, rows, scenarios, meta):
    return side_by_side_report(
        results, rows, scenarios, meta, PAIRS, TABLE,
        lambda scen: "%s: %d contender(s), one counter" % (scen, SCENARIOS[scen]),
        "%d repetition(s), %g s per measurement after %d ms of warm-up, each counter's final "
        "value checked against the sum of the increments reported"
        % (meta["reps"], meta["secs"], meta["warm_ms"]))


def main():
    ap = side_by_side_arguments(ROWS, "bench/counter.sh", SCENARIOS)
    ap.add_argument("--secs", type=float)
    a = ap.parse_args()
    rows, scenarios, reps = side_by_side_plan(a, ROWS, SCENARIOS)
    secs = a.secs or (1.0 if a.quick else 5.0)
    warm_ms = 300 if a.quick else 2000
    run = SideBySideRun(a, "counter")
    run.announce(rows, scenarios, reps, "%g s each after %d ms of warm-up" % (secs, warm_ms))
    return with_kazoo(a.hosts, lambda zk: run.run_all(
        reps, scenarios, rows, TABLE,
        lambda row, scen, rep: measure(row, scen, rep, a, zk, secs, warm_ms, run.log_dir),
        render, secs=secs, warm_ms=warm_ms))


if __name__ == "__main__":
    sys.exit(main())
