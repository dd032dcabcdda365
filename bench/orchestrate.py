#!/usr/bin/python3
"""Runs every benchmark row against one ZooKeeper server, interleaved, and reports.

Started by bench/run.sh, which builds the drivers and starts the server:

    orchestrate.py --hosts 127.0.0.1:PORT --build BUILD_DIR [--quick] [--reps N]
                   [--rows floor-seq,floor-pipe,floor-hop,floor-st,zkr,curator,kazoo]
                   [--out FILE.jsonl]

Each row is one long-lived driver process speaking the line protocol of bench/common.hpp. For
every repetition, every scenario runs on every row in turn (rep 1: uncontended on floor-seq,
floor-pipe, zkr, curator, kazoo; c2 on each; ...; rep 2: ...), so that the machine's noise falls
on all rows alike; ratios are taken within a repetition, then their median across repetitions
is reported. The server's counters (the "mntr" four-letter word) are read right before "go" and
right after "done": each mntr query is itself one packet in zk_packets_received, which is
subtracted.
"""
import argparse
import datetime
import json
import math
import os
import platform
import queue
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROWS = ["floor-seq", "floor-pipe", "floor-hop", "floor-st", "zkr", "curator", "kazoo"]
# The floor rows set up the C client as zkr does (zoo_set_servers_resolution_delay -1: no host
# re-resolution on every poll). Extra rows, on request: the pipelined floor with the C client's
# defaults (re-resolving its hosts every time it polls), and zkr from another build tree
# (--zkr-alt-build), to measure a change side by side with the current code.
ALL_ROWS = DEFAULT_ROWS[:5] + ["floor-pipe-defaults", "zkr-alt", "zkr-tls"] + DEFAULT_ROWS[5:]
# zkr-tls: zkr with every session over TLS to the same server's secure port (--secure-hosts,
# --tls-ca; bench/tls.sh starts such a server).
# The rows that can hold a thousand idle sessions or ten thousand queued waiters in one process
# (Curator and kazoo spend a thread per blocked acquirer).
BIG_ROWS = ("floor-pipe", "floor-hop", "floor-st", "floor-pipe-defaults", "zkr", "zkr-alt",
            "zkr-tls")
CURATOR_CP = "/usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar"


# ---------------------------------------------------------------- server counters

def four_letters(host, port, word):
    """The answer to a four-letter word ("srst" resets the server's latency statistics)."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


def received_per_session(host, port):
    """The packets the server received on each connection, by session id (the "cons" word lists
    every connection with its session and its `recved` count)."""
    received = {}
    for line in four_letters(host, port, "cons").splitlines():
        m = re.search(r"recved=(\d+).*sid=(0x[0-9a-f]+)", line)
        if m:
            received[int(m.group(2), 16)] = int(m.group(1))
    return received


def received_between(before, after, sessions):
    """The packets the server received from `sessions` (ids) between two `received_per_session`
    readings, summed; a DriverError when a reading lists no connection of one of them."""
    missing = [hex(s) for s in sessions if s not in before or s not in after]
    if missing:
        raise DriverError("cons lists no connection of session(s) %s" % ", ".join(missing))
    return sum(after[s] - before[s] for s in sessions)


def received_by(host, port, session):
    """The packets the server received on the connection of `session` (hex text)."""
    received = received_per_session(host, port)
    if int(session, 16) not in received:
        raise DriverError("cons lists no connection of session %s" % session)
    return received[int(session, 16)]


def server_rss(pid):
    """Resident memory of the server process (0 if unknown)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, TypeError):
        pass
    return 0


def mntr(host, port):
    out = {}
    for line in four_letters(host, port, "mntr").splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                out[parts[0]] = parts[1]
    if "zk_packets_received" not in out:
        raise RuntimeError("mntr gave no zk_packets_received")
    return out


class LoadSampler(threading.Thread):
    """Samples /proc/loadavg every second while the benchmark runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            with open("/proc/loadavg") as f:
                self.samples.append(float(f.read().split()[0]))
            self.done.wait(1.0)

    def summary(self):
        s = self.samples or [0.0]
        return {"min": min(s), "median": statistics.median(s), "max": max(s)}


# ---------------------------------------------------------------- drivers

class DriverError(Exception):
    pass


class Driver:
    """One row: a driver process and the protocol with it."""

    def __init__(self, name, argv, log_dir):
        self.name = name
        self.argv = argv
        self.stderr = open(os.path.join(log_dir, name + ".stderr"), "a")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.failed = None

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except OSError as e:
            raise DriverError("%s: cannot write to the driver: %s" % (self.name, e))

    def expect(self, word, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise DriverError("%s: no '%s' within %.0f s" % (self.name, word, timeout))
        if line is None:
            raise DriverError("%s: driver exited (status %s)" % (self.name, self.proc.wait()))
        if line.startswith("error"):
            raise DriverError("%s: %s" % (self.name, line))
        head, _, rest = line.partition(" ")
        if head != word:
            raise DriverError("%s: expected '%s', got '%s'" % (self.name, word, line[:200]))
        return rest

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (DriverError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def driver_argv(row, build, hosts, alt_build=None, tls=None):
    """`tls`: (the server's secure connect string, the CA file) for row zkr-tls."""
    bench = os.path.join(build, "bench")
    if row == "zkr-tls":
        if not tls or not all(tls):
            raise ValueError("row zkr-tls needs --secure-hosts and --tls-ca")
        return [os.path.join(bench, "zkr-bench-zkr"), "--hosts", tls[0], "--tls-ca", tls[1]]
    if row == "floor-pipe-defaults":
        # zoo_set_servers_resolution_delay left uncalled (the other floor rows: -1, as zkr).
        return [os.path.join(bench, "zkr-bench-floor"), "--hosts", hosts, "--mode", "pipelined",
                "--resolution-delay", "default"]
    if row == "zkr-alt":
        if not alt_build:
            raise ValueError("row zkr-alt needs --zkr-alt-build")
        return [os.path.join(alt_build, "bench", "zkr-bench-zkr"), "--hosts", hosts]
    if row == "floor-seq":
        return [os.path.join(bench, "zkr-bench-floor"), "--hosts", hosts, "--mode", "sequential"]
    if row == "floor-pipe":
        return [os.path.join(bench, "zkr-bench-floor"), "--hosts", hosts, "--mode", "pipelined"]
    if row == "floor-hop":
        # floor-pipe whose answers continue on one application thread, as zkr's do.
        return [os.path.join(bench, "zkr-bench-floor"), "--hosts", hosts, "--mode", "pipelined",
                "--hop", "yes"]
    if row == "floor-st":
        # The single-threaded C client driven by epoll on one thread: zkr's transport, bare.
        return [os.path.join(bench, "zkr-bench-floor-st"), "--hosts", hosts, "--mode", "pipelined"]
    if row == "zkr":
        return [os.path.join(bench, "zkr-bench-zkr"), "--hosts", hosts]
    if row == "curator":
        # The JVM's defaults (G1, tiered JIT): what a Java application runs with.
        return ["java", "-cp", os.path.join(bench, "peers-java") + ":" + CURATOR_CP,
                "CuratorBench", "--hosts", hosts]
    if row == "kazoo":
        return ["/usr/bin/python3", os.path.join(HERE, "peers", "kazoo_bench.py"), "--hosts", hosts]
    raise ValueError(row)


# ---------------------------------------------------------------- statistics

def pct(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))
    return v[k]


