#!/usr/bin/python3
"""Cache benchmark driver: kazoo's TreeCache (Debian python3-kazoo 2.8), one KazooClient.

usage: /usr/bin/python3 kazoo_cache_bench.py --hosts HOST:PORT --root PATH

Speaks the cache protocol of bench/cache_orchestrate.py on stdin/stdout. Timestamps are
time.monotonic_ns (CLOCK_MONOTONIC, as the writer's stamps); CPU time is the process's (every
thread: kazoo's connection and event threads), time.process_time_ns; memory is the process's
resident set (/proc/self/statm).
"""
import json
import logging
import os
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.cache import TreeCache, TreeEvent

from driver_lines import die, expect, say


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class EventLog:
    """What the cache's listener saw; the listener runs on kazoo's event thread."""

    def __init__(self):
        self.cv = threading.Condition()
        self.initialized_at = None
        self.recording = False
        self.latency_ns = []

    def __call__(self, event):
        now = time.monotonic_ns()
        if event.event_type == TreeEvent.INITIALIZED:
            with self.cv:
                self.initialized_at = now
                self.cv.notify_all()
        elif event.event_type == TreeEvent.NODE_UPDATED and event.event_data is not None:
            try:
                t = int(event.event_data.data)
            except (TypeError, ValueError):
                return
            with self.cv:
                if self.recording:
                    self.latency_ns.append(now - t)
                    self.cv.notify_all()

    def collect(self, expected):
        """The latencies once `expected` updates were seen, or after 5 s without one."""
        with self.cv:
            seen = len(self.latency_ns)
            while seen < expected:
                self.cv.wait_for(lambda: len(self.latency_ns) != seen, timeout=5)
                if len(self.latency_ns) == seen:
                    break
                seen = len(self.latency_ns)
            self.recording = False
            return list(self.latency_ns)


def load(client, root, log):
    """Starts a TreeCache on `root` and waits for its INITIALIZED event: (cache, time taken)."""
    start = time.monotonic_ns()
    cache = TreeCache(client, root)
    cache.listen(log)
    cache.start()
    with log.cv:
        if not log.cv.wait_for(lambda: log.initialized_at is not None, timeout=300):
            die("no INITIALIZED event within 5 minutes")
    return cache, log.initialized_at - start


def main():
    logging.basicConfig(level=logging.ERROR)
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    if "--hosts" not in args or "--root" not in args:
        sys.exit("usage: kazoo_cache_bench.py --hosts HOST:PORT --root PATH")
    client = KazooClient(hosts=args["--hosts"], timeout=30.0)
    client.start(timeout=20)
    say("connected")

    expect("load")
    log = EventLog()
    rss0 = rss_bytes()
    cache, load_ns = load(client, args["--root"], log)
    rss1 = rss_bytes()
    say("loaded " + json.dumps({"load_ns": load_ns, "rss_bytes": rss1 - rss0,
                                "session": hex(client.client_id[0])}))

    expect("go")
    with log.cv:
        log.recording = True
    cpu0 = time.process_time_ns()
    say("ready")
    writes = int(expect("stop")[1].split("=")[1])
    latencies = log.collect(writes)
    cpu = time.process_time_ns() - cpu0
    say("done " + json.dumps({"events": len(latencies), "cpu_ns": cpu, "latency_ns": latencies}))

    expect("quit")
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
