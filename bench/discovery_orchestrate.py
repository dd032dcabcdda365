#!/usr/bin/python3
"""The discovery benchmark: zkr::service_discovery and Curator's discovery (curator-x-discovery)
on one ZooKeeper server, interleaved, with ratios taken within each repetition.

Started by bench/discovery.sh, which builds the drivers and starts the server:

    discovery_orchestrate.py --hosts 127.0.0.1:PORT --build BUILD_DIR [--quick] [--reps N]
                             [--rows zkr,curator] [--registrations N] [--deaths N]
                             [--session-timeout-ms MS] [--out FILE.jsonl]

Each row is one library in two kinds of processes, both of that library: a watcher (a service
cache of the row's service, printing a line per instance that comes or goes) and registrars.
Per repetition and row, a fresh watcher and a fresh registrar; then, turn by turn across the rows
(one step of each row in turn), 10 registrations not recorded (the JIT's warm-up), and:

* registration: `register id=ID` to the registrar, which stamps its CLOCK_MONOTONIC into the
  instance's payload ({"t": NS}) just before it hands the registration to its client; the
  watcher prints `added ID NOW STAMP`: visibility = NOW - STAMP. Then `unregister id=ID`
  (`unregistered ID T`, T taken just before the request) and the watcher's `removed ID NOW`:
  unregistration = NOW - T.
* death: a registrar of its own registers one instance (its session timeout fixed by
  --session-timeout-ms), is seen by the watcher, and is killed with SIGKILL; the watcher's
  `removed ID NOW`: death to removal = NOW - the orchestrator's clock just before the kill.
  Nothing is subtracted; the table also gives it minus the session timeout.

Every clock is CLOCK_MONOTONIC (C++ clock_gettime, Java System.nanoTime, Python
time.monotonic_ns), one machine.
"""
import json
import os
import signal
import sys
import time

from orchestrate import (Driver, DriverError, SideBySideRun, chosen_rows, footer_lines,
                         metric_table, pct, publish, side_by_side_arguments)

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = ["zkr", "curator"]
BASE = "/zdb"
SCENARIO = "discovery"
WARM_UP = 10  # registrations per row and repetition before any is recorded
CURATOR_DISCOVERY_CP = ("/usr/share/java/curator-recipes.jar:"
                        "/usr/share/java/curator-x-discovery.jar:/usr/share/java/slf4j-nop.jar")


def driver_argv(row, a, name, role):
    bench = os.path.join(a.build, "bench")
    args = ["--hosts", a.hosts, "--base", BASE, "--name", name, "--role", role,
            "--session-timeout-ms", str(a.session_timeout_ms)]
    if row == "zkr":
        return [os.path.join(bench, "zkr-bench-discovery-zkr")] + args
    if row == "curator":
        # The JVM's defaults (G1, tiered JIT), as in the other benchmarks.
        return ["java", "-cp", os.path.join(bench, "peers-java") + ":" + CURATOR_DISCOVERY_CP,
                "CuratorDiscoveryBench"] + args
    raise ValueError(row)


def seen(watcher, verb, instance_id, timeout):
    """The watcher's next line, which must be VERB about INSTANCE_ID: its numbers."""
    rest = watcher.expect(verb, timeout=timeout).split()
    if rest[0] != instance_id:
        raise DriverError("%s: %s %s, expected %s" % (watcher.name, verb, rest[0], instance_id))
    return [int(x) for x in rest[1:]]


