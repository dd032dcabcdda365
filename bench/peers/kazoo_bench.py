#!/usr/bin/python3
"""Benchmark driver: kazoo's Lock recipe (Debian python3-kazoo 2.8).

usage: /usr/bin/python3 kazoo_bench.py --hosts HOST:PORT

Speaks the line protocol of bench/common.hpp on stdin/stdout (run / ready / go / done / end /
closed / quit). Every contender is a thread with a KazooClient of its own (its own ZooKeeper
session) and one Lock object that it acquires and releases again and again, as the kazoo
documentation shows. All threads share one interpreter (and its GIL). Timestamps are
time.monotonic_ns (CLOCK_MONOTONIC); CPU time is the process's, from getrusage.

Note: a kazoo Lock that has been acquired once lists the directory before every later create
(Lock.create_tried stays set), so kazoo's uncontended acquisition costs 3 requests.
"""
import json
import logging
import os
import resource
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from driver_lines import die, say

SESSION_TIMEOUT_S = 30.0
HOSTS = None


def now():
    return time.monotonic_ns()


def cpu_ns():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return int((ru.ru_utime + ru.ru_stime) * 1e9)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def read_command():
    line = sys.stdin.readline()
    if not line:
        return ["quit"]
    return line.split()


def expect(verb):
    c = read_command()
    if not c or c[0] != verb:
        die("expected '%s', got '%s'" % (verb, " ".join(c)))


def sequence_of(node):
    return int(node[-10:])


def open_clients(n):
    clients = [KazooClient(hosts=HOSTS, timeout=SESSION_TIMEOUT_S) for _ in range(n)]
    for c in clients:
        c.start(timeout=20)
    return clients


def teardown(clients):
    expect("end")
    for c in clients:
        c.stop()
        c.close()


def ensure_dir(client, path):
    try:
        client.ensure_path(path)
    except NodeExistsError:
        pass


def uncontended(args):
    path = args["dir"]
    secs = float(args.get("secs", "2"))
    clients = open_clients(1)
    ensure_dir(clients[0], path)
    lock = clients[0].Lock(path, "bench")
    acquire_ns, release_ns = [], []
    say("ready")
    expect("go")
    cpu0 = cpu_ns()
    start = now()
    end = start + int(secs * 1e9)
    while True:
        t0 = now()
        lock.acquire()
        t1 = now()
        lock.release()
        t2 = now()
        acquire_ns.append(t1 - t0)
        release_ns.append(t2 - t1)
        if t2 >= end:
            break
    wall = now() - start
    cpu = cpu_ns() - cpu0
    say("done " + json.dumps({"cycles": len(acquire_ns), "wall_ns": wall, "cpu_ns": cpu,
                              "acquire_ns": acquire_ns, "release_ns": release_ns}))
    teardown(clients)


def contended(args):
    path = args["dir"]
    secs = float(args.get("secs", "2"))
    n = int(args.get("n", "8"))
    clients = open_clients(n)
    ensure_dir(clients[0], path)
    go = threading.Event()
    window = {}
    stop = threading.Event()
    counters = {"holders": 0, "violations": 0}
    counter_lock = threading.Lock()
    records = [([], []) for _ in range(n)]
    failures = []

    def contender(i):
        lock = clients[i].Lock(path, "bench-%d" % i)
        acq, rel = records[i]
        go.wait()
        start, end = window["start"], window["end"]
        try:
            while True:
                lock.acquire()
                t = now()
                with counter_lock:
                    if counters["holders"] != 0:
                        counters["violations"] += 1
                    counters["holders"] += 1
                acq.append(t - start)
                with counter_lock:
                    counters["holders"] -= 1
                rel.append(now() - start)
                lock.release()
                if stop.is_set() or now() >= end:
                    stop.set()
                    break
        except Exception as e:  # reported below
            failures.append(repr(e))

    threads = [threading.Thread(target=contender, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    say("ready")
    expect("go")
    cpu0 = cpu_ns()
    window["start"] = now()
    window["end"] = window["start"] + int(secs * 1e9)
    go.set()
    for t in threads:
        t.join()
    wall = now() - window["start"]
    cpu = cpu_ns() - cpu0
    if failures:
        die("contender failed: " + failures[0])
    acquired, released, who = [], [], []
    for i, (acq, rel) in enumerate(records):
        acquired.extend(acq)
        released.extend(rel)
        who.extend([i] * len(acq))
    say("done " + json.dumps({"cycles": len(acquired), "wall_ns": wall, "cpu_ns": cpu,
                              "violations": counters["violations"], "acquired": acquired,
                              "released": released, "who": who}))
    teardown(clients)


def waiters(args):
    path = args["dir"]
    n = int(args.get("n", "32"))
    shared = args.get("shared", "0") != "0"
    clients = open_clients(1 if shared else n + 1)
    ensure_dir(clients[0], path)
    holder = clients[0].Lock(path, "holder")
    holder.acquire()
    say("setup")
    expect("queue")  # the orchestrator has counted the watches of the sessions alone

    order = []
    order_lock = threading.Lock()
    counters = {"holders": 0, "violations": 0}
    failures = []
    rss0 = rss_bytes()
    queue_start = now()

    def waiter(i):
        lock = clients[0 if shared else i + 1].Lock(path, "waiter-%d" % i)
        try:
            lock.acquire()
            with order_lock:
                if counters["holders"] != 0:
                    counters["violations"] += 1
                counters["holders"] += 1
                order.append(sequence_of(lock.node))
                counters["holders"] -= 1
            lock.release()
        except Exception as e:
            failures.append(repr(e))

    threads = [threading.Thread(target=waiter, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    say("ready")
    expect("go")
    queued = now() - queue_start
    rss1 = rss_bytes()
    cpu0 = cpu_ns()
    start = now()
    holder.release()
    for t in threads:
        t.join()
    wall = now() - start
    cpu = cpu_ns() - cpu0
    if failures:
        die("waiter failed: " + failures[0])
    fifo = all(order[i] > order[i - 1] for i in range(1, len(order)))
    say("done " + json.dumps({"waiters": n, "cycles": len(order), "wall_ns": wall, "cpu_ns": cpu,
                              "queued_ns": queued, "heap_bytes": 0, "rss_bytes": rss1 - rss0,
                              "fifo": fifo, "violations": counters["violations"]}))
    teardown(clients)


def main(argv):
    global HOSTS
    for i in range(1, len(argv) - 1, 2):
        if argv[i] == "--hosts":
            HOSTS = argv[i + 1]
    if not HOSTS:
        sys.stderr.write("usage: kazoo_bench.py --hosts HOST:PORT\n")
        return 2
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    scenarios = {"uncontended": uncontended, "contended": contended, "waiters": waiters}
    while True:
        c = read_command()
        if not c or c[0] == "quit":
            return 0
        if c[0] != "run" or len(c) < 2 or c[1] not in scenarios:
            die("unknown command '%s'" % " ".join(c))
        args = dict(kv.split("=", 1) for kv in c[2:] if "=" in kv)
        try:
            scenarios[c[1]](args)
        except Exception as e:
            die("scenario %s failed: %r" % (c[1], e))
        say("closed")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
