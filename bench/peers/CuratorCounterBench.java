// Counter benchmark driver: one contender on Apache Curator's counters (Debian
// libcurator-recipes-java 5.4), one CuratorFramework (one ZooKeeper session).
//
//   java -cp OUT:/usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorCounterBench --hosts H:P --path PATH --kind shared-count|atomic-long
//
// shared-count: SharedCount, incremented as its users do: trySetCount with the versioned value
//   it holds, again with the fresh one until it lands (a refused try re-reads the value; the
//   SharedCount's watch keeps it current meanwhile).
// atomic-long: DistributedAtomicLong.increment() in its optimistic mode without retries of its
//   own (RetryNTimes(0, 0)), again until it reports success: the retries without the sleeps a
//   retry policy would add, so that the row measures the recipe, not a back-off.
//
// Speaks the protocol of bench/counter_protocol.hpp on stdin/stdout. CPU time is the whole JVM's
// (JIT and GC threads included), from the OperatingSystemMXBean.


import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;

public class CuratorCounterBench {
    static final String DRIVER = "curator counter driver";

    interface Adder {
        /** Adds 1, retried until it lands. */
        void addOne() throws Exception;
    }

    /** What one timed stretch did. */
    static final class Stretch {
        long count;
        long[] latency = new long[1024];
        int recorded;
    }

    static void say(String line) {
        DriverLines.say(line);
    }

    /** The next command, which must be `verb`: the value of its ms=N argument (0 if none). */
    static long expectMs(String verb) throws Exception {
        String[] c = DriverLines.expect(DRIVER, verb);
        return c.length > 1 && c[1].startsWith("ms=") ? Long.parseLong(c[1].substring(3)) : 0;
    }

    static Stretch addFor(Adder adder, long ms, boolean record) throws Exception {
        Stretch s = new Stretch();
        long end = System.nanoTime() + ms * 1_000_000L;
        for (long start = System.nanoTime(); start < end; start = System.nanoTime()) {
            adder.addOne();
            if (record) {
                if (s.recorded == s.latency.length) s.latency = java.util.Arrays.copyOf(s.latency, s.recorded * 2);
                s.latency[s.recorded++] = System.nanoTime() - start;
            }
            ++s.count;
        }
        return s;
    }

    static Adder sharedCountAdder(SharedCount count) {
        return () -> {
            for (;;) {
                VersionedValue<Integer> seen = count.getVersionedValue();
                if (count.trySetCount(seen, seen.getValue() + 1)) return;
            }
        };
    }

    static Adder atomicLongAdder(DistributedAtomicLong counter) {
        return () -> {
            while (!counter.increment().succeeded()) {
            }
        };
    }

    public static void main(String[] args) throws Exception {
        String hosts = null;
        String path = null;
        String kind = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--hosts")) hosts = args[i + 1];
            if (args[i].equals("--path")) path = args[i + 1];
            if (args[i].equals("--kind")) kind = args[i + 1];
        }
        if (hosts == null || path == null || !("shared-count".equals(kind) || "atomic-long".equals(kind))) {
            System.err.println("usage: CuratorCounterBench --hosts HOST:PORT --path PATH --kind shared-count|atomic-long");
            System.exit(2);
        }
        CuratorFramework client = DriverLines.connect(DRIVER, hosts, 30000);
        SharedCount shared = null;
        Adder adder;
        if (kind.equals("shared-count")) {
            shared = new SharedCount(client, path, 0);
            shared.start();
            adder = sharedCountAdder(shared);
        } else {
            adder = atomicLongAdder(new DistributedAtomicLong(client, path, new RetryNTimes(0, 0)));
        }
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        say("ready {\"session\":\"0x" + Long.toHexString(session) + "\"}");

        long total = addFor(adder, expectMs("warm"), false).count;
        say("warmed");
        long ms = expectMs("go");
        long cpu0 = DriverLines.cpu();
        long start = System.nanoTime();
        Stretch timed = addFor(adder, ms, true);
        long wall = System.nanoTime() - start;
        long cpu = DriverLines.cpu() - cpu0;
        total += timed.count;
        StringBuilder done = new StringBuilder("done {\"increments\":" + timed.count + ",\"total\":" + total
                + ",\"wall_ns\":" + wall + ",\"cpu_ns\":" + cpu + ",\"latency_ns\":[");
        for (int i = 0; i < timed.recorded; i++) done.append(i == 0 ? "" : ",").append(timed.latency[i]);
        say(done.append("]}").toString());

        DriverLines.expect(DRIVER, "quit");
        if (shared != null) shared.close();
        client.close();
        System.exit(0);
    }
}
