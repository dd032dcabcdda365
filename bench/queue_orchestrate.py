#!/usr/bin/python3
"""The queue benchmark: zkr::queue (take, at most once; claim + complete, exactly once),
Curator's SimpleDistributedQueue and DistributedQueue with a lockPath, kazoo's Queue and
LockingQueue, the raw C client's fewest requests (the floor) and the raw C client sending
zkr's requests (floor-zkr: what zkr's code adds to its requests) on one ZooKeeper server,
interleaved, with ratios taken within each repetition.

Started by bench/queue.sh, which builds the drivers and starts the server:

    queue_orchestrate.py --hosts 127.0.0.1:PORT --build BUILD_DIR [--quick] [--reps N]
                         [--rows floor,floor-zkr,zkr,curator,kazoo,zkr-claim,curator-lock,
                                 kazoo-lock]
                         [--scenarios c1,c8] [--items N] [--out FILE.jsonl]

A scenario cN is N driver processes of the row, one session each, on a fresh queue. Each
measurement is two rounds on two queues, a warm-up round (a fifth of the items: the JIT, the
first requests) and the measured one, each in two phases:

* put: every process puts its share of the items, one at a time, all processes at once; the
  queue is only filled, nobody consumes. Each item's data is its id.
* take: every process consumes the pre-filled queue, all at once, until the orchestrator sees
  it drained (no item node left: taken, or completed), then says "stop" and, for the rows whose
  consumers wait, puts one sentinel item per consumer.

Pre-filled rather than fed while consumed: the consumers are never starved and never compete
with producers for the server, the queue's length (what every listing carries) is the same
for every row, and the producers' rate does not depend on the consumers'. The price: no put to
take latency (it would be the time an item queued); the take latency is that of each take call
(or claim and completion).

* items/s: the items of a phase over the longest process's time (for take: from "take" to its
  last item handed over).
* latency: per put call; per take call (or claim + completion); every process's merged.
* requests per item: the server's `recved` count of each process's connection (the `cons`
  four-letter word) before and after each phase (the take phase's end: when the drain was
  seen), summed over the processes, over the phase's items (pings included).
* client CPU per item: the processes' CPU (every thread) over each phase.
* The items: every item put must be handed over exactly once (every row: in a run without
  faults even an at-most-once queue loses nothing); a lost, doubled or foreign item fails the
  measurement, and so does a queue not drained in time.
"""
import json
import os
import sys
import time

from orchestrate import (CURATOR_CP, Driver, DriverError, SideBySideRun, pct, received_between,
                         received_per_session, side_by_side_arguments, side_by_side_plan,
                         side_by_side_report, with_kazoo)

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["floor", "floor-zkr", "zkr", "curator", "kazoo", "zkr-claim", "curator-lock",
        "kazoo-lock"]
SCENARIOS = {"c1": 1, "c8": 8}
BASE = "/zqb"
# Where each row keeps its items: (directory under the queue's path, item name prefix, the name
# a sentinel is created with, or None when the row's consumers end by themselves: on an empty
# queue, or, for Curator's DistributedQueue, when it is closed on "stop").
LAYOUT = {
    "floor": ("", "qn-", None),
    "floor-zkr": ("", "qn-", None),
    "zkr": ("", "qn-", "qn-"),
    "curator": ("", "qn-", "qn-"),
    "kazoo": ("", "entry-", None),
    "zkr-claim": ("", "qn-", "qn-"),
    "curator-lock": ("", "queue-", None),
    "kazoo-lock": ("/entries", "entry-", "entry-100-"),
}
PAIRS = [("zkr", "curator"), ("zkr", "kazoo"), ("zkr", "floor"), ("zkr", "floor-zkr"),
         ("zkr-claim", "curator-lock"), ("zkr-claim", "kazoo-lock")]
ID_BLOCK = 10**6  # process k puts ids k * ID_BLOCK ...


def driver_argv(row, a):
    bench = os.path.join(a.build, "bench")
    hosts = ["--hosts", a.hosts]
    if row.startswith("floor"):
        return ([os.path.join(bench, "zkr-bench-queue-floor")] + hosts
                + ["--requests", "zkr" if row == "floor-zkr" else "minimal"])
    if row in ("zkr", "zkr-claim"):
        return ([os.path.join(bench, "zkr-bench-queue-zkr")] + hosts
                + ["--mode", "claim" if row == "zkr-claim" else "take"])
    if row.startswith("curator"):
        # The JVM's defaults (G1, tiered JIT), as in the other benchmarks.
        return (["java", "-cp", os.path.join(bench, "peers-java") + ":" + CURATOR_CP,
                 "CuratorQueueBench"] + hosts
                + ["--kind", "locked" if row == "curator-lock" else "simple"])
    if row.startswith("kazoo"):
        return (["/usr/bin/python3", os.path.join(HERE, "peers", "kazoo_queue_bench.py")] + hosts
                + ["--kind", "locking" if row == "kazoo-lock" else "queue"])
    raise ValueError(row)


def items_left(zk, items_dir, prefix):
    """The item nodes under items_dir; listed only when few children remain (a queue's own
    directories are at most two), so that waiting for the drain costs the server little."""
    stat = zk.exists(items_dir)
    if stat is None or stat.numChildren > 2:
        return None if stat is None else stat.numChildren
    return sum(1 for c in zk.get_children(items_dir) if c.startswith(prefix))


