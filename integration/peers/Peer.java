// What the Curator drivers share: one budget for a driver's own work, each step's duration on
// stderr, the lines the tests read on stdout, the record file, and failing with a message.
//
// Budgets: a driver's start-up, from the launch of the process (the JVM's start included) to its
// first line on stdout, has BUDGET_MS in all: started, connected and its first step done, or it
// says which step was slow and exits 1. After the first line, every step that waits (for a lock,
// a barrier, a request from the test) has BUDGET_MS of its own. The tests wait longer for a
// driver's line (peer_start_limit, 60 s, in integration/test_support.hpp), so a slow driver
// always reports before the test gives up.

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;

final class Peer {
    static final long BUDGET_MS = 45_000;
    static final int SESSION_TIMEOUT_MS = 4000;
    static final int CONNECTION_TIMEOUT_MS = 3000;
    static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    final String name;
    final long pid = ProcessHandle.current().pid();
    private final long launchedMs;
    private long lastStepMs;
    private boolean said;
    private final AtomicReference<ConnectionState> lost = new AtomicReference<>();

    /** Reports the launch (JVM start-up, class loading) as the first step. */
    Peer(String name) {
        this.name = name;
        launchedMs = System.currentTimeMillis() - ageMs();
        lastStepMs = launchedMs;
        step("launch");
    }

    /**
     * How long ago the process started, from /proc (ProcessHandle's start instant is only as
     * precise as the boot time's whole seconds). USER_HZ is 100 on Linux.
     */
    static long ageMs() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(fields[19]);
            String uptime = Files.readString(Path.of("/proc/uptime")).split(" ")[0];
            return Math.max(0, (long) (Double.parseDouble(uptime) * 1000) - startTicks * 10);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** "HH:mm:ss.SSS NAME: WHAT took N ms (T ms since launch)" on stderr. */
    void step(String what) {
        long now = System.currentTimeMillis();
        note(what + " took " + (now - lastStepMs) + " ms (" + (now - launchedMs)
                + " ms since launch)");
        lastStepMs = now;
    }

    void note(String text) {
        String clock = LocalTime.now(ZoneId.systemDefault()).format(CLOCK);
        System.err.println(clock + " " + name + ": " + text);
        System.err.flush();
    }

    /**
     * What is left for the current step, in ms: of the start-up budget before the first line, of
     * the step's own budget after it (at least 1: a wait of 0 would mean "forever").
     */
    long leftMs() {
        long since = said ? lastStepMs : launchedMs;
        return Math.max(1, since + BUDGET_MS - System.currentTimeMillis());
    }

    /** Fails unless `done` holds: WHAT did not finish within the budget. */
    void within(boolean done, String what) {
        if (!done) {
            fail(what + " not done within the budget of " + BUDGET_MS + " ms (that step ran "
                    + (System.currentTimeMillis() - lastStepMs) + " ms)", null);
        }
        step(what);
    }

    void fail(String msg, Throwable t) {
        note("FAILED: " + msg + (t == null ? "" : ": " + t));
        System.exit(1);
    }

    static void usage(String text) {
        System.err.println("usage: " + text);
        System.exit(2);
    }

    void say(String line) {
        System.out.println(line);
        System.out.flush();
        said = true;
    }

    /** A started client, connected within the budget (step "connect"). */
    CuratorFramework connect(String hosts) throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.newClient(
                hosts, SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, new RetryNTimes(3, 100));
        client.getConnectionStateListenable().addListener(
                (c, state) -> note("connection " + state));
        client.start();
        within(client.blockUntilConnected((int) leftMs(), TimeUnit.MILLISECONDS),
                "connect to " + hosts);
        return client;
    }

    /**
     * Remembers the first LOST or SUSPENDED state of `client`: a connection lost voids the
     * exclusion a record shows, so failIfLost fails the run rather than report a clean record.
     */
    void trackLoss(CuratorFramework client) {
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.LOST || state == ConnectionState.SUSPENDED) {
                lost.compareAndSet(null, state);
            }
        });
    }

    void failIfLost(String during) {
        if (lost.get() != null) {
            fail("connection " + lost.get() + " during " + during, null);
        }
    }

    /** One write(2) on an O_APPEND descriptor per line. */
    static void appendLine(FileOutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
