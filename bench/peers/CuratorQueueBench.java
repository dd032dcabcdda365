// Queue benchmark driver: one process on Apache Curator's queues (Debian libcurator-recipes-java
// 5.4), one CuratorFramework (one ZooKeeper session).
//
//   java -cp OUT:/usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorQueueBench --hosts H:P --kind simple|locked
//
// simple: SimpleDistributedQueue (items "qn-"): offer() to put, take() to consume, at most
//   once, each call awaited before the next, until take() hands over the sentinel.
// locked: DistributedQueue built with a lockPath (the queue's path plus "-locks"): exactly once
//   (an item is locked with an ephemeral node, handed to the consumer, and deleted only once
//   the consumer has returned). Put with putInBackground(false), so that put() returns once
//   the item is written, as the other rows' puts do. It hands items to a QueueConsumer on a
//   thread of its own; the consumer ends when the orchestrator says "stop" (the queue is
//   drained) and the queue is closed. An item's latency is the time from the consumer's
//   previous call (or the start) to this one: the previous item's deletion and this one's lock
//   and read.
//
// Speaks the protocol of bench/queue_protocol.hpp on stdin/stdout. CPU time is the whole JVM's
// (JIT and GC threads included), from the OperatingSystemMXBean.

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.state.ConnectionState;

public class CuratorQueueBench {
    static final String DRIVER = "curator queue driver";
    static final String STOP = "stop";

    /** A growable list of longs. */
    static final class Longs {
        long[] v = new long[1024];
        int n;

        void add(long x) {
            if (n == v.length) v = Arrays.copyOf(v, n * 2);
            v[n++] = x;
        }

        String json() {
            StringBuilder s = new StringBuilder("[");
            for (int i = 0; i < n; i++) s.append(i == 0 ? "" : ",").append(v[i]);
            return s.append("]").toString();
        }
    }

    /** What a consumer was handed (see bench/queue_protocol.hpp's consumption). */
    static final class Consumption {
        final Longs latency = new Longs();
        final Longs ids = new Longs();
        long started = System.nanoTime();
        long last;

        /** An item was handed over; false for the sentinel. */
        synchronized boolean handed(byte[] data) {
            String text = new String(data, StandardCharsets.US_ASCII);
            if (text.equals(STOP)) return false;
            long now = System.nanoTime();
            latency.add(now - started);
            ids.add(Long.parseLong(text));
            last = now;
            return true;
        }

        synchronized void begin() {
            started = System.nanoTime();
        }

        synchronized String report(long start, long cpu) {
            return "took {\"items\":" + ids.n + ",\"wall_ns\":" + (ids.n == 0 ? 0 : last - start)
                    + ",\"cpu_ns\":" + cpu + ",\"latency_ns\":" + latency.json() + ",\"ids\":" + ids.json() + "}";
        }
    }

    static final QueueSerializer<byte[]> BYTES = new QueueSerializer<byte[]>() {
        public byte[] serialize(byte[] item) {
            return item;
        }

        public byte[] deserialize(byte[] bytes) {
            return bytes;
        }
    };

    /** The value of `key`=... among a command's words. */
    static String arg(String[] words, String key) {
        for (String w : words) if (w.startsWith(key + "=")) return w.substring(key.length() + 1);
        DriverLines.die(DRIVER, "no " + key + "= in the command");
        return null;
    }

    static DistributedQueue<byte[]> locked(CuratorFramework client, String path, QueueConsumer<byte[]> consumer)
            throws Exception {
        DistributedQueue<byte[]> q = QueueBuilder.builder(client, consumer, BYTES, path)
                .lockPath(path + "-locks").putInBackground(false).buildQueue();
        q.start();
        return q;
    }

    interface Put {
        void put(byte[] item) throws Exception;
    }

    static String put(CuratorFramework client, String kind, String path, long first, long n) throws Exception {
        DistributedQueue<byte[]> producer = kind.equals("locked") ? locked(client, path, null) : null;
        SimpleDistributedQueue simple = new SimpleDistributedQueue(client, path);
        Put put = producer != null ? producer::put : simple::offer;
        Longs latency = new Longs();
        long cpu0 = DriverLines.cpu();
        long start = System.nanoTime();
        for (long id = first; id < first + n; id++) {
            long t = System.nanoTime();
            put.put(Long.toString(id).getBytes(StandardCharsets.US_ASCII));
            latency.add(System.nanoTime() - t);
        }
        long wall = System.nanoTime() - start;
        long cpu = DriverLines.cpu() - cpu0;
        if (producer != null) producer.close();
        return "put {\"items\":" + n + ",\"wall_ns\":" + wall + ",\"cpu_ns\":" + cpu + ",\"latency_ns\":"
                + latency.json() + "}";
    }

    static String take(CuratorFramework client, String kind, String path) throws Exception {
        long cpu0 = DriverLines.cpu();
        long start = System.nanoTime();
        Consumption c = new Consumption();
        if (kind.equals("locked")) {
            DistributedQueue<byte[]> q = locked(client, path, new QueueConsumer<byte[]>() {
                public void consumeMessage(byte[] message) {
                    c.handed(message);
                    c.begin();
                }

                public void stateChanged(CuratorFramework f, ConnectionState s) {
                }
            });
            DriverLines.expect(DRIVER, "stop");
            q.close();
        } else {
            SimpleDistributedQueue q = new SimpleDistributedQueue(client, path);
            Thread consumer = new Thread(() -> {
                try {
                    for (c.begin(); c.handed(q.take()); c.begin()) {
                    }
                } catch (Exception e) {
                    DriverLines.die(DRIVER, "take: " + e);
                }
            });
            consumer.start();
            DriverLines.expect(DRIVER, "stop");
            consumer.join();
        }
        return c.report(start, DriverLines.cpu() - cpu0);
    }

    public static void main(String[] args) throws Exception {
        String hosts = DriverLines.options(args).get("--hosts");
        String kind = DriverLines.options(args).get("--kind");
        if (hosts == null || !("simple".equals(kind) || "locked".equals(kind))) {
            System.err.println("usage: CuratorQueueBench --hosts HOST:PORT --kind simple|locked");
            System.exit(2);
        }
        CuratorFramework client = DriverLines.connect(DRIVER, hosts, 30000);
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        DriverLines.say("ready {\"session\":\"0x" + Long.toHexString(session) + "\"}");
        for (;;) {
            String line = DriverLines.in.readLine();
            String[] c = line == null ? new String[] {"quit"} : line.trim().split("\\s+");
            if (c[0].equals("quit")) break;
            if (c[0].equals("put")) {
                DriverLines.say(put(client, kind, arg(c, "path"), Long.parseLong(arg(c, "first")),
                        Long.parseLong(arg(c, "n"))));
            } else if (c[0].equals("take")) {
                DriverLines.say(take(client, kind, arg(c, "path")));
            } else {
                DriverLines.die(DRIVER, "unknown command '" + c[0] + "'");
            }
        }
        client.close();
        System.exit(0);
    }
}
