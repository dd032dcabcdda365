#!/usr/bin/python3
"""Peer driver: kazoo Lock recipe.

usage: kazoo_lock.py HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]

ITERATIONS times: acquire (blocking), append "enter <name> <pid>", hold
HOLD_MS ms (default 2), append "exit <name> <pid>", release.  Prints "ready"
once connected and "done <pid> <ITERATIONS>" at the end.  Exit 0 on success,
non-zero with a message on stderr on any failure.

Modes (environment):
  default                 client.Lock(path, id, extra_lock_patterns=["-lock-"]):
                          kazoo treats Curator-style "_c_<uuid>-lock-<seq>"
                          children as contenders.  Name "kazoo".  NOTE: this is
                          one-way; Curator does NOT honour kazoo's
                          "<hex>__lock__<seq>" nodes (it sorts children by the
                          text after the last "lock-", which kazoo's names do
                          not contain), so Curator + kazoo is not exclusive.
  KAZOO_NATIVE_ONLY=1     client.Lock(path, id): only "<hex>__lock__<seq>" nodes
                          are contenders.  Name "kazoo-native".
  KAZOO_CURATOR_NAMING=1  (extra, not in the original brief) a Lock subclass
                          that names its node "<hex>-lock-<seq>", which Curator
                          sorts by sequence, and honours "__lock__" and
                          "-lock-" nodes: mutual exclusion with Curator in both
                          directions.  Name "kazoo-curnames".

A fresh Lock object is used per iteration, and an acquire that fails with
NoNodeError is retried: kazoo caches "parent exists" per Lock object, but a
parent created by Curator is a container node that the server deletes once
it is empty (znode.container.checkIntervalMs, default 60 s).
"""
import logging
import os
import sys
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NoNodeError
from kazoo.recipe.lock import Lock


class CuratorNamedLock(Lock):
    """kazoo Lock whose node names Curator's InterProcessMutex can order."""
    _NODE_NAME = "-lock-"
    _EXCLUDE_NAMES = ["__lock__", "-lock-"]


SESSION_TIMEOUT_S = 4.0
CONNECT_WAIT_S = 30.0


def fail(name, msg, code=1):
    sys.stderr.write("%s driver: %s\n" % (name, msg))
    sys.stderr.flush()
    os._exit(code)


def append_line(fd, line):
    # One write(2) on an O_APPEND descriptor per line (atomic for short lines).
    data = (line + "\n").encode()
    if os.write(fd, data) != len(data):
        raise IOError("short write to record file")


def main(argv):
    native_only = os.environ.get("KAZOO_NATIVE_ONLY") == "1"
    curator_naming = os.environ.get("KAZOO_CURATOR_NAMING") == "1"
    if native_only and curator_naming:
        sys.stderr.write("kazoo_lock.py: KAZOO_NATIVE_ONLY and KAZOO_CURATOR_NAMING "
                         "are mutually exclusive\n")
        return 2
    if native_only:
        name = "kazoo-native"
    elif curator_naming:
        name = "kazoo-curnames"
    else:
        name = "kazoo"
    if len(argv) not in (5, 6):
        sys.stderr.write(
            "usage: kazoo_lock.py HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]\n")
        return 2
    hosts, path, record = argv[1], argv[2], argv[4]
    try:
        iterations = int(argv[3])
        hold_ms = int(argv[5]) if len(argv) == 6 else 2
    except ValueError:
        sys.stderr.write("kazoo_lock.py: ITERATIONS and HOLD_MS must be integers\n")
        return 2
    if iterations < 0 or hold_ms < 0:
        sys.stderr.write("kazoo_lock.py: ITERATIONS and HOLD_MS must be >= 0\n")
        return 2
    pid = os.getpid()

    # Keep kazoo's own logging quiet unless something is really wrong.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S)
    bad_state = []

    def listener(state):
        # LOST or SUSPENDED voids the exclusion guarantee: fail the run.
        if state in (KazooState.LOST, KazooState.SUSPENDED) and not bad_state:
            bad_state.append(state)

    client.add_listener(listener)
    try:
        client.start(timeout=CONNECT_WAIT_S)
    except Exception as e:  # kazoo raises timeout_exception
        fail(name, "could not connect to %s: %r" % (hosts, e))
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    identifier = "%s-%d" % (name, pid)

    def new_lock():
        if native_only:
            return client.Lock(path, identifier)
        if curator_naming:
            return CuratorNamedLock(client, path, identifier)
        return client.Lock(path, identifier, extra_lock_patterns=["-lock-"])

    def acquire():
        # NoNodeError: the (container) parent vanished between ensure_path
        # and create; a new Lock re-runs ensure_path.  Bounded retries.
        for _ in range(20):
            lock = new_lock()
            try:
                if not lock.acquire(blocking=True, timeout=None):
                    fail(name, "acquire returned False")
                return lock
            except NoNodeError:
                continue
        fail(name, "parent of %s kept disappearing (NoNodeError)" % path)

    try:
        for i in range(iterations):
            lock = acquire()
            try:
                fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    append_line(fd, "enter %s %d" % (name, pid))
                    if hold_ms > 0:
                        time.sleep(hold_ms / 1000.0)
                    append_line(fd, "exit %s %d" % (name, pid))
                finally:
                    os.close(fd)
            finally:
                lock.release()
            if bad_state:
                fail(name, "connection state %s during iteration %d" % (bad_state[0], i))
        client.stop()
        client.close()
    except Exception as e:
        fail(name, "error: %r" % (e,))
    sys.stdout.write("done %d %d\n" % (pid, iterations))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
