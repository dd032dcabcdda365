#!/usr/bin/python3
"""Counts the instructions one C++ driver executes per lock cycle, with valgrind's callgrind.

Timings on a shared 2-core machine wander; instruction counts do not. This runs one driver
(floor-seq, floor-pipe, floor-st or zkr) under callgrind against a running server, zeroes the counters at
"ready", dumps them at "done", and prints instructions per cycle, then the functions that cost
the most (inclusive and exclusive) so that differences between rows can be attributed, then the
heap allocations per cycle and the functions that asked for them.

    callgrind.py --hosts 127.0.0.1:PORT --build BUILD --row zkr \
                 [--scenario uncontended|contended|waiters] [--secs 10] [--n 8] [--top 40] [--top-allocators 15]

The annotated dump stays in BUILD/bench-logs/callgrind.<row>.<scenario>.out.1 for
callgrind_annotate. Start a server with `bash tools/zk.sh start DIR` first.
"""
import argparse
import json
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
    ap.add_argument("--row", required=True, choices=["floor-seq", "floor-pipe", "floor-st", "zkr"])
    ap.add_argument("--scenario", default="uncontended",
                    choices=["uncontended", "contended", "waiters"])
    ap.add_argument("--secs", type=float, default=10.0)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--top-allocators", type=int, default=15,
                    help="how many of malloc's callers to list")
    ap.add_argument("--driver-arg", action="append", default=[],
                    help="passed on to the driver, e.g. --driver-arg=--resolution-delay "
                         "--driver-arg=-1")
    a = ap.parse_args()

    argv = driver_argv(a.build, a.row, a.hosts) + a.driver_arg
    logs = os.path.join(a.build, "bench-logs")
    os.makedirs(logs, exist_ok=True)
    out = os.path.join(logs, "callgrind.%s.%s.out" % (a.row, a.scenario))
    for f in os.listdir(logs):
        if f.startswith(os.path.basename(out)):
            os.remove(os.path.join(logs, f))
    drv = driver_under_valgrind(["--tool=callgrind", "--callgrind-out-file=" + out], argv, out)
    send, expect = drv.send, drv.expect

    def control(flag):
        subprocess.run(["callgrind_control", flag, str(drv.proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)

    path = "/zkr-bench/callgrind-%d/%s" % (int(time.time()), a.row)
    params = "secs=%s n=%d" % (a.secs, a.n)
    if a.scenario == "waiters":
        params = "n=%d shared=1" % a.n
    send("run %s dir=%s %s" % (a.scenario, path, params))
    if a.scenario == "waiters":
        expect("setup")
        base = watch_count(a.hosts)
        send("queue")
    expect("ready")
    if a.scenario == "waiters":
        wait_for_watches(a.hosts, base, a.n)  # the waiters queue up (not measured)
    control("-z")
    send("go")
    done = json.loads(expect("done"))
    control("-d")
    send("end")
    expect("closed")
    drv.quit()

    dump = out + ".1"
    cycles = max(1, done["cycles"])
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", dump],
                         capture_output=True, text=True).stdout
    total = 0
    m = re.search(r"^([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", ann, re.M)
    if m:
        total = int(m.group(1).replace(",", ""))
    print("%s %s: %d cycles, %d instructions, %.0f instructions per cycle"
          % (a.row, a.scenario, done["cycles"], total, total / cycles))
    print("(inclusive, per cycle; threads added up)")
    shown = 0
    for line in ann.splitlines():
        mm = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
        if not mm or "PROGRAM TOTALS" in line:
            continue
        print("%10.0f  %s" % (int(mm.group(1).replace(",", "")) / cycles, mm.group(2)[:150]))
        shown += 1
        if shown >= a.top:
            break
    allocations, callers = count_allocations(dump)
    print("heap allocations per cycle: %.2f (calls to malloc, calloc, realloc; by caller:)"
          % (allocations / cycles))
    for caller, calls in callers[:a.top_allocators]:
        print("%10.2f  %s" % (calls / cycles, caller[:150]))
    print("dump: %s" % dump)


def is_allocator(name):
    """The C allocator's entry points and glibc's internal steps between them."""
    return name is not None and (
        name in ("malloc", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign")
        or name.startswith("_mid_memalign") or name.startswith("operator new"))


def is_stub(name):
    """A call stub without a symbol (a PLT entry): the allocation is its caller's."""
    return name is not None and re.match(r"0x[0-9a-f]+$", name) is not None


def count_allocations(dump):
    """Calls into the C allocator in a callgrind dump: the total, and by the function that asked
    (through operator new and unnamed call stubs, which are attributed to their own callers in
    proportion to their calls).

    Callgrind compresses names: "(12) malloc" defines id 12, a later "(12)" refers to it; fn= and
    cfn= share the ids."""
    names = {}

    def name_of(text):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?$", text)
        if not m:
            return text
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), text)

    callers = {}  # callee -> {caller: calls}
    fn = callee = None
    with open(dump) as f:
        for line in f:
            if line.startswith("fn="):
                fn = name_of(line[3:].strip())
            elif line.startswith("cfn="):
                callee = name_of(line[4:].strip())
            elif line.startswith("calls="):
                calls = int(line[6:].split()[0])
                edge = callers.setdefault(callee, {})
                edge[fn] = edge.get(fn, 0) + calls

    by_caller = {}

    def attribute(node, amount, depth=0):
        if depth < 8 and (is_allocator(node) or is_stub(node)) and callers.get(node):
            incoming = callers[node]
            total_in = sum(incoming.values())
            for caller, calls in incoming.items():
                attribute(caller, amount * calls / total_in, depth + 1)
        else:
            by_caller[node] = by_caller.get(node, 0) + amount

    total = 0
    for node, incoming in callers.items():
        if not is_allocator(node):
            continue
        for caller, calls in incoming.items():
            if not is_allocator(caller):
                total += calls  # an allocation asked for from outside the allocator
                attribute(caller, calls)
    return total, sorted(by_caller.items(), key=lambda kv: -kv[1])


if __name__ == "__main__":
    main()
