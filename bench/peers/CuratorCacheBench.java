// Cache benchmark driver: Apache Curator's TreeCache (Debian libcurator-recipes-java 5.4), one
// CuratorFramework (one ZooKeeper session), the builder's defaults (data cached, every depth).
//
//   java -cp OUT:/usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorCacheBench --hosts H:P --root PATH
//
// Speaks the cache protocol of bench/cache_orchestrate.py on stdin/stdout. Timestamps are
// System.nanoTime (CLOCK_MONOTONIC on Linux, as the writer's stamps); CPU time is the whole
// JVM's (JIT and GC threads included), from the OperatingSystemMXBean; memory is the process's
// resident set (/proc/self/statm).

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;

public class CuratorCacheBench {
    static final String DRIVER = "curator cache driver";

    /** What the cache's listener saw; the listener runs on Curator's event thread. */
    static final class EventLog {
        final CountDownLatch initialized = new CountDownLatch(1);
        volatile long initializedAt;
        boolean recording;
        long[] latency = new long[1024];
        int events;

        synchronized void update(long now, byte[] data) {
            if (!recording || data == null) return;
            long t;
            try {
                t = Long.parseLong(new String(data, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                return;
            }
            if (events == latency.length) latency = java.util.Arrays.copyOf(latency, events * 2);
            latency[events++] = now - t;
            notifyAll();
        }

        synchronized void record() {
            recording = true;
        }

        /** Waits until `expected` updates were seen, or 5 s passed without one. */
        synchronized int collect(int expected) throws InterruptedException {
            int seen = events;
            while (seen < expected) {
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (events == seen && System.nanoTime() < deadline) {
                    wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
                if (events == seen) break;
                seen = events;
            }
            recording = false;
            return events;
        }
    }

    static long rss() {
        try {
            String[] f = new String(Files.readAllBytes(Paths.get("/proc/self/statm")), StandardCharsets.US_ASCII)
                    .trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096L;
        } catch (Exception e) {
            return 0;
        }
    }

    static void say(String line) {
        DriverLines.say(line);
    }

    static void die(String what) {
        DriverLines.die(DRIVER, what);
    }

    static String[] expect(String verb) throws Exception {
        return DriverLines.expect(DRIVER, verb);
    }

    /** Starts a TreeCache on `root` and waits for its INITIALIZED event: the time it took. */
    static long load(CuratorFramework client, String root, EventLog log, TreeCache[] cache) throws Exception {
        long start = System.nanoTime();
        cache[0] = TreeCache.newBuilder(client, root).build();
        cache[0].getListenable().addListener((c, event) -> {
            long now = System.nanoTime();
            if (event.getType() == TreeCacheEvent.Type.INITIALIZED) {
                log.initializedAt = now;
                log.initialized.countDown();
            } else if (event.getType() == TreeCacheEvent.Type.NODE_UPDATED && event.getData() != null) {
                log.update(now, event.getData().getData());
            }
        });
        cache[0].start();
        if (!log.initialized.await(5, TimeUnit.MINUTES)) die("no INITIALIZED event within 5 minutes");
        return log.initializedAt - start;
    }

    public static void main(String[] args) throws Exception {
        String hosts = null;
        String root = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--hosts")) hosts = args[i + 1];
            if (args[i].equals("--root")) root = args[i + 1];
        }
        if (hosts == null || root == null) {
            System.err.println("usage: CuratorCacheBench --hosts HOST:PORT --root PATH");
            System.exit(2);
        }
        CuratorFramework client = DriverLines.connect(DRIVER, hosts, 30000);
        say("connected");

        expect("load");
        EventLog log = new EventLog();
        TreeCache[] cache = new TreeCache[1];
        long rss0 = rss();
        long loadNs = load(client, root, log, cache);
        long rss1 = rss();
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        say("loaded {\"load_ns\":" + loadNs + ",\"rss_bytes\":" + (rss1 - rss0) + ",\"session\":\"0x"
                + Long.toHexString(session) + "\"}");

        expect("go");
        log.record();
        long cpu0 = DriverLines.cpu();
        say("ready");
        String[] stop = expect("stop");
        int writes = Integer.parseInt(stop[1].substring(stop[1].indexOf('=') + 1));
        int events = log.collect(writes);
        long cpu = DriverLines.cpu() - cpu0;
        StringBuilder done = new StringBuilder("done {\"events\":" + events + ",\"cpu_ns\":" + cpu + ",\"latency_ns\":[");
        synchronized (log) {
            for (int i = 0; i < log.events; i++) done.append(i == 0 ? "" : ",").append(log.latency[i]);
        }
        say(done.append("]}").toString());

        expect("quit");
        client.close();
        System.exit(0);
    }
}
