#!/usr/bin/python3
"""Peer driver: kazoo Lock recipe (and its ReadLock / WriteLock).

usage: kazoo_lock.py HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]

ITERATIONS times: acquire (at most peer_steps.BUDGET_S), append "enter <name> <pid>", hold
HOLD_MS ms (default 2), append "exit <name> <pid>", release.  Prints "ready" once connected and
"done <pid> <ITERATIONS>" at the end; each step's duration goes to stderr (peer_steps.py).  Exit 0
on success, non-zero with a message on stderr on any failure.

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
  KAZOO_RW=write          client.WriteLock(path, id, extra_lock_patterns=
                          ["__WRIT__", "__READ__"]): waits for zkr's (and
                          Curator's) readers and writers too.  Name "kazoo".
  KAZOO_RW=read           client.ReadLock(path, id, extra_lock_patterns=
                          ["__WRIT__"]); lines "enter-read"/"exit-read".  Name
                          "kazoo".  kazoo 2.8's reader waits for the last writer
                          in the directory, even one queued after it: see
                          README.md before letting writers queue behind it.

Environment, with any mode:
  KAZOO_TLS_CA=FILE       connect with use_ssl, trusting FILE (peer_steps.py):
                          HOSTS are the servers' secure ports.

A fresh Lock object is used per iteration, and an acquire that fails with
NoNodeError is retried: kazoo caches "parent exists" per Lock object, but a
parent created by Curator is a container node that the server deletes once
it is empty (znode.container.checkIntervalMs, default 60 s).
"""
import logging
import os
import sys
import time

from kazoo.client import KazooState
from kazoo.exceptions import NoNodeError
from kazoo.recipe.lock import Lock, ReadLock, WriteLock

from peer_steps import Peer, append_line, usage


class CuratorNamedLock(Lock):
    """kazoo Lock whose node names Curator's InterProcessMutex can order."""
    _NODE_NAME = "-lock-"
    _EXCLUDE_NAMES = ["__lock__", "-lock-"]


USAGE = "kazoo_lock.py HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]"


def main(argv):
    native_only = os.environ.get("KAZOO_NATIVE_ONLY") == "1"
    curator_naming = os.environ.get("KAZOO_CURATOR_NAMING") == "1"
    rw = os.environ.get("KAZOO_RW", "")
    if native_only + curator_naming + bool(rw) > 1:
        usage(USAGE + ": KAZOO_NATIVE_ONLY, KAZOO_CURATOR_NAMING and KAZOO_RW "
              "are mutually exclusive")
    if rw not in ("", "read", "write"):
        usage(USAGE + ": KAZOO_RW=read|write")
    if native_only:
        name = "kazoo-native"
    elif curator_naming:
        name = "kazoo-curnames"
    else:
        name = "kazoo"
    peer = Peer("kazoo_lock.py " + (rw or name))
    if len(argv) not in (5, 6):
        usage(USAGE)
    hosts, path, record = argv[1], argv[2], argv[4]
    try:
        iterations = int(argv[3])
        hold_ms = int(argv[5]) if len(argv) == 6 else 2
    except ValueError:
        usage(USAGE + ": ITERATIONS and HOLD_MS must be integers")
    if iterations < 0 or hold_ms < 0:
        usage(USAGE + ": ITERATIONS and HOLD_MS must be >= 0")
    suffix = "-read" if rw == "read" else ""

    # Keep kazoo's own logging quiet unless something is really wrong.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    bad_state = []

    def listener(state):
        # LOST or SUSPENDED voids the exclusion guarantee: fail the run.
        if state in (KazooState.LOST, KazooState.SUSPENDED) and not bad_state:
            bad_state.append(state)

    client = peer.connect(hosts)
    client.add_listener(listener)
    peer.say("ready")

    identifier = "%s-%d" % (name, peer.pid)

    def new_lock():
        if native_only:
            return client.Lock(path, identifier)
        if curator_naming:
            return CuratorNamedLock(client, path, identifier)
        if rw == "read":
            return ReadLock(client, path, identifier, extra_lock_patterns=["__WRIT__"])
        if rw == "write":
            return WriteLock(client, path, identifier,
                             extra_lock_patterns=["__WRIT__", "__READ__"])
        return client.Lock(path, identifier, extra_lock_patterns=["-lock-"])

    def acquire():
        # NoNodeError: the (container) parent vanished between ensure_path
        # and create; a new Lock re-runs ensure_path.  Bounded retries.
        for _ in range(20):
            lock = new_lock()
            try:
                peer.within(lock.acquire(blocking=True, timeout=peer.left()), "acquire")
                return lock
            except NoNodeError:
                continue
        peer.fail("parent of %s kept disappearing (NoNodeError)" % path)

    try:
        for i in range(iterations):
            lock = acquire()
            try:
                fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    append_line(fd, "enter%s %s %d" % (suffix, name, peer.pid))
                    if hold_ms > 0:
                        time.sleep(hold_ms / 1000.0)
                    append_line(fd, "exit%s %s %d" % (suffix, name, peer.pid))
                finally:
                    os.close(fd)
            finally:
                lock.release()
            if bad_state:
                peer.fail("connection state %s during iteration %d" % (bad_state[0], i))
        client.stop()
        client.close()
    except Exception as e:
        peer.fail("error: %r" % (e,))
    peer.step("%d iterations" % iterations)
    peer.say("done %d %d" % (peer.pid, iterations))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
