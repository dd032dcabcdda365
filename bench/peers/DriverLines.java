// What the Curator benchmark drivers of the side-by-side benchmarks share: the line protocol's
// ends on stdin/stdout, the process's CPU clock and the connected CuratorFramework they start
// from.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

final class DriverLines {
    static final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    private DriverLines() {
    }

    /** A line to the orchestrator (println takes the stream's lock: lines never interleave). */
    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** Reports `what` as the protocol's error line (and on stderr), and ends the process. */
    static void die(String driver, String what) {
        say("error " + what);
        System.err.println(driver + ": " + what);
        System.exit(1);
    }

    /** The next command's words, the first of which must be `verb` (end of input: "quit"). */
    static String[] expect(String driver, String verb) throws Exception {
        String line = in.readLine();
        String[] c = line == null ? new String[] {"quit"} : line.trim().split("\\s+");
        if (!c[0].equals(verb)) die(driver, "expected '" + verb + "', got '" + c[0] + "'");
        return c;
    }

    /** The "--key value" arguments. */
    static java.util.Map<String, String> options(String[] args) {
        java.util.Map<String, String> opt = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        return opt;
    }

    /** The whole JVM's CPU time (JIT and GC threads included). */
    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** A started CuratorFramework with its session up (RetryNTimes(3, 100), as every driver). */
    static CuratorFramework connect(String driver, String hosts, int sessionTimeoutMs) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(hosts)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(15000)
                .retryPolicy(new RetryNTimes(3, 100))
                .build();
        client.start();
        if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) die(driver, "no ZooKeeper session within 20 s");
        return client;
    }
}
