#!/usr/bin/python3
"""The cache benchmark: zkr::tree_cache, Curator's TreeCache and kazoo's TreeCache on one
ZooKeeper server, interleaved, with ratios taken within each repetition.

Started by bench/cache.sh, which builds the drivers and starts the server:

    cache_orchestrate.py --hosts 127.0.0.1:PORT --build BUILD_DIR [--quick] [--reps N]
                         [--rows zkr,curator,kazoo] [--out FILE.jsonl]

This process is the writer: it creates the tree (a root, `fanout` children, `fanout`
grandchildren each, 16 bytes of data per node) with kazoo, then, for each repetition and each
row in turn, starts that row's driver (a fresh process) and speaks this protocol with it:

    -> connected                    its session is up, no cache yet
    <- load                         start a cache on the root
    -> loaded {load_ns, rss_bytes, session}   the cache said "initialized"; RSS grown meanwhile
    <- go                           record the updates from now on (CPU clock starts)
    -> ready
       (the writer sets data on leaves, paced: each node's data is the writer's CLOCK_MONOTONIC
       in ns, as decimal text, taken just before the request is handed to its client)
    <- stop writes=N                wait for N updates (or 5 s without one)
    -> done {events, cpu_ns, latency_ns: [...]}   latency = clock at the event - the stamp
    <- quit

Requests per change come from the server: the `cons` four-letter word lists every connection
with its session id and its `recved` packet count; the driver's session is read right after
"ready" and right after "done", and the difference is divided by the writes.
"""
import json
import os
import statistics
import sys
import time

from orchestrate import (CURATOR_CP, Driver, DriverError, SideBySideRun, chosen_rows,
                         footer_lines, metric_table, pct, publish, received_by,
                         side_by_side_arguments)

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["zkr", "curator", "kazoo"]
ROOT = "/zcb"  # short: zkr counts its watches' path bytes against the session's budget
SCENARIO = "cache"


def driver_argv(row, build, hosts):
    bench = os.path.join(build, "bench")
    if row == "zkr":
        return [os.path.join(bench, "zkr-bench-cache-zkr"), "--hosts", hosts, "--root", ROOT]
    if row == "curator":
        # The JVM's defaults (G1, tiered JIT), as in the lock benchmark.
        return ["java", "-cp", os.path.join(bench, "peers-java") + ":" + CURATOR_CP,
                "CuratorCacheBench", "--hosts", hosts, "--root", ROOT]
    if row == "kazoo":
        return ["/usr/bin/python3", os.path.join(HERE, "peers", "kazoo_cache_bench.py"),
                "--hosts", hosts, "--root", ROOT]
    raise ValueError(row)


# ---------------------------------------------------------------- the writer

def make_tree(zk, fanout):
    """The tree, pipelined; returns its leaves and the number of nodes."""
    data = b"x" * 16
    zk.create(ROOT, data)
    leaves = []
    for i in range(fanout):
        parent = "%s/c%02d" % (ROOT, i)
        zk.create(parent, data)
        pending = [zk.create_async("%s/n%02d" % (parent, j), data) for j in range(fanout)]
        for p in pending:
            leaves.append(p.get(timeout=30))
    return leaves, 1 + fanout + fanout * fanout


def write_paced(zk, targets, writes, interval_s):
    """`writes` set_data requests, one every `interval_s`, each carrying its send time."""
    start = time.monotonic()
    for i in range(writes):
        delay = start + i * interval_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        zk.set(targets[i % len(targets)], str(time.monotonic_ns()).encode())


# ---------------------------------------------------------------- one measurement

