#!/usr/bin/python3
"""Peer driver: kazoo's Barrier, for the interoperability tests of zkr::barrier.

usage: kazoo_coordination.py HOSTS barrier-set|barrier-remove|barrier-wait PATH

The verbs and lines of curator-coordination's: set and remove print "done"; wait prints
"ready", then "passed" once the barrier is gone (within peer_steps.BUDGET_S).  Each step's
duration goes to stderr (peer_steps.py).  Exit 0 on success, non-zero with a message on stderr
on any failure.
"""
import logging
import sys

from peer_steps import Peer, usage

USAGE = "kazoo_coordination.py HOSTS barrier-set|barrier-remove|barrier-wait PATH"


def main(argv):
    if len(argv) != 4:
        usage(USAGE)
    hosts, verb, path = argv[1], argv[2], argv[3]
    peer = Peer("kazoo_coordination.py " + verb)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    client = peer.connect(hosts)
    barrier = client.Barrier(path)
    try:
        if verb == "barrier-set":
            barrier.create()
            peer.step("set")
            peer.say("done")
        elif verb == "barrier-remove":
            barrier.remove()
            peer.step("remove")
            peer.say("done")
        elif verb == "barrier-wait":
            peer.say("ready")
            peer.within(barrier.wait(timeout=peer.left()), "wait for the barrier")
            peer.say("passed")
        else:
            usage(USAGE + ": unknown verb " + verb)
        client.stop()
        client.close()
    except Exception as e:
        peer.fail("%s %s: %r" % (verb, path, e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