def analyse(kind, d, packets, watches):
    """Turns a driver's raw "done" record into the metrics of one measurement."""
    m = {"cycles": d["cycles"], "wall_s": d["wall_ns"] / 1e9}
    cycles = max(1, d["cycles"])
    m["cpu_us_per_cycle"] = d["cpu_ns"] / 1e3 / cycles
    m["requests_per_cycle"] = packets / cycles
    if kind == "uncontended":
        m["cycles_per_s"] = d["cycles"] / (d["wall_ns"] / 1e9)
        m["acquire_p50_us"] = pct(d["acquire_ns"], 50) / 1e3
        m["acquire_p99_us"] = pct(d["acquire_ns"], 99) / 1e3
        m["release_p50_us"] = pct(d["release_ns"], 50) / 1e3
    elif kind == "contended":
        m["cycles_per_s"] = d["cycles"] / (d["wall_ns"] / 1e9)
        recs = sorted(zip(d["acquired"], d["released"], d["who"]))
        handoffs = []
        overlaps = 0
        for (a0, r0, _), (a1, _, _) in zip(recs, recs[1:]):
            if a1 < r0:
                overlaps += 1  # acquired before the previous holder began to release
            else:
                handoffs.append(a1 - r0)
        m["handoff_p50_us"] = pct(handoffs, 50) / 1e3
        m["handoff_p99_us"] = pct(handoffs, 99) / 1e3
        m["violations"] = d["violations"] + overlaps
        m["contenders_seen"] = len(set(d["who"]))
    elif kind == "waiters":
        n = d["waiters"]
        m["waiters"] = n
        m["drain_s"] = d["wall_ns"] / 1e9
        m["watches"] = watches
        m["watches_per_waiter"] = watches / n
        m["requests_per_cycle"] = packets / n  # during the drain: per hand-off
        m["cpu_us_per_cycle"] = d["cpu_ns"] / 1e3 / n
        m["heap_bytes_per_waiter"] = d["heap_bytes"] / n
        m["rss_bytes_per_waiter"] = d["rss_bytes"] / n
        m["refused"] = d.get("refused", 0)
        m["fifo"] = bool(d["fifo"]) and d["cycles"] == n - m["refused"]
        m["violations"] = d["violations"]
    elif kind == "sessions":
        n = d["sessions"]
        m["sessions"] = n
        m["threads_per_session"] = d["threads_added"] / n
        m["rss_bytes_per_session"] = d["rss_bytes"] / n
        m["heap_bytes_per_session"] = d.get("heap_bytes", 0) / n
        m["open_s"] = d["wall_ns"] / 1e9
        # Connected one after another: each connection's set-up (TCP, TLS, ZooKeeper's own).
        m["connect_ms_per_session"] = d["wall_ns"] / 1e6 / n
        m["connect_cpu_us_per_session"] = d["cpu_ns"] / 1e3 / n
    return m


# ---------------------------------------------------------------- one measurement

def rss_of(pid):
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def rss_cap(cap_gib):
    """The cap, or what the machine has available now less 3 GiB if that is lower."""
    available = cap_gib * 2**30
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024 - 3 * 2**30
    return min(cap_gib * 2**30, max(available, 2**30))


def wait_for_watches(drv, host, port, base, expected, timeout, rss_cap):
    """Polls mntr until zk_watch_count (less `base`) reaches `expected` and holds still (with
    `expected` None: until it holds still, for queues the library may refuse part of).

    Returns (watches, seconds until `expected` was first reached, or None). Guards the machine:
    a driver whose resident memory grows by more than `rss_cap` is stopped (DriverError)."""
    t0 = time.monotonic()
    rss0 = rss_of(drv.proc.pid)
    deadline = t0 + timeout
    last, stable, reached = None, 0, None
    while time.monotonic() < deadline:
        w = int(mntr(host, port)["zk_watch_count"]) - base
        enough = expected is None or w >= expected
        if enough and reached is None and w > 0:
            reached = time.monotonic() - t0
        if enough and w == last and w > 0:
            stable += 1
            if stable >= (3 if expected is not None else 20):
                return w, reached
        else:
            stable = 0
            if expected is None:
                reached = None
        last = w
        grown = rss_of(drv.proc.pid) - rss0
        if grown > rss_cap:
            raise DriverError("%s: resident memory grew by %.1f GiB, past the cap of %.1f GiB, "
                              "with %d of %d waiters queued" % (drv.name, grown / 2**30,
                                                                rss_cap / 2**30, w, expected))
        time.sleep(0.1)
    return last, reached


