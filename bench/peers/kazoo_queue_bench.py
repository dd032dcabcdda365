#!/usr/bin/python3
"""Queue benchmark driver: one process on kazoo's queues (Debian python3-kazoo 2.8), one
KazooClient.

usage: /usr/bin/python3 kazoo_queue_bench.py --hosts HOST:PORT --kind queue|locking

queue: kazoo.recipe.queue.Queue (items "entry-100-<sequence>"): put(), and get() to consume, at
  most once. get() does not wait: it returns None when it finds no item, and the consumer ends
  there (the queue was filled before the consumers started: empty is empty for good). A Queue
  keeps the listing it read and takes its items one by one without listing again until it is
  used up or an item is gone (then it lists again through the client's retry policy).
locking: kazoo.recipe.queue.LockingQueue (items under PATH/entries, locks under PATH/taken):
  put(), then get() (waits; locks the head item that nobody holds) and consume() (checks the
  lock, deletes the item and the lock in one transaction): exactly once, each awaited before the
  next, until handed the sentinel. An item's latency is its get() and consume().

kazoo retries through the client's retry policy (a Queue whose item another consumer took
first; a LockingQueue's reads), whose default sleeps 0.1 s (doubling, with jitter) before each
retry: the driver gives it KazooRetry(max_tries=-1, delay=0, max_jitter=0) and retries at once,
as the other rows do.

Speaks the protocol of bench/queue_protocol.hpp on stdin/stdout. CPU time is the process's
(every thread: kazoo's connection thread included), time.process_time_ns.
"""
import json
import logging
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from driver_lines import die, expect, say

STOP = b"stop"


class Consumption:
    """What a consumer was handed (see bench/queue_protocol.hpp's consumption)."""

    def __init__(self):
        self.latency, self.ids, self.last = [], [], 0
        self.started = time.monotonic_ns()

    def begin(self):
        self.started = time.monotonic_ns()

    def handed(self, data):
        """An item was handed over; False for the sentinel (and for None: no item)."""
        if data is None or data == STOP:
            return False
        now = time.monotonic_ns()
        self.latency.append(now - self.started)
        self.ids.append(int(data))
        self.last = now
        return True


def next_item(q, kind):
    """The next item's bytes (None: the queue is empty, for a Queue)."""
    if kind == "queue":
        return q.get()
    data = q.get()
    if not q.consume():
        die("LockingQueue.consume() refused: the lock on the item is gone")
    return data


def consume(q, kind, c):
    try:
        c.begin()
        while c.handed(next_item(q, kind)):
            c.begin()
    except Exception as e:  # the driver's end, reported as the protocol's error line
        die("take: %r" % e)


def words_args(words):
    return dict(w.split("=", 1) for w in words[1:] if "=" in w)


def main():
    logging.basicConfig(level=logging.ERROR)
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    kind = args.get("--kind")
    if "--hosts" not in args or kind not in ("queue", "locking"):
        sys.exit("usage: kazoo_queue_bench.py --hosts HOST:PORT --kind queue|locking")
    client = KazooClient(hosts=args["--hosts"], timeout=30.0,
                         command_retry=KazooRetry(max_tries=-1, delay=0, max_jitter=0))
    client.start(timeout=20)
    make = client.Queue if kind == "queue" else client.LockingQueue
    say("ready " + json.dumps({"session": hex(client.client_id[0])}))
    while True:
        words = (sys.stdin.readline() or "quit").split()
        a = words_args(words)
        cpu0 = time.process_time_ns()
        start = time.monotonic_ns()
        if words[0] == "quit":
            break
        if words[0] == "put":
            q = make(a["path"])
            first, n = int(a["first"]), int(a["n"])
            latency = []
            for i in range(first, first + n):
                t = time.monotonic_ns()
                q.put(str(i).encode())
                latency.append(time.monotonic_ns() - t)
            say("put " + json.dumps({"items": n, "wall_ns": time.monotonic_ns() - start,
                                     "cpu_ns": time.process_time_ns() - cpu0,
                                     "latency_ns": latency}))
        elif words[0] == "take":
            c = Consumption()
            consumer = threading.Thread(target=consume, args=(make(a["path"]), kind, c))
            consumer.start()
            expect("stop")
            consumer.join()
            say("took " + json.dumps({"items": len(c.ids),
                                      "wall_ns": c.last - start if c.ids else 0,
                                      "cpu_ns": time.process_time_ns() - cpu0,
                                      "latency_ns": c.latency, "ids": c.ids}))
        else:
            die("unknown command '%s'" % words[0])
    client.stop()
    client.close()


if __name__ == "__main__":
    main()