def wait_drained(zk, items_dir, prefix, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = items_left(zk, items_dir, prefix)
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise DriverError("QUEUE NOT DRAINED: %s items left in %s after %.0f s"
                              % (left, items_dir, timeout))
        time.sleep(0.005)


def check_items(put_ids, took):
    """Every item put handed over once: a DriverError naming what was lost, doubled or foreign."""
    taken = [i for t in took for i in t["ids"]]
    seen = set(taken)
    doubled = len(taken) - len(seen)
    lost = put_ids - seen
    foreign = seen - put_ids
    if doubled or lost or foreign:
        raise DriverError("ITEMS LOST OR DELIVERED TWICE: %d put, %d handed over, %d lost, "
                          "%d delivered twice, %d never put (lost: %s)"
                          % (len(put_ids), len(taken), len(lost), doubled, len(foreign),
                             sorted(lost)[:5]))


def one_round(drivers, sessions, row, path, per_process, zk, host, port):
    """Fills the queue at `path`, drains it; the round's metrics."""
    subdir, prefix, sentinel = LAYOUT[row]
    items_dir = path + subdir
    zk.ensure_path(path)
    total = per_process * len(drivers)
    put_ids = {k * ID_BLOCK + i for k in range(len(drivers)) for i in range(per_process)}

    before = received_per_session(host, port)
    for k, d in enumerate(drivers):
        d.send("put path=%s first=%d n=%d" % (path, k * ID_BLOCK, per_process))
    puts = [json.loads(d.expect("put", timeout=60 + total * 0.05)) for d in drivers]
    filled = received_per_session(host, port)

    for d in drivers:
        d.send("take path=%s" % path)
    wait_drained(zk, items_dir, prefix, timeout=60 + total * 0.05)
    drained = received_per_session(host, port)
    for d in drivers:
        d.send("stop")
    if sentinel:
        for _ in drivers:
            zk.create("%s/%s" % (items_dir, sentinel), b"stop", sequence=True)
    took = [json.loads(d.expect("took", timeout=60)) for d in drivers]
    check_items(put_ids, took)

    m = {"processes": len(drivers), "items": total}
    m.update(phase_metrics("put", puts, received_between(before, filled, sessions), total, (50,)))
    m.update(phase_metrics("take", took, received_between(filled, drained, sessions), total,
                           (50, 99)))
    return m


def phase_metrics(phase, reports, requests, total, percentiles):
    """A phase's metrics from its processes' reports and its requests."""
    latency = [x for r in reports for x in r["latency_ns"]]
    m = {"%s_items_per_s" % phase: total / (max(r["wall_ns"] for r in reports) / 1e9)}
    m.update(("%s_p%d_us" % (phase, p), pct(latency, p) / 1e3) for p in percentiles)
    m["%s_requests_per_item" % phase] = requests / total
    m["%s_cpu_us_per_item" % phase] = sum(r["cpu_ns"] for r in reports) / 1e3 / total
    return m


def phase_table(phase, percentiles):
    """The table's lines of a phase, in phase_metrics' order: (metric, label, format)."""
    return ([("%s_items_per_s" % phase, "%s items/s (all processes)" % phase, "%.0f")]
            + [("%s_p%d_us" % (phase, p), "%s latency p%d (us)" % (phase, p), "%.0f")
               for p in percentiles]
            + [("%s_requests_per_item" % phase, "%s: server requests/item" % phase, "%.2f"),
               ("%s_cpu_us_per_item" % phase, "%s: client CPU us/item" % phase, "%.1f")])


def measure(row, scen, rep, a, zk, items, log_dir):
    """One scenario on one row: the measured round's metrics (after a warm-up round); a
    DriverError if anything fails, the items' check included."""
    host, port = a.hosts.split(",")[0].rsplit(":", 1)
    n = SCENARIOS[scen]
    path = "%s/%s-%s-%d" % (BASE, scen, row, rep)
    drivers = [Driver("queue-%s-%s-%d" % (row, scen, k), driver_argv(row, a), log_dir)
               for k in range(n)]
    try:
        sessions = [int(json.loads(d.expect("ready", timeout=60))["session"], 16)
                    for d in drivers]
        one_round(drivers, sessions, row, path + "-warm", max(1, items // 5 // n), zk, host,
                  int(port))
        return one_round(drivers, sessions, row, path, items // n, zk, host, int(port))
    finally:
        for d in drivers:
            d.stop()


TABLE = phase_table("put", (50,)) + phase_table("take", (50, 99))


def render(results, rows, scenarios, meta):
    return side_by_side_report(
        results, rows, scenarios, meta, PAIRS, TABLE,
        lambda scen: "%s: %d process(es), each filling one queue, then draining it"
        % (scen, SCENARIOS[scen]),
        "%d repetition(s), %d items per measurement after a warm-up round of %d, every item "
        "checked handed over once" % (meta["reps"], meta["items"], meta["items"] // 5))


def main():
    ap = side_by_side_arguments(ROWS, "bench/queue.sh", SCENARIOS)
    ap.add_argument("--items", type=int)
    a = ap.parse_args()
    a.items = (a.items or (400 if a.quick else 1000)) // 8 * 8  # as many for each process of c8
    run = SideBySideRun(a, "queue")
    rows, scenarios, reps = side_by_side_plan(a, ROWS, SCENARIOS)
    run.announce(rows, scenarios, reps, "%d items per measurement" % a.items)
    return with_kazoo(a.hosts, lambda zk: run.run_all(
        reps, scenarios, rows, TABLE,
        lambda row, scen, rep: measure(row, scen, rep, a, zk, a.items, run.log_dir), render,
        items=a.items))


if __name__ == "__main__":
    sys.exit(main())