def measure(drv, kind, params, dir_path, host, port, timeout, rss_cap=8 * 2**30, server_pid=None):
    args = " ".join("%s=%s" % kv for kv in params.items())
    drv.send("run %s dir=%s %s" % (kind, dir_path, args))
    watches = None
    if kind == "waiters":
        # Watches the sessions set by themselves (Curator's EnsembleTracker watches the config
        # node from every client) are not the waiters'.
        drv.expect("setup", timeout=120)
        base = mntr(host, port)
        four_letters(host, port, "srst")  # the server's latency figures cover this queue only
        drv.send("queue")
        drv.expect("ready", timeout=120)
        expected = None if params.get("refusable") else params["n"]
        watches, queue_s = wait_for_watches(drv, host, port, int(base["zk_watch_count"]),
                                            expected, timeout, rss_cap)
        queued_server = mntr(host, port)
    else:
        drv.expect("ready", timeout=120)
    m0 = mntr(host, port)
    drv.send("go")
    done = json.loads(drv.expect("done", timeout=timeout))
    m1 = mntr(host, port)
    drv.send("end")
    drv.expect("closed", timeout=120)
    packets = m1["zk_packets_received"] - m0["zk_packets_received"] - 1
    m = analyse(kind, done, packets, watches)
    if kind == "waiters":
        m["queue_s"] = queue_s if queue_s is not None else float("nan")
        if params.get("refusable"):
            m["watches_per_waiter"] = watches / max(1, params["n"] - m["refused"])
        # The server while the queue formed and drained: its worst and mean request latency,
        # the znodes' memory, its resident memory.
        m["server_max_latency_ms"] = float(m1.get("zk_max_latency", 0))
        m["server_avg_latency_ms"] = float(m1.get("zk_avg_latency", 0))
        m["server_queued_max_latency_ms"] = float(queued_server.get("zk_max_latency", 0))
        m["server_rss_mb"] = server_rss(server_pid) / 2**20
    return m


# ---------------------------------------------------------------- the report

# (scenario, metric, label, format)
TABLE = [
    ("uncontended", "acquire_p50_us", "acquire p50 (us)", "%.0f"),
    ("uncontended", "acquire_p99_us", "acquire p99 (us)", "%.0f"),
    ("uncontended", "release_p50_us", "release p50 (us)", "%.0f"),
    ("uncontended", "cycles_per_s", "cycles/s", "%.0f"),
    ("uncontended", "requests_per_cycle", "server requests/cycle", "%.2f"),
    ("uncontended", "cpu_us_per_cycle", "client CPU us/cycle", "%.0f"),
]
for _n in (2, 8, 32):
    TABLE += [
        ("c%d" % _n, "cycles_per_s", "cycles/s", "%.0f"),
        ("c%d" % _n, "handoff_p50_us", "hand-off p50 (us)", "%.0f"),
        ("c%d" % _n, "handoff_p99_us", "hand-off p99 (us)", "%.0f"),
        ("c%d" % _n, "requests_per_cycle", "server requests/acquisition", "%.2f"),
        ("c%d" % _n, "cpu_us_per_cycle", "client CPU us/acquisition", "%.0f"),
        ("c%d" % _n, "violations", "exclusion violations", "%d"),
    ]
TABLE += [
    ("w32", "watches_per_waiter", "watches/waiter", "%.2f"),
    ("w32", "requests_per_cycle", "drain requests/waiter", "%.2f"),
    ("w32", "drain_s", "drain time (s)", "%.3f"),
    ("w32", "fifo", "FIFO kept", "%s"),
    ("wbig", "watches_per_waiter", "watches/waiter", "%.2f"),
    ("wbig", "heap_bytes_per_waiter", "client heap bytes/waiter", "%.0f"),
    ("wbig", "rss_bytes_per_waiter", "client RSS bytes/waiter", "%.0f"),
    ("wbig", "queue_s", "time to queue all (s)", "%.1f"),
    ("wbig", "drain_s", "time to drain (s)", "%.1f"),
    ("wbig", "requests_per_cycle", "drain requests/waiter", "%.2f"),
    ("wbig", "cpu_us_per_cycle", "drain client CPU us/waiter", "%.0f"),
    ("wbig", "fifo", "FIFO kept", "%s"),
]
for _scen in ("wlong", "wlong4"):
    TABLE += [
        (_scen, "refused", "waiters refused (watch budget)", "%d"),
        (_scen, "queue_s", "time to queue all (s)", "%.1f"),
        (_scen, "drain_s", "time to drain (s)", "%.1f"),
        (_scen, "requests_per_cycle", "drain requests/waiter", "%.2f"),
        (_scen, "server_queued_max_latency_ms", "server max latency, queueing (ms)", "%.0f"),
        (_scen, "server_max_latency_ms", "server max latency, all (ms)", "%.0f"),
        (_scen, "server_avg_latency_ms", "server mean latency (ms)", "%.1f"),
        (_scen, "server_rss_mb", "server RSS after (MiB)", "%.0f"),
        (_scen, "heap_bytes_per_waiter", "client heap bytes/waiter", "%.0f"),
        (_scen, "fifo", "FIFO kept", "%s"),
    ]
TABLE += [
    ("sessions", "threads_per_session", "threads added per session", "%.2f"),
    ("sessions", "rss_bytes_per_session", "client RSS bytes/session", "%.0f"),
    ("sessions", "heap_bytes_per_session", "client heap bytes/session", "%.0f"),
    ("sessions", "open_s", "time to connect all (s)", "%.2f"),
    ("sessions", "connect_ms_per_session", "connect time per session (ms)", "%.2f"),
    ("sessions", "connect_cpu_us_per_session", "client CPU per connect (us)", "%.0f"),
]


