#!/usr/bin/python3
"""Peer driver: kazoo's Barrier and TreeCache, for the interoperability tests of zkr::barrier
and zkr::tree_cache.

usage: kazoo_coordination.py HOSTS barrier-set|barrier-remove|barrier-wait|tree-cache PATH

The barrier verbs and lines are curator-coordination's: set and remove print "done"; wait prints
"ready", then "passed" once the barrier is gone (within peer_steps.BUDGET_S).  tree-cache follows
PATH and everything below it with a TreeCache; once initialized it prints "ready", then after
every event the whole copy, "tree REL:CZXID:MZXID:DATA,..." sorted by REL (the path relative to
PATH, "." for PATH itself), until killed.  Each step's
duration goes to stderr (peer_steps.py).  Exit 0 on success, non-zero with a message on stderr
on any failure.
"""
import logging
import sys
import threading

from kazoo.recipe.cache import TreeCache, TreeEvent

from peer_steps import Peer, usage

USAGE = "kazoo_coordination.py HOSTS barrier-set|barrier-remove|barrier-wait|tree-cache PATH"


def tree_line(cache, root):
    """The cache's copy of `root` and below as one line (see the module's comment)."""
    nodes = []

    def walk(path):
        node = cache.get_data(path)
        if node is None:  # removed while we walk: the next event prints the tree again
            return
        rel = "." if path == root else path[len(root) + 1:]
        nodes.append("%s:%d:%d:%s" % (rel, node.stat.czxid, node.stat.mzxid,
                                      node.data.decode()))
        for name in cache.get_children(path) or ():
            walk(path + "/" + name)

    walk(root)
    return "tree " + ",".join(sorted(nodes))


def follow_tree(peer, client, path):
    """Prints the tree after every event of a TreeCache on `path`, until killed."""
    cache = TreeCache(client, path)
    initialized = threading.Event()
    lock = threading.Lock()  # one line at a time, none before "ready"
    said_ready = threading.Event()

    def on_event(event):
        if event.event_type == TreeEvent.INITIALIZED:
            initialized.set()
        with lock:
            if said_ready.is_set():
                peer.say(tree_line(cache, path))

    cache.listen(on_event)
    cache.start()
    peer.within(initialized.wait(peer.left()), "initialize the cache")
    with lock:
        peer.say("ready")
        peer.say(tree_line(cache, path))
        said_ready.set()
    threading.Event().wait()  # until killed


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
        elif verb == "tree-cache":
            follow_tree(peer, client, path)
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
