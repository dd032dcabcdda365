// Benchmark driver: Apache Curator's InterProcessMutex (Debian libcurator-recipes-java 5.4).
//
//   javac -d OUT -cp /usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar CuratorBench.java
//   java -cp OUT:/usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar CuratorBench --hosts H:P
//
// Speaks the line protocol of bench/common.hpp on stdin/stdout (run / ready / go / done / end /
// closed / quit). Every contender is a thread with a CuratorFramework of its own (its own
// ZooKeeper session) and an InterProcessMutex of its own: Curator's locks belong to a thread, so
// this is how a Java application contends. Timestamps are System.nanoTime (CLOCK_MONOTONIC on
// Linux); CPU time is the whole JVM's (JIT and GC threads included), taken from the
// OperatingSystemMXBean.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;

public class CuratorBench {
    static final int SESSION_TIMEOUT_MS = 30000;
    static String hosts;
    static BufferedReader in;

    /** InterProcessMutex that shows its node (for the FIFO check). */
    static final class Mutex extends InterProcessMutex {
        Mutex(CuratorFramework client, String path) {
            super(client, path);
        }

        String node() {
            return getLockPath();  // the calling thread's node
        }
    }

    /** A growable long array: no boxing on the measured path. */
    static final class Longs {
        long[] v = new long[1024];
        int n = 0;

        void add(long x) {
            if (n == v.length) v = java.util.Arrays.copyOf(v, n * 2);
            v[n++] = x;
        }
    }

    /** A flat JSON object of numbers and integer arrays. */
    static final class Json {
        final StringBuilder sb = new StringBuilder("{");

        Json key(String k) {
            if (sb.length() > 1) sb.append(',');
            sb.append('"').append(k).append("\":");
            return this;
        }

        Json num(String k, long v) {
            key(k).sb.append(v);
            return this;
        }

        Json bool(String k, boolean v) {
            key(k).sb.append(v);
            return this;
        }

        Json array(String k, long[] v, int n) {
            key(k).sb.append('[');
            for (int i = 0; i < n; i++) {
                if (i > 0) sb.append(',');
                sb.append(v[i]);
            }
            sb.append(']');
            return this;
        }

        String text() {
            return sb.toString() + "}";
        }
    }

    static long now() {
        return System.nanoTime();
    }

    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
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

    static long heap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void die(String what, Throwable t) {
        say("error " + what + (t == null ? "" : ": " + t));
        System.err.println("curator driver: " + what);
        if (t != null) t.printStackTrace();
        System.exit(1);
    }

    static String[] readCommand() throws Exception {
        String line = in.readLine();
        return line == null ? new String[] {"quit"} : line.trim().split("\\s+");
    }

    static void expect(String verb) throws Exception {
        String[] c = readCommand();
        if (!c[0].equals(verb)) die("expected '" + verb + "', got '" + c[0] + "'", null);
    }

    static long sequenceOf(String node) {
        return Long.parseLong(node.substring(node.length() - 10));
    }