def median_of(results, row, scen, metric):
    vals = [r["metrics"][metric] for r in results
            if r["row"] == row and r["scenario"] == scen and metric in r["metrics"]]
    if not vals:
        return None
    if isinstance(vals[0], bool):
        return all(vals)
    if metric == "violations":
        return sum(vals)
    return statistics.median(vals)


def ratio_of(results, scen, metric, num, den):
    """Median over repetitions of num/den taken within each repetition."""
    by_rep = {}
    for r in results:
        if r["scenario"] == scen and metric in r["metrics"] and r["row"] in (num, den):
            by_rep.setdefault(r["rep"], {})[r["row"]] = r["metrics"][metric]
    ratios = [v[num] / v[den] for v in by_rep.values()
              if num in v and den in v and isinstance(v[den], (int, float)) and v[den]]
    return statistics.median(ratios) if ratios else None


def metric_table(results, rows, pairs, spec, scen, ratio_of_metric=lambda metric: True):
    """The lines of a table of one scenario: a line per (metric, label, format) of `spec`, the
    median of each row, then the median ratio within a repetition of each (num, den) pair (for
    the metrics where `ratio_of_metric` holds; "-" elsewhere); failures and notes come after."""
    head = ["metric"] + rows + ["%s/%s" % p for p in pairs]
    table = [head]
    for metric, label, fmt in spec:
        cells = []
        for row in rows:
            v = median_of(results, row, scen, metric)
            cells.append("-" if v is None else fmt % v)
        for num, den in pairs:
            r = ratio_of(results, scen, metric, num, den) if ratio_of_metric(metric) else None
            cells.append("-" if r is None else "%.2f" % r)
        table.append([label] + cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    for i, r in enumerate(table):
        lines.append("  ".join(c.rjust(widths[k]) if k else c.ljust(widths[k])
                               for k, c in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def side_by_side_report(results, rows, scenarios, meta, pairs, spec, heading, what):
    """The text of a side-by-side run: a table per scenario (metric_table, with the pairs whose
    rows both ran) under `heading(scen)`, then footer_lines(meta, what)."""
    pairs = [p for p in pairs if p[0] in rows and p[1] in rows]
    lines = []
    for scen in scenarios:
        lines.append(heading(scen))
        lines += metric_table(results, rows, pairs, spec, scen)
        lines.append("")
    return "\n".join(lines + footer_lines(meta, what))


def side_by_side_arguments(rows, command, scenarios=None):
    """The options every side-by-side benchmark (cache, discovery, counter, queue) takes, and
    --scenarios where it has `scenarios`; it adds its own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--rows", default=",".join(rows))
    ap.add_argument("--out")
    ap.add_argument("--command", default=command)
    if scenarios:
        ap.add_argument("--scenarios", default=",".join(scenarios))
    return ap


def side_by_side_plan(a, rows, scenarios):
    """The rows, the scenarios and the number of repetitions asked for (3; --quick: 1)."""
    return (chosen_rows(a, rows), chosen(a.scenarios, list(scenarios), "scenario"),
            a.reps or (1 if a.quick else 3))


def with_kazoo(hosts, body):
    """body(zk) with a KazooClient connected to `hosts` (the orchestrator's own session, which
    makes and reads nodes), closed afterwards."""
    from kazoo.client import KazooClient
    zk = KazooClient(hosts=hosts, timeout=30.0)
    zk.start(timeout=20)
    try:
        return body(zk)
    finally:
        zk.stop()
        zk.close()


def chosen(text, known, what="row"):
    """The comma-separated names of `text`, each one of `known`; exits on any other."""
    names = [n for n in text.split(",") if n]
    for n in names:
        if n not in known:
            sys.exit("unknown %s %s (%ss: %s)" % (what, n, what, ", ".join(known)))
    return names


def chosen_rows(a, known):
    return chosen(a.rows, known)


class SideBySideRun:
    """What a side-by-side benchmark's run keeps besides its rows: its name and files (the JSON
    lines in the build tree, the drivers' logs), the load sampled from its start, its clock."""

    def __init__(self, a, kind):
        self.a = a
        self.stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out_path = a.out or os.path.join(a.build, "%s-results-%s.jsonl" % (kind, self.stamp))
        self.log_dir = os.path.join(a.build, "bench-logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.sampler = LoadSampler()
        self.sampler.start()
        self.started = time.monotonic()
        self.results, self.failures = [], []

    def measured(self, out, rep, scen, row, metrics, **extra):
        """Keeps a measurement for the table, writes its JSON line (with `extra`) and prints it."""
        rec = {"type": "measurement", "run": self.stamp, "rep": rep, "scenario": scen,
               "row": row, "metrics": metrics}
        rec.update(extra)
        self.results.append(rec)
        out.write(json.dumps(rec) + "\n")
        out.flush()
        print("rep %d %-8s %s" % (rep, row, ", ".join("%s=%.4g" % kv for kv in metrics.items())),
              flush=True)

    def announce(self, rows, scenarios, reps, what):
        """Prints what the run will do: its rows, scenarios, repetitions, and `what`."""
        print("rows: %s; scenarios: %s; %d repetition(s); %s"
              % (", ".join(rows), ", ".join(scenarios), reps, what), flush=True)

    def run_all(self, reps, scenarios, rows, spec, measure, render, **params):
        """Runs `measure(row, scen, rep)` (its metrics, or a DriverError) for each repetition,
        each scenario, each row in turn, writing every measurement or failure, then the summary
        (with `params`); publishes `render(results, rows, scenarios, summary)`. The exit status:
        1 if any measurement failed."""
        with open(self.out_path, "w") as out:
            for rep in range(1, reps + 1):
                for scen in scenarios:
                    for row in rows:
                        try:
                            m = measure(row, scen, rep)
                        except DriverError as e:
                            self.failed(out, rep, scen, row, e)
                            continue
                        self.measured(out, rep, scen, row, m)
            meta = self.summary(rows, reps, scenarios, spec, **params)
            out.write(json.dumps(meta) + "\n")
        publish(self.out_path, render(self.results, rows, scenarios, meta))
        return 1 if self.failures else 0

    def failed(self, out, rep, scen, row, error):
        """Keeps a failure for the table's footer, writes its JSON line and prints it."""
        rec = {"type": "failure", "rep": rep, "scenario": scen, "row": row, "error": str(error)}
        self.failures.append(rec)
        out.write(json.dumps(rec) + "\n")
        out.flush()
        print("!! %s rep %d: %s" % (row, rep, error), flush=True)

    def summary(self, rows, reps, scen, spec, **params):
        """The run's last JSON line; stops the load sampler. `scen`: the scenario, or a list of
        them (the medians are then given per scenario)."""
        results, failures = self.results, self.failures

        def medians(s):
            return {row: {metric: median_of(results, row, s, metric) for metric, _, _ in spec}
                    for row in rows}
        self.sampler.done.set()
        self.sampler.join()
        meta = {
            "type": "summary", "run": self.stamp,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": machine_name(), "kernel": platform.platform(), "reps": reps,
            "rows": rows, "failures": failures, "elapsed_s": time.monotonic() - self.started,
            "load": self.sampler.summary(), "command": self.a.command,
            "medians": ({s: medians(s) for s in scen} if isinstance(scen, list)
                        else medians(scen)),
        }
        meta.update(params)
        return meta


def footer_lines(meta, what):
    """The table's last lines: the failures, the load, when and where, `what` ran, the command."""
    lines = ["FAILED  %s rep %d: %s" % (f["row"], f["rep"], f["error"]) for f in meta["failures"]]
    load = meta["load"]
    lines.append("")
    lines.append("Load average (1 min) during the run: min %.2f, median %.2f, max %.2f (%d cores)"
                 % (load["min"], load["median"], load["max"], os.cpu_count()))
    lines.append("Date %s, %s, %s; %s; %.0f s" % (meta["date"], meta["machine"], meta["kernel"],
                                                 what, meta["elapsed_s"]))
    lines.append("Command: %s" % meta["command"])
    return lines


def publish(out_path, text):
    """Writes the table beside the JSON lines (.txt) and prints it."""
    with open(out_path[:-len(".jsonl")] + ".txt" if out_path.endswith(".jsonl")
              else out_path + ".txt", "w") as f:
        f.write(text + "\n")
    print()
    print(text)
    print()
    print("JSON lines: %s" % out_path)


def targets(results, big_n, sessions_n):
    """(description, measured, ok, reference) for every target of the transport issue.

    reference is None or (text, mark): the same bound measured on floor-st, the raw
    single-threaded C client driven by epoll on one thread (zkr's transport, bare), and what
    explains a miss of zkr's: "*" floor-st misses the bound too, so no library on this transport
    reaches it on this machine; "" nothing: the miss is zkr's own."""
    out = []

    def add(desc, value, ok, fmt="%.2f", reference=None):
        if value is None:
            value, ok = "n/a", None
        elif not isinstance(value, str):
            value = fmt % value
        out.append((desc, value, ok, reference))

    def ratio_target(desc, scen, metric, den, meets):
        """A target on zkr/den, with floor-st/den beside it."""
        r = ratio_of(results, scen, metric, "zkr", den)
        f = ratio_of(results, scen, metric, "floor-st", den)
        ref = None
        if f is not None:
            ref = ("floor-st: %.2f" % f, "" if meets(f) else "*")
        add(desc, r, r is not None and meets(r), reference=ref)

    ratio_target("uncontended acquire p50 <= 0.85 x floor-pipe", "uncontended", "acquire_p50_us",
                 "floor-pipe", lambda x: x <= 0.85)
    r = ratio_of(results, "uncontended", "acquire_p50_us", "zkr", "floor-st")
    add("uncontended acquire p50 <= 1.10 x floor-st", r, r is not None and r <= 1.10)
    ratio_target("uncontended acquire p99 <= 0.6 x Curator", "uncontended", "acquire_p99_us",
                 "curator", lambda x: x <= 0.6)
    for scen in ("uncontended", "c8", "c32"):
        for den, name in (("floor-pipe", "floor-pipe"), ("curator", "Curator")):
            ratio_target("%s client CPU per cycle <= 0.5 x %s" % (scen, name), scen,
                         "cpu_us_per_cycle", den, lambda x: x <= 0.5)
    for n in (8, 32):
        ratio_target("C%d cycles/s >= 1.10 x floor-pipe" % n, "c%d" % n, "cycles_per_s",
                     "floor-pipe", lambda x: x >= 1.10)
        ratio_target("C%d cycles/s >= 1.3 x Curator" % n, "c%d" % n, "cycles_per_s", "curator",
                     lambda x: x >= 1.3)
    for n in (2, 8, 32):
        ratio_target("C%d hand-off p99 <= 0.6 x Curator" % n, "c%d" % n, "handoff_p99_us",
                     "curator", lambda x: x <= 0.6)
    # At the limit: zkr against the bare single-threaded client it drives (floor-st), in every
    # row, so that a regression on the hand-off or in requests shows as a MISS the day it lands.
    for scen in ("uncontended", "c2", "c8", "c32"):
        r = ratio_of(results, scen, "cpu_us_per_cycle", "zkr", "floor-st")
        add("%s client CPU per cycle <= 1.10 x floor-st" % scen, r, r is not None and r <= 1.10)
    for n in (2, 8, 32):
        for q in ("p50", "p99"):
            r = ratio_of(results, "c%d" % n, "handoff_%s_us" % q, "zkr", "floor-st")
            add("C%d hand-off %s <= 1.10 x floor-st" % (n, q), r, r is not None and r <= 1.10)
    for scen in ("uncontended", "c2", "c8", "c32"):
        v = median_of(results, "zkr", scen, "requests_per_cycle")
        f = median_of(results, "floor-st", scen, "requests_per_cycle")
        add("%s requests per acquisition = floor-st's" % scen, v,
            v is not None and f is not None and v <= f + 0.05,
            reference=None if f is None else ("floor-st: %.2f" % f, ""))
    v = median_of(results, "zkr", "uncontended", "requests_per_cycle")
    add("requests per uncontended cycle = 2 (acquire) + 1 (release)", v,
        v is not None and v <= 3.05)
    for n in (2, 8, 32):
        v = median_of(results, "zkr", "c%d" % n, "requests_per_cycle")
        add("C%d requests per contended acquisition <= 5" % n, v, v is not None and v <= 5.05)
    # Each waiter watches the node ahead; the second in line its own node too (the hand-off's
    # check without a request: docs/mutex.md), so 33 watches on the server for 32 waiters.
    v = median_of(results, "zkr", "w32", "watches_per_waiter")
    add("one watch per waiter, and the second in line's own (32 waiters)", v,
        v is not None and abs(v - 33 / 32) < 1e-9)
    v = median_of(results, "zkr", "wbig", "heap_bytes_per_waiter")
    add("%d waiters: <= 4 KiB client heap each" % big_n, v, v is not None and v <= 4096, "%.0f B")
    # The long queue and many sessions against the bare client, as the rows above.
    for scen, metric, what, bound in (
            ("wbig", "cpu_us_per_cycle", "%d waiters: drain CPU per waiter" % big_n, 1.3),
            ("wbig", "heap_bytes_per_waiter", "%d waiters: heap per waiter" % big_n, 1.5),
            ("sessions", "heap_bytes_per_session", "%d sessions: heap per session" % sessions_n,
             1.1)):
        r = ratio_of(results, scen, metric, "zkr", "floor-st")
        add("%s <= %.1f x floor-st" % (what, bound), r, r is not None and r <= bound)
    v = median_of(results, "zkr", "wbig", "fifo")
    add("%d waiters: FIFO order" % big_n, None if v is None else str(v), bool(v))
    w = median_of(results, "zkr", "wbig", "watches_per_waiter")
    q = median_of(results, "zkr", "wbig", "requests_per_cycle")
    if w is not None and q is not None:
        add("%d waiters: no herd (1 watch each, few requests per hand-off)" % big_n,
            "%.2f watches, %.2f req" % (w, q), abs(w - 1) < 1e-9 and q <= 5)
    v = median_of(results, "zkr", "sessions", "threads_per_session")
    f = median_of(results, "floor-pipe", "sessions", "threads_per_session")
    add("%d sessions: 0 threads added per session" % sessions_n, v, v is not None and v == 0,
        reference=None if f is None else ("floor-pipe: %.2f" % f, ""))
    v = median_of(results, "zkr", "sessions", "rss_bytes_per_session")
    f = median_of(results, "floor-pipe", "sessions", "rss_bytes_per_session")
    st = median_of(results, "floor-st", "sessions", "rss_bytes_per_session")
    if v is not None and f:
        ref = "floor-pipe: %.0f B" % f
        if st is not None:
            ref += "; floor-st: %.0f B = %.2f x floor-pipe" % (st, st / f)
        add("%d sessions: RSS per session <= 1/4 x floor-pipe's" % sessions_n, v / f,
            v / f <= 0.25, reference=(ref, "" if st is None or st / f <= 0.25 else "*"))
    else:
        add("%d sessions: RSS per session <= 1/4 x floor-pipe's" % sessions_n, None, None)
    return out


def render_file(path):
    """The report of an earlier run, from its JSON lines (targets judged by today's rules)."""
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    results = [r for r in records if r.get("type") == "measurement"]
    summaries = [r for r in records if r.get("type") == "summary"]
    if not summaries:
        sys.exit("%s: no summary line (the run did not finish)" % path)
    meta = summaries[-1]
    big_n = next((r["params"]["n"] for r in results if r["scenario"] == "wbig"), 10000)
    sessions_n = next((r["params"]["n"] for r in results if r["scenario"] == "sessions"), 1000)
    return render(results, meta["rows"], meta, big_n, sessions_n)


def render(results, rows, meta, big_n, sessions_n=1000):
    lines = []
    pairs = [("zkr", "floor-st"), ("zkr", "floor-pipe"), ("zkr", "curator")]
    if "zkr-alt" in rows:
        pairs += [("zkr-alt", "floor-pipe"), ("zkr-alt", "curator")]
    if "zkr-tls" in rows:
        pairs += [("zkr-tls", "zkr"), ("zkr-tls", "floor-st")]
    pairs = [(n, d) for n, d in pairs if n in rows and d in rows]
    head = ["scenario", "metric"] + rows + ["%s/%s" % p for p in pairs]
    table = [head]
    for scen, metric, label, fmt in TABLE:
        cells = []
        any_value = False
        for row in rows:
            v = median_of(results, row, scen, metric)
            if v is None:
                cells.append("-")
            else:
                any_value = True
                cells.append(str(v) if isinstance(v, bool) else fmt % v)
        if not any_value:
            continue
        ratios = []
        for num, den in pairs:
            r = None
            if metric not in ("fifo", "violations", "watches_per_waiter"):
                r = ratio_of(results, scen, metric, num, den)
            ratios.append("-" if r is None else "%.2f" % r)
        name = {"wbig": "w%d" % big_n, "sessions": "s%d" % sessions_n}.get(scen, scen)
        table.append([name, label] + cells + ratios)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        lines.append("  ".join(c.rjust(widths[k]) if k >= 2 else c.ljust(widths[k])
                               for k, c in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("Targets for zkr (ratios: median over repetitions of the ratio within each "
                 "repetition;")
    lines.append("in parentheses, the same bound on floor-st, the bare single-threaded client):")
    footnotes = set()
    for desc, value, ok, ref in targets(results, big_n, sessions_n):
        if ok is None:
            mark = "n/a  "
        elif ok:
            mark = "MET  "
        elif ref is not None and ref[1]:
            mark = "MISS" + ref[1]
            footnotes.add(ref[1])
        else:
            mark = "MISS "
        line = "  %s  %-62s %s" % (mark, desc, value)
        if ref is not None:
            line += "%s   (%s)" % (" " * max(0, 4 - len(value)), ref[0])
        lines.append(line)
    if "*" in footnotes:
        lines.append("  * floor-st (the single-threaded C client driven by epoll, no library) "
                     "misses this bound too:")
        lines.append("    no library on this transport reaches it on this machine")
    for f in meta.get("failures", []):
        lines.append("FAILED  %s %s rep %d: %s" % ({"wbig": "w%d" % big_n}.get(f["scenario"], f["scenario"]),
                                               f["row"], f["rep"], f["error"]))
    lines.append("")
    load = meta["load"]
    lines.append("Load average (1 min) during the run: min %.2f, median %.2f, max %.2f (%d cores)"
                 % (load["min"], load["median"], load["max"], os.cpu_count()))
    lines.append("Date %s, %s, %s; %d repetition(s) (the w%d scenario: %d), %.0f s"
                 % (meta["date"], meta["machine"], meta["kernel"], meta["reps"], big_n,
                    min(meta["big_reps"], meta["reps"]), meta["elapsed_s"]))
    lines.append("Command: %s" % meta["command"])
    return "\n".join(lines)


def machine_name():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // (1024 * 1024)
    return "%s, %d cores, %d GiB" % (model, os.cpu_count(), mem)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts")
    ap.add_argument("--build")
    ap.add_argument("--render", metavar="FILE.jsonl",
                    help="print the table and targets of an earlier run's results, then exit")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--rows", default=",".join(DEFAULT_ROWS),
                    help="any of " + ",".join(ALL_ROWS))
    ap.add_argument("--zkr-alt-build", help="build tree whose zkr driver is row zkr-alt")
    ap.add_argument("--secure-hosts", help="the server's TLS connect string, for row zkr-tls")
    ap.add_argument("--tls-ca", help="the CA file the zkr-tls row trusts")
    ap.add_argument("--scenarios", default="uncontended,c2,c8,c32,w32,wbig,sessions")
    ap.add_argument("--waiters", type=int, help="queued waiters of the big scenario")
    ap.add_argument("--sessions", type=int, help="idle sessions of the sessions scenario")
    ap.add_argument("--long-waiters", type=int, default=20000,
                    help="waiters of the long-queue scenarios wlong (one session) and wlong4 "
                         "(four sessions); these run only when named in --scenarios")
    ap.add_argument("--server-pid", type=int, help="the server's pid, for its resident memory")
    ap.add_argument("--big-reps", type=int, default=1,
                    help="repetitions that include the big waiter scenario (the first ones)")
    ap.add_argument("--rss-cap-gib", type=float, default=16.0,
                    help="stop a driver whose resident memory passes this while waiters queue "
                         "(lowered to what the machine has available less 3 GiB)")
    ap.add_argument("--out")
    ap.add_argument("--command", default="bench/run.sh")
    a = ap.parse_args()

    if a.render:
        print(render_file(a.render))
        return
    if not a.hosts or not a.build:
        ap.error("--hosts and --build are required")
    rows = [r for r in a.rows.split(",") if r]
    for r in rows:
        if r not in ALL_ROWS:
            sys.exit("unknown row %s (rows: %s)" % (r, ", ".join(ALL_ROWS)))
    reps = a.reps or (1 if a.quick else 3)
    secs = 0.5 if a.quick else 2.0
    big_n = a.waiters or (1000 if a.quick else 10000)
    sessions_n = a.sessions or (200 if a.quick else 1000)
    host, port = a.hosts.split(",")[0].rsplit(":", 1)
    port = int(port)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_path = a.out or os.path.join(a.build, "bench-results-%s.jsonl" % stamp)
    log_dir = os.path.join(a.build, "bench-logs")
    os.makedirs(log_dir, exist_ok=True)

    # (scenario, driver kind, parameters, rows, timeout s)
    scenarios = [("uncontended", "uncontended", {"secs": secs}, rows, 120)]
    for n in (2, 8, 32):
        scenarios.append(("c%d" % n, "contended", {"n": n, "secs": secs}, rows, 120))
    scenarios.append(("w32", "waiters", {"n": 32, "shared": 0}, rows, 60))
    # Ten thousand threads are no way to use Curator or kazoo (each blocking acquire owns a
    # thread): that scenario runs for zkr and the floor only.
    big_rows = [r for r in rows if r in BIG_ROWS]
    scenarios.append(("wbig", "waiters", {"n": big_n, "shared": 1}, big_rows, 900))
    # A thousand idle sessions in one process: the old transport (floor-pipe), the new one bare
    # (floor-st) and zkr.
    session_rows = [r for r in rows if r in ("floor-pipe", "floor-st", "zkr", "zkr-alt", "zkr-tls")]
    scenarios.append(("sessions", "sessions", {"n": sessions_n}, session_rows, 300))
    # The long queues (the hardening issue): 20,000 waiters on one session (past the watch
    # budget: part are refused) and on four; zkr against an earlier build (zkr-alt).
    long_rows = [r for r in rows if r in ("zkr", "zkr-alt")]
    scenarios.append(("wlong", "waiters", {"n": a.long_waiters, "shared": 1, "refusable": 1},
                      long_rows, 3600))
    scenarios.append(("wlong4", "waiters", {"n": a.long_waiters, "sessions": 4, "refusable": 1},
                      long_rows, 3600))
    wanted = a.scenarios.split(",")
    long_wanted = [s for s in ("wlong", "wlong4") if s in wanted]
    scenarios = [s for s in scenarios if s[0] in wanted]

    sampler = LoadSampler()
    sampler.start()
    t_start = time.monotonic()
    drivers = {}
    failures = {row: 0 for row in rows}
    failed_runs = []
    results = []
    run_id = stamp

    def warm_up(row):
        """Not recorded: lets the JVM compile its hot paths, and every row connect once."""
        for kind, params in (("uncontended", {"secs": secs}),
                             ("contended", {"n": 8, "secs": secs})):
            measure(drivers[row], kind, params, "/zkr-bench/%s/warmup-%d-%s/%s"
                    % (run_id, failures[row], kind, row), host, port, 120)

    def start(row):
        drivers[row] = Driver(row, driver_argv(row, a.build, a.hosts, a.zkr_alt_build,
                                               (a.secure_hosts, a.tls_ca)), log_dir)
        try:
            warm_up(row)
        except DriverError as e:
            fail(row, e)

    def fail(row, err):
        """A failed measurement: the driver is replaced; a row failing thrice is dropped."""
        failures[row] += 1
        try:
            drivers[row].proc.kill()
            drivers[row].proc.wait()
        except OSError:
            pass
        if failures[row] >= 3:
            print("!! %s: %s; dropped after 3 failures (see %s)"
                  % (row, err, os.path.join(log_dir, row + ".stderr")), flush=True)
            drivers[row].failed = str(err)
            return
        print("!! %s: %s; restarting the driver" % (row, err), flush=True)
        start(row)

    print("rows: %s; %d repetition(s); %s s per timed scenario; %d queued waiters"
          % (", ".join(rows), reps, secs, big_n), flush=True)
    for row in rows:
        start(row)
    with open(out_path, "w") as out:
        # The big queue runs last, in passes of its own: it leaves the drivers' memory bloated
        # (glibc keeps what the listings used) and takes minutes.
        plan = [(rep, s) for rep in range(1, reps + 1) for s in scenarios if s[0] != "wbig"]
        plan += [(rep, s) for rep in range(1, a.big_reps + 1) for s in scenarios if s[0] == "wbig"]
        plan = [(rep, s) for rep, s in plan if s[0] not in ("wlong", "wlong4")]
        plan += [(1, s) for s in scenarios if s[0] in long_wanted]
        for rep, (scen, kind, params, scen_rows, timeout) in plan:
                for row in scen_rows:
                    if drivers[row].failed:
                        continue
                    path = "/zkr-bench/%s/%s-%d/%s" % (run_id, scen, rep, row)
                    t0 = time.monotonic()
                    try:
                        m = measure(drivers[row], kind, params, path, host, port, timeout,
                                    rss_cap=rss_cap(a.rss_cap_gib), server_pid=a.server_pid)
                    except DriverError as e:
                        rec = {"type": "failure", "run": run_id, "rep": rep, "scenario": scen,
                               "row": row, "params": params, "error": str(e)}
                        failed_runs.append(rec)
                        out.write(json.dumps(rec) + "\n")
                        out.flush()
                        fail(row, e)
                        continue
                    with open("/proc/loadavg") as f:
                        load1 = float(f.read().split()[0])
                    rec = {"type": "measurement", "run": run_id, "rep": rep, "scenario": scen,
                           "row": row, "params": params, "metrics": m, "load1": load1,
                           "elapsed_s": round(time.monotonic() - t0, 3)}
                    results.append(rec)
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    brief = ", ".join("%s=%s" % (k, ("%.3g" % v) if isinstance(v, float) else v)
                                      for k, v in m.items()
                                      if k in ("cycles_per_s", "acquire_p50_us", "handoff_p99_us",
                                               "requests_per_cycle", "cpu_us_per_cycle",
                                               "watches_per_waiter", "drain_s", "fifo",
                                               "heap_bytes_per_waiter", "violations"))
                    print("rep %d %-11s %-10s %s" % (rep, scen, row, brief), flush=True)
        for d in drivers.values():
            d.stop()
        sampler.done.set()
        sampler.join()
        meta = {
            "type": "summary", "run": run_id,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": machine_name(), "kernel": platform.platform(),
            "reps": reps, "big_reps": a.big_reps, "quick": a.quick, "rows": rows,
            "failed_rows": {r: d.failed for r, d in drivers.items() if d.failed},
            "failures": failed_runs,
            "elapsed_s": time.monotonic() - t_start, "load": sampler.summary(),
            "command": a.command,
        }
        summary = {}
        for scen, metric, _, _ in TABLE:
            for row in rows:
                v = median_of(results, row, scen, metric)
                if v is not None:
                    summary.setdefault(scen, {}).setdefault(row, {})[metric] = v
        meta["medians"] = summary
        meta["targets"] = []
        for t, v, ok, ref in targets(results, big_n, sessions_n):
            rec = {"target": t, "value": v, "met": ok}
            if ref is not None:
                # floor-st's measurement of the same bound, and what explains a miss
                rec["reference"] = {"floors": ref[0], "explained_by": {
                    "*": "transport", "": None}[ref[1]]}
            meta["targets"].append(rec)
        out.write(json.dumps(meta) + "\n")
    publish(out_path, render(results, rows, meta, big_n, sessions_n))
    if meta["failed_rows"]:
        print("failed rows: %s" % meta["failed_rows"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