def measure(row, a, zk, targets, nodes, writes, interval_s, host, port, log_dir):
    drv = Driver("cache-" + row, driver_argv(row, a.build, a.hosts), log_dir)
    try:
        drv.expect("connected", timeout=60)
        drv.send("load")
        loaded = json.loads(drv.expect("loaded", timeout=600))
        drv.send("go")
        drv.expect("ready", timeout=60)
        recved0 = received_by(host, port, loaded["session"])
        write_paced(zk, targets, writes, interval_s)
        drv.send("stop writes=%d" % writes)
        done = json.loads(drv.expect("done", timeout=120))
        recved1 = received_by(host, port, loaded["session"])
    finally:
        drv.stop()
    lat = done["latency_ns"]
    return {
        "writes": writes,
        "events": done["events"],
        "events_per_write": done["events"] / writes,
        "latency_p50_us": pct(lat, 50) / 1e3,
        "latency_p99_us": pct(lat, 99) / 1e3,
        "cpu_us_per_event": done["cpu_ns"] / 1e3 / max(1, done["events"]),
        "requests_per_write": (recved1 - recved0) / writes,
        "load_s": loaded["load_ns"] / 1e9,
        "rss_bytes_per_node": loaded["rss_bytes"] / nodes,
    }


# ---------------------------------------------------------------- the report

# (metric, label, format)
TABLE = [
    ("latency_p50_us", "write to event p50 (us)", "%.0f"),
    ("latency_p99_us", "write to event p99 (us)", "%.0f"),
    ("events_per_write", "events seen / writes", "%.3f"),
    ("cpu_us_per_event", "client CPU us/event", "%.1f"),
    ("requests_per_write", "server requests/write", "%.2f"),
    ("load_s", "initial load (s)", "%.3f"),
    ("rss_bytes_per_node", "RSS growth per node (bytes)", "%.0f"),
]


def render(results, rows, meta):
    pairs = [("zkr", other) for other in ("curator", "kazoo") if "zkr" in rows and other in rows]
    lines = metric_table(results, rows, pairs, TABLE, SCENARIO)
    lines += footer_lines(meta, "%d repetition(s), %d nodes, %d writes per row, one every "
                          "%.1f ms" % (meta["reps"], meta["nodes"], meta["writes"],
                                       meta["interval_ms"]))
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main():
    ap = side_by_side_arguments(ROWS, "bench/cache.sh")
    ap.add_argument("--fanout", type=int, default=100,
                    help="children of the root, and of each child (100: 10,101 nodes)")
    ap.add_argument("--writes", type=int)
    ap.add_argument("--interval-ms", type=float, default=3.0)
    a = ap.parse_args()

    from kazoo.client import KazooClient  # the writer; the drivers never import this script

    rows = chosen_rows(a, ROWS)
    reps = a.reps or (1 if a.quick else 3)
    writes = a.writes or (300 if a.quick else 1000)
    interval_s = a.interval_ms / 1e3
    host, port = a.hosts.split(",")[0].rsplit(":", 1)
    port = int(port)
    run = SideBySideRun(a, "cache")
    out_path, log_dir = run.out_path, run.log_dir

    zk = KazooClient(hosts=a.hosts, timeout=30.0)
    zk.start(timeout=20)
    leaves, nodes = make_tree(zk, a.fanout)
    # Leaves spread over the tree, each written again only after a full round of the others:
    # no write lands while the cache still reads the previous one of the same node.
    targets = leaves[::max(1, len(leaves) // 500)]
    print("rows: %s; %d repetition(s); %d nodes; %d writes per row over %d leaves, one every "
          "%.1f ms" % (", ".join(rows), reps, nodes, writes, len(targets), a.interval_ms),
          flush=True)

    with open(out_path, "w") as out:
        for rep in range(1, reps + 1):
            for row in rows:
                try:
                    m = measure(row, a, zk, targets, nodes, writes, interval_s, host, port,
                                log_dir)
                except DriverError as e:
                    run.failed(out, rep, SCENARIO, row, e)
                    continue
                run.measured(out, rep, SCENARIO, row, m)
        zk.stop()
        zk.close()
        meta = run.summary(rows, reps, SCENARIO, TABLE, nodes=nodes, writes=writes,
                           interval_ms=a.interval_ms)
        out.write(json.dumps(meta) + "\n")
    publish(out_path, render(run.results, rows, meta))
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
