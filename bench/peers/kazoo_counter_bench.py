#!/usr/bin/python3
"""Counter benchmark driver: one contender on kazoo's Counter (Debian python3-kazoo 2.8) with
support_curator=True (Curator's SharedCount layout, 4 bytes big-endian), one KazooClient.

usage: /usr/bin/python3 kazoo_counter_bench.py --hosts HOST:PORT --path PATH

`counter += 1` is a get and a set at the version read, retried from the get by the client's
retry policy when another writer came first (BadVersionError). kazoo's default policy sleeps
0.1 s (doubling, with jitter) before each retry; here it retries at once (delay 0, no jitter,
no limit of tries), as the Curator and zkr rows do, so that the row measures the recipe, not a
back-off. The counter must exist beforehand: Counter creates an empty node (ensure_path), which
is not a SharedCount.

Speaks the protocol of bench/counter_protocol.hpp on stdin/stdout. CPU time is the process's
(every thread: kazoo's connection thread included), time.process_time_ns.
"""
import json
import logging
import sys
import time

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from driver_lines import expect, say


def expect_ms(verb):
    """The next command, which must be `verb`: the value of its ms=N argument (0 if none)."""
    args = dict(w.split("=", 1) for w in expect(verb)[1:] if "=" in w)
    return int(args.get("ms", 0))


def add_for(counter, ms, record):
    """Adds 1 again and again for `ms` milliseconds: (count, latencies)."""
    count, latency = 0, []
    end = time.monotonic_ns() + ms * 1000000
    start = time.monotonic_ns()
    while start < end:
        counter += 1
        if record:
            latency.append(time.monotonic_ns() - start)
        count += 1
        start = time.monotonic_ns()
    return count, latency


def main():
    logging.basicConfig(level=logging.ERROR)
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    if "--hosts" not in args or "--path" not in args:
        sys.exit("usage: kazoo_counter_bench.py --hosts HOST:PORT --path PATH")
    client = KazooClient(hosts=args["--hosts"], timeout=30.0,
                         command_retry=KazooRetry(max_tries=-1, delay=0, max_jitter=0))
    client.start(timeout=20)
    counter = client.Counter(args["--path"], support_curator=True)
    say("ready " + json.dumps({"session": hex(client.client_id[0])}))

    total, _ = add_for(counter, expect_ms("warm"), False)
    say("warmed")
    ms = expect_ms("go")
    cpu0 = time.process_time_ns()
    start = time.monotonic_ns()
    count, latency = add_for(counter, ms, True)
    wall = time.monotonic_ns() - start
    cpu = time.process_time_ns() - cpu0
    say("done " + json.dumps({"increments": count, "total": total + count, "wall_ns": wall,
                              "cpu_ns": cpu, "latency_ns": latency}))

    expect("quit")
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
