"""One C++ benchmark driver run under a valgrind tool, spoken to in its line protocol: what
callgrind.py and heap.py share."""
import os
import subprocess
import sys
import time

from orchestrate import mntr


def driver_argv(build, row, hosts):
    """The command line of the driver of `row` (floor-seq, floor-pipe, floor-st or zkr)."""
    bench = os.path.join(build, "bench")
    if row == "zkr":
        return [os.path.join(bench, "zkr-bench-zkr"), "--hosts", hosts]
    if row == "floor-st":
        return [os.path.join(bench, "zkr-bench-floor-st"), "--hosts", hosts, "--mode", "pipelined"]
    return [os.path.join(bench, "zkr-bench-floor"), "--hosts", hosts, "--mode",
            "sequential" if row == "floor-seq" else "pipelined"]


class driver_under_valgrind:
    """Starts `valgrind tool_args... argv...`; its own output goes to `out`.log."""

    def __init__(self, tool_args, argv, out):
        self.out = out
        self.proc = subprocess.Popen(["valgrind"] + tool_args + argv,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(out + ".log", "w"), text=True, bufsize=1)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, word):
        """The rest of the driver's next line, which must start with `word`."""
        line = self.proc.stdout.readline().strip()
        if not line.startswith(word):
            sys.exit("driver said %r, expected %s (see %s.log)" % (line, word, self.out))
        return line[len(word):].strip()

    def skip_to(self, word):
        """Reads lines until one starts with `word` (the sessions scenario reports as it goes)."""
        for line in self.proc.stdout:
            if line.startswith(word):
                return
        sys.exit("driver ended before %s (see %s.log)" % (word, self.out))

    def quit(self):
        self.send("quit")
        self.proc.wait()


def watch_count(hosts):
    """The server's count of watches (mntr), for the first server of `hosts`."""
    host, port = hosts.split(",")[0].rsplit(":", 1)
    return int(mntr(host, int(port))["zk_watch_count"])


def wait_for_watches(hosts, base, n, timeout=600.0):
    """Waits until the server holds at least `n` watches more than `base`, and the count holds
    still for three polls: the waiters have all queued (a zkr row has one watch more, the second
    in line's on its own node, which may come last)."""
    deadline = time.monotonic() + timeout
    last, still = None, 0
    while still < 3:
        if time.monotonic() > deadline:
            sys.exit("the waiters did not all queue within %.0f s" % timeout)
        time.sleep(0.2)  # polling the server, not waiting in its place
        count = watch_count(hosts) - base
        still = still + 1 if count >= n and count == last else 0
        last = count