class Row:
    """One row's processes within a repetition, and what they measured."""

    def __init__(self, row, rep, a, log_dir):
        self.row, self.rep, self.a, self.log_dir = row, rep, a, log_dir
        self.name = "svc-%s-%d-%d" % (row, rep, os.getpid())
        self.visible, self.gone, self.death = [], [], []
        self.watcher = Driver("discovery-%s-watch" % row, driver_argv(row, a, self.name, "watch"),
                              log_dir)
        self.watcher.expect("ready", timeout=60)
        self.registrar = self.spawn_registrar()

    def spawn_registrar(self):
        drv = Driver("discovery-%s-register" % self.row,
                     driver_argv(self.row, self.a, self.name, "register"), self.log_dir)
        drv.expect("ready", timeout=60)
        return drv

    def warm_up(self, k):
        """A registration not recorded: the JIT's and the first requests' costs."""
        self.register_and_unregister(k, "warm%d", [], [])

    def register_and_measure(self, k):
        self.register_and_unregister(k, "i%d", self.visible, self.gone)

    def register_and_unregister(self, k, pattern, visible, gone):
        instance_id = pattern % k
        self.registrar.send("register id=" + instance_id)
        self.registrar.expect("registered", timeout=30)
        now, stamp = seen(self.watcher, "added", instance_id, 30)
        visible.append(now - stamp)
        self.registrar.send("unregister id=" + instance_id)
        t = int(self.registrar.expect("unregistered", timeout=30).split()[1])
        gone.append(seen(self.watcher, "removed", instance_id, 30)[0] - t)

    def die_once(self, k):
        instance_id = "dead%d" % k
        doomed = self.spawn_registrar()
        try:
            doomed.send("register id=" + instance_id)
            doomed.expect("registered", timeout=30)
            seen(self.watcher, "added", instance_id, 30)
            killed_at = time.monotonic_ns()
            doomed.proc.send_signal(signal.SIGKILL)
        finally:
            doomed.stop()
        timeout_s = 10 + 3 * self.a.session_timeout_ms / 1e3
        self.death.append(seen(self.watcher, "removed", instance_id, timeout_s)[0] - killed_at)

    def close(self):
        self.registrar.stop()
        self.watcher.stop()

    def metrics(self):
        t = self.a.session_timeout_ms
        death_ms = [d / 1e6 for d in self.death]
        return {
            "registrations": len(self.visible),
            "visible_p50_ms": pct(self.visible, 50) / 1e6,
            "visible_p90_ms": pct(self.visible, 90) / 1e6,
            "gone_p50_ms": pct(self.gone, 50) / 1e6,
            "deaths": len(self.death),
            "death_p50_ms": pct(death_ms, 50),
            "death_max_ms": max(death_ms),
            "death_p50_minus_timeout_ms": pct(death_ms, 50) - t,
            "death_max_minus_timeout_ms": max(death_ms) - t,
        }


# (metric, label, format)
TABLE = [
    ("visible_p50_ms", "registration to visible p50 (ms)", "%.2f"),
    ("visible_p90_ms", "registration to visible p90 (ms)", "%.2f"),
    ("gone_p50_ms", "unregistration to removed p50 (ms)", "%.2f"),
    ("death_p50_ms", "SIGKILL to removed p50 (ms)", "%.0f"),
    ("death_max_ms", "SIGKILL to removed max (ms)", "%.0f"),
    ("death_p50_minus_timeout_ms", "  the same minus the timeout, p50 (ms)", "%.0f"),
    ("death_max_minus_timeout_ms", "  the same minus the timeout, max (ms)", "%.0f"),
]


def render(results, rows, meta):
    pairs = [("zkr", "curator")] if "zkr" in rows and "curator" in rows else []
    # Ratios of the raw times only: the timeout subtracted, a ratio says little.
    lines = metric_table(results, rows, pairs, TABLE, SCENARIO, lambda m: "minus" not in m)
    lines += footer_lines(meta, "%d repetition(s), %d registrations and %d deaths per row, "
                          "session timeout %d ms" % (meta["reps"], meta["registrations"],
                                                     meta["deaths"], meta["session_timeout_ms"]))
    return "\n".join(lines)


def main():
    ap = side_by_side_arguments(ROWS, "bench/discovery.sh")
    ap.add_argument("--registrations", type=int)
    ap.add_argument("--deaths", type=int)
    ap.add_argument("--session-timeout-ms", type=int, default=2000)
    a = ap.parse_args()

    rows = chosen_rows(a, ROWS)
    reps = a.reps or (1 if a.quick else 3)
    registrations = a.registrations or (30 if a.quick else 100)
    deaths = a.deaths or (3 if a.quick else 5)
    run = SideBySideRun(a, "discovery")
    out_path, log_dir = run.out_path, run.log_dir
    print("rows: %s; %d repetition(s); %d registrations and %d deaths per row; session timeout "
          "%d ms" % (", ".join(rows), reps, registrations, deaths, a.session_timeout_ms),
          flush=True)

    with open(out_path, "w") as out:
        for rep in range(1, reps + 1):
            live = {}
            for row in rows:
                try:
                    live[row] = Row(row, rep, a, log_dir)
                except DriverError as e:
                    run.failed(out, rep, SCENARIO, row, e)
            # Turn by turn: one registration (then one death) of each row in turn.
            steps = [("warm_up", k) for k in range(WARM_UP)]
            steps += [("register_and_measure", k) for k in range(registrations)]
            steps += [("die_once", k) for k in range(deaths)]
            for step, k in steps:
                for row in list(live):
                    try:
                        getattr(live[row], step)(k)
                    except DriverError as e:
                        run.failed(out, rep, SCENARIO, row, e)
                        live.pop(row).close()
            for row, r in live.items():
                r.close()
                run.measured(out, rep, SCENARIO, row, r.metrics(),
                             raw_ns={"visible": r.visible, "gone": r.gone, "death": r.death})
        meta = run.summary(rows, reps, SCENARIO, TABLE, registrations=registrations,
                           deaths=deaths, session_timeout_ms=a.session_timeout_ms)
        out.write(json.dumps(meta) + "\n")
    publish(out_path, render(run.results, rows, meta))
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