    static List<CuratorFramework> open(int n) throws Exception {
        List<CuratorFramework> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CuratorFramework c = CuratorFrameworkFactory.builder()
                    .connectString(hosts)
                    .sessionTimeoutMs(SESSION_TIMEOUT_MS)
                    .connectionTimeoutMs(15000)
                    .retryPolicy(new RetryNTimes(3, 100))
                    .build();
            c.start();
            clients.add(c);
        }
        for (CuratorFramework c : clients) {
            if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) die("no ZooKeeper session within 20 s", null);
        }
        return clients;
    }

    static void ensureDir(CuratorFramework c, String dir) throws Exception {
        try {
            c.create().creatingParentsIfNeeded().forPath(dir);
        } catch (KeeperException.NodeExistsException e) {
            // fine
        }
    }

    static void teardown(List<CuratorFramework> clients) throws Exception {
        expect("end");
        for (CuratorFramework c : clients) c.close();
    }

    static void uncontended(Map<String, String> args) throws Exception {
        String dir = args.get("dir");
        double secs = Double.parseDouble(args.getOrDefault("secs", "2"));
        List<CuratorFramework> clients = open(1);
        ensureDir(clients.get(0), dir);
        Mutex m = new Mutex(clients.get(0), dir);
        Longs acq = new Longs();
        Longs rel = new Longs();
        say("ready");
        expect("go");
        long cpu0 = cpu();
        long start = now();
        long end = start + (long) (secs * 1e9);
        for (;;) {
            long t0 = now();
            m.acquire();
            long t1 = now();
            m.release();
            long t2 = now();
            acq.add(t1 - t0);
            rel.add(t2 - t1);
            if (t2 >= end) break;
        }
        long wall = now() - start;
        long cpu = cpu() - cpu0;
        say("done " + new Json().num("cycles", acq.n).num("wall_ns", wall).num("cpu_ns", cpu)
                .array("acquire_ns", acq.v, acq.n).array("release_ns", rel.v, rel.n).text());
        teardown(clients);
    }

    static void contended(Map<String, String> args) throws Exception {
        String dir = args.get("dir");
        double secs = Double.parseDouble(args.getOrDefault("secs", "2"));
        int n = Integer.parseInt(args.getOrDefault("n", "8"));
        List<CuratorFramework> clients = open(n);
        ensureDir(clients.get(0), dir);
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger holders = new AtomicInteger();
        AtomicLong violations = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Longs[] acq = new Longs[n];
        Longs[] rel = new Longs[n];
        long[] window = new long[2];  // start, end: written before go.countDown()
        boolean[] stop = {false};
        Object stopLock = new Object();
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int id = i;
            acq[i] = new Longs();
            rel[i] = new Longs();
            final Mutex m = new Mutex(clients.get(i), dir);
            threads[i] = new Thread(() -> {
                try {
                    go.await();
                    long start = window[0];
                    long end = window[1];
                    for (;;) {
                        m.acquire();
                        long t = now();
                        if (holders.getAndIncrement() != 0) violations.incrementAndGet();
                        acq[id].add(t - start);
                        holders.decrementAndGet();
                        rel[id].add(now() - start);
                        m.release();
                        synchronized (stopLock) {
                            if (stop[0] || now() >= end) {
                                stop[0] = true;
                                break;
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            threads[i].start();
        }
        say("ready");
        expect("go");
        long cpu0 = cpu();
        window[0] = now();
        window[1] = window[0] + (long) (secs * 1e9);
        go.countDown();
        for (Thread t : threads) t.join();
        long wall = now() - window[0];
        long cpu = cpu() - cpu0;
        if (failure.get() != null) die("contender failed", failure.get());
        Longs a = new Longs();
        Longs r = new Longs();
        Longs who = new Longs();
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < acq[i].n; k++) {
                a.add(acq[i].v[k]);
                r.add(rel[i].v[k]);
                who.add(i);
            }
        }
        say("done " + new Json().num("cycles", a.n).num("wall_ns", wall).num("cpu_ns", cpu)
                .num("violations", violations.get()).array("acquired", a.v, a.n)
                .array("released", r.v, r.n).array("who", who.v, who.n).text());
        teardown(clients);
    }

    static void waiters(Map<String, String> args) throws Exception {
        String dir = args.get("dir");
        int n = Integer.parseInt(args.getOrDefault("n", "32"));
        boolean shared = !args.getOrDefault("shared", "0").equals("0");
        List<CuratorFramework> clients = open(shared ? 1 : n + 1);
        ensureDir(clients.get(0), dir);
        AtomicReference<Throwable> failure = new AtomicReference<>();

        // The holder: a thread that takes the lock and gives it back on "go".
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        Mutex hm = new Mutex(clients.get(0), dir);
        Thread holder = new Thread(() -> {
            try {
                hm.acquire();
                held.countDown();
                letGo.await();
                hm.release();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                held.countDown();
            }
        });
        holder.start();
        held.await();
        if (failure.get() != null) die("holder failed", failure.get());
        say("setup");
        expect("queue");  // the orchestrator has counted the watches of the sessions alone

        long heap0 = heap();
        long rss0 = rss();
        long queueStart = now();
        List<Long> order = new ArrayList<>();
        AtomicInteger holders = new AtomicInteger();
        AtomicLong violations = new AtomicLong();
        CountDownLatch drained = new CountDownLatch(n);
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            final Mutex m = new Mutex(clients.get(shared ? 0 : i + 1), dir);
            threads[i] = new Thread(() -> {
                try {
                    m.acquire();
                    if (holders.getAndIncrement() != 0) violations.incrementAndGet();
                    synchronized (order) {
                        order.add(sequenceOf(m.node()));
                    }
                    holders.decrementAndGet();
                    m.release();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                drained.countDown();
            });
            threads[i].start();
        }
        say("ready");
        expect("go");
        long queued = now() - queueStart;
        long heap1 = heap();
        long rss1 = rss();
        long cpu0 = cpu();
        long start = now();
        letGo.countDown();
        drained.await();
        long wall = now() - start;
        long cpu = cpu() - cpu0;
        for (Thread t : threads) t.join();
        holder.join();
        if (failure.get() != null) die("waiter failed", failure.get());
        boolean fifo = true;
        for (int i = 1; i < order.size(); i++) {
            if (order.get(i) <= order.get(i - 1)) fifo = false;
        }
        say("done " + new Json().num("waiters", n).num("cycles", order.size()).num("wall_ns", wall)
                .num("cpu_ns", cpu).num("queued_ns", queued).num("heap_bytes", heap1 - heap0)
                .num("rss_bytes", rss1 - rss0).bool("fifo", fifo).num("violations", violations.get()).text());
        teardown(clients);
    }

    public static void main(String[] argv) throws Exception {
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (argv[i].equals("--hosts")) hosts = argv[i + 1];
        }
        if (hosts == null) {
            System.err.println("usage: CuratorBench --hosts HOST:PORT");
            System.exit(2);
        }
        in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (;;) {
            String[] c = readCommand();
            if (c[0].equals("quit")) break;
            if (!c[0].equals("run") || c.length < 2) die("unknown command '" + String.join(" ", c) + "'", null);
            Map<String, String> args = new HashMap<>();
            for (int i = 2; i < c.length; i++) {
                int eq = c[i].indexOf('=');
                if (eq > 0) args.put(c[i].substring(0, eq), c[i].substring(eq + 1));
            }
            try {
                switch (c[1]) {
                    case "uncontended":
                        uncontended(args);
                        break;
                    case "contended":
                        contended(args);
                        break;
                    case "waiters":
                        waiters(args);
                        break;
                    default:
                        die("unknown scenario '" + c[1] + "'", null);
                }
            } catch (Exception e) {
                die("scenario " + c[1] + " failed", e);
            }
            say("closed");
        }
        System.exit(0);
    }
}
