"""What the kazoo drivers share: one budget for a driver's own work, each step's duration on
stderr, the lines the tests read on stdout, the record file, and failing with a message.

The same rules as the Curator drivers' Peer.java: the start-up (launch to the first line printed)
and every later step that waits have BUDGET_S each, below the 60 s a test waits for a driver's
line (peer_start_limit in integration/test_support.hpp), so a slow driver says which step was slow
before the test gives up.
"""
import os
import sys
import time

from kazoo.client import KazooClient

BUDGET_S = 45.0
SESSION_TIMEOUT_S = 4.0


def _launched_at():
    """The process's start on the time.time() clock, from /proc (the interpreter's start-up
    included)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()


class Peer:
    def __init__(self, name):
        self.name = name
        self.pid = os.getpid()
        self.launched = _launched_at()
        self.last_step = self.launched
        self.said = False
        self.step("launch")

    def note(self, text):
        now = time.time()
        clock = time.strftime("%H:%M:%S", time.localtime(now)) + ".%03d" % (now % 1 * 1000)
        sys.stderr.write("%s %s: %s\n" % (clock, self.name, text))
        sys.stderr.flush()

    def step(self, what):
        """'HH:MM:SS.mmm NAME: WHAT took N ms (T ms since launch)' on stderr."""
        now = time.time()
        self.note("%s took %d ms (%d ms since launch)"
                  % (what, (now - self.last_step) * 1000, (now - self.launched) * 1000))
        self.last_step = now

    def left(self):
        """Seconds left for the current step: of the start-up budget before the first line, of
        the step's own budget after it."""
        since = self.last_step if self.said else self.launched
        return max(0.001, since + BUDGET_S - time.time())

    def within(self, done, what):
        if not done:
            self.fail("%s not done within the budget of %d s (that step ran %d ms)"
                      % (what, BUDGET_S, (time.time() - self.last_step) * 1000))
        self.step(what)

    def fail(self, msg, code=1):
        self.note("FAILED: %s" % msg)
        os._exit(code)

    def say(self, line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        self.said = True

    def connect(self, hosts):
        """A started client, connected within the budget (step "connect"); over TLS when
        KAZOO_TLS_CA names a CA file (HOSTS are then the servers' secure ports)."""
        tls = tls_options()
        client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S, **tls)
        client.add_listener(lambda state: self.note("connection %s" % state))
        try:
            client.start(timeout=self.left())
        except Exception as e:  # kazoo raises its handler's timeout_exception
            self.fail("could not connect to %s: %r" % (hosts, e))
        self.step("connect to %s%s" % (hosts, " (TLS)" if tls else ""))
        return client


def tls_options():
    """KazooClient's TLS arguments from the environment: with KAZOO_TLS_CA=FILE, use_ssl with that
    CA file as trust (kazoo adds the system store and does not check host names, as
    kazoo_tls_probe.py notes); none without it."""
    ca = os.environ.get("KAZOO_TLS_CA", "")
    if not ca:
        return {}
    return {"use_ssl": True, "verify_certs": True, "ca": ca}


def usage(text):
    sys.stderr.write("usage: %s\n" % text)
    sys.exit(2)


def append_line(fd, line):
    """One write(2) on an O_APPEND descriptor per line (atomic for short lines)."""
    data = (line + "\n").encode()
    if os.write(fd, data) != len(data):
        raise IOError("short write to record file")
