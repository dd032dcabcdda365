#!/usr/bin/python3
"""Peer driver: kazoo's Counter with support_curator=True (Curator's SharedCount layout, 4 bytes
big-endian), adding to a counter zkr and Curator processes add to as well.

usage: kazoo_counter.py HOSTS PATH N

The lines are curator-counter's: "ready" once connected, then, after the end of stdin (the test
closes it when every adder is ready), N additions of 1 and "done LAST", the value its last
addition left.  Each step's duration goes to stderr (peer_steps.py).  Exit 0 on success,
non-zero with a message on stderr on any failure.

kazoo's Counter creates an empty node when there is none (ensure_path), which is not a
SharedCount: the tests create the counter first.
"""
import logging
import sys

from kazoo.retry import KazooRetry

from peer_steps import Peer, usage

USAGE = "kazoo_counter.py HOSTS PATH N"


def main(argv):
    if len(argv) != 4:
        usage(USAGE)
    hosts, path, n = argv[1], argv[2], int(argv[3])
    peer = Peer("kazoo_counter.py")
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    client = peer.connect(hosts)
    # Counter retries its compare-and-set with the client's retry policy: without a limit of
    # tries (the step's budget bounds it), as zkr's and Curator's adders retry.
    client.retry = KazooRetry(max_tries=-1, delay=0.001, max_delay=0.05)
    counter = client.Counter(path, support_curator=True)
    try:
        peer.say("ready")
        sys.stdin.read()
        peer.step("wait for the start")
        for _ in range(n):
            counter += 1
            if peer.left() <= 0.001:
                peer.fail("%d additions not done within the budget" % n)
        peer.step("add %d times" % n)
        peer.say("done %d" % counter.post_value)
        client.stop()
        client.close()
    except Exception as e:
        peer.fail("add to %s: %r" % (path, e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
