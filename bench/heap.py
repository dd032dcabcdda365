#!/usr/bin/python3
"""Lists what a queued waiter or an open session holds on the heap, object by object, with
valgrind's massif.

The full bench measures heap per waiter and per session as one number (mallinfo). This runs one
C++ driver (floor-st or zkr) under `valgrind --tool=massif` against a running server and prints,
for the heap in use at one moment, the bytes per waiter (or per session) by the function that
allocated them, largest first:

    heap.py --hosts 127.0.0.1:PORT --build BUILD --row zkr [--scenario waiters|sessions] [--n 2000]

waiters: N waiters queue on one session behind a holder; the snapshot is taken once all are
queued (the server holds their N watches), before the drain. sessions: N sessions
connect; massif's peak (all open, before they close) is read. Bytes are those the program asked
for, before malloc's own overhead, and include what the driver made before the measured window
(the waiters' mutexes, for instance): compare rows line by line. "???" is code without symbols
(the C client's internals, the loader's). Start a server with
`bash tools/zk.sh start DIR` first. The massif output stays in BUILD/bench-logs/.
"""
import argparse
import os
import re
import subprocess
import sys
import time

from valgrind_driver import driver_argv, driver_under_valgrind, wait_for_watches, watch_count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--row", required=True, choices=["floor-st", "zkr"])
    ap.add_argument("--scenario", default="waiters", choices=["waiters", "sessions"])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--top", type=int, default=25, help="how many allocating functions to list")
    a = ap.parse_args()

    logs = os.path.join(a.build, "bench-logs")
    os.makedirs(logs, exist_ok=True)
    out = os.path.join(logs, "massif.%s.%s.out" % (a.row, a.scenario))
    snapshot = out + ".snapshot"
    for f in (out, snapshot):
        if os.path.exists(f):
            os.remove(f)
    drv = driver_under_valgrind(["--tool=massif", "--threshold=0.5", "--depth=30",
                                 "--massif-out-file=" + out],
                                driver_argv(a.build, a.row, a.hosts), out)
    send, expect = drv.send, drv.expect

    if a.scenario == "waiters":
        send("run waiters dir=/zkr-bench/heap-%d/%s n=%d shared=1" % (int(time.time()), a.row, a.n))
        expect("setup")
        base = watch_count(a.hosts)
        send("queue")
        expect("ready")
        wait_for_watches(a.hosts, base, a.n)
        subprocess.run(["vgdb", "--pid=%d" % drv.proc.pid, "detailed_snapshot", snapshot],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        send("go")
        expect("done")
        send("end")
        expect("closed")
    else:
        send("run sessions n=%d" % a.n)
        expect("ready")
        send("go")
        expect("done")
        send("end")
        drv.skip_to("closed")
    drv.quit()

    text = open(snapshot).read() if a.scenario == "waiters" else peak_snapshot(open(out).read())
    total, sites = top_level_sites(text)
    unit = "waiter" if a.scenario == "waiters" else "session"
    print("%s %s, n=%d: %.0f bytes of heap per %s (as asked for; all live blocks / n)"
          % (a.row, a.scenario, a.n, total / a.n, unit))
    for size, name in sites[:a.top]:
        print("%8.1f  %s" % (size / a.n, name[:150]))
    print("massif output: %s" % out)


def peak_snapshot(text):
    """The snapshot massif marked as the peak, from a massif output file."""
    chunks = re.split(r"^(?=snapshot=)", text, flags=re.M)
    for chunk in chunks:
        if re.search(r"^heap_tree=peak$", chunk, re.M):
            return chunk
    sys.exit("massif recorded no peak snapshot")


def top_level_sites(text):
    """The heap in use and its first-level allocation sites: (bytes, function) pairs."""
    total = 0
    m = re.search(r"^mem_heap_B=(\d+)", text, re.M)
    if m:
        total = int(m.group(1))
    sites = []
    for line in text.splitlines():
        mm = re.match(r"^ n\d+: (\d+) (.*)$", line)  # depth 1: one leading space
        if mm:
            sites.append((int(mm.group(1)), readable(mm.group(2))))
    sites.sort(reverse=True)
    return total, sites


def readable(name):
    name = re.sub(r"^0x[0-9A-F]+: ", "", name)
    name = re.sub(r" \(in /[^)]*\)$", "", name)
    name = name.replace("std::__cxx11::basic_string<char, std::char_traits<char>, "
                        "std::allocator<char> >", "std::string")
    return name.replace("boost::asio::", "asio::")


if __name__ == "__main__":
    main()
