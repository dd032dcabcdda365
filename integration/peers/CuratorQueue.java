// Peer driver: Apache Curator's queues (curator-recipes 5.4), putting items into or taking them
// from a queue zkr processes use as well.
//
// Usage (compiled and run by the curator-queue wrapper, see java-peer):
//   CuratorQueue HOSTS MODE PATH N [LOCKPATH]
//
// MODE names the recipe and the step:
//   put, take                         SimpleDistributedQueue
//   distributed-put, distributed-take DistributedQueue
//   priority-put, priority-take       DistributedPriorityQueue (put: item i has priority i % 3)
//   delay-put, delay-take             DistributedDelayQueue (put: item i is due
//                                     300 + 50 * (N - i) ms from the start, so the last due first)
// The DistributedQueue family is built with the lockPath LOCKPATH (default PATH/zkr-claims, zkr's
// claims directory) and puts in the foreground, one item per node.
//
// Prints "ready" once connected. put: offers the items "curator-0" ... "curator-(N-1)" in order
// (delay-put prints "due DATA EPOCH_MS" for each). take: takes N items and prints "took DATA"
// for each (delay-take: "took DATA EPOCH_MS", the wall clock when it was handed over). Then
// prints "done". Exit 0; non-zero with a message on stderr on any failure or when the step does
// not end within its budget.

import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.queue.DistributedDelayQueue;
import org.apache.curator.framework.recipes.queue.DistributedPriorityQueue;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.framework.state.ConnectionState;

public class CuratorQueue {
    static final QueueSerializer<String> STRINGS = new QueueSerializer<String>() {
        @Override
        public byte[] serialize(String item) {
            return item.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String deserialize(byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    };

    /// Hands what Curator's consumer thread receives to the main thread, in order.
    static final class Received implements QueueConsumer<String> {
        final LinkedBlockingQueue<String> items = new LinkedBlockingQueue<>();

        @Override
        public void consumeMessage(String message) {
            items.add(message + (timed ? " " + System.currentTimeMillis() : ""));
        }

        @Override
        public void stateChanged(CuratorFramework client, ConnectionState newState) {}

        boolean timed = false;
    }

    public static void main(String[] args) {
        Peer peer = new Peer("curator-queue " + (args.length > 1 ? args[1] : ""));
        if (args.length != 4 && args.length != 5) {
            Peer.usage("CuratorQueue HOSTS MODE PATH N [LOCKPATH]");
        }
        String mode = args[1];
        String path = args[2];
        int n = Integer.parseInt(args[3]);
        try {
            CuratorFramework client = peer.connect(args[0]);
            if (mode.equals("put") || mode.equals("take")) {
                simple(peer, new SimpleDistributedQueue(client, path), mode, n);
            } else {
                distributed(peer, client, mode, path, n,
                        args.length == 5 ? args[4] : path + "/zkr-claims");
            }
            peer.step(mode + " " + n + " items");
            peer.say("done");
            client.close();
        } catch (Exception e) {
            peer.fail(mode + " " + path, e);
        }
        System.exit(0);
    }

    static void simple(Peer peer, SimpleDistributedQueue queue, String mode, int n) throws Exception {
        peer.say("ready");
        for (int i = 0; i < n; ++i) {
            if (mode.equals("put")) {
                queue.offer(("curator-" + i).getBytes(StandardCharsets.UTF_8));
            } else {
                peer.say("took " + new String(queue.take(), StandardCharsets.UTF_8));
            }
        }
    }

    static void distributed(Peer peer, CuratorFramework client, String mode, String path, int n,
            String lockPath) throws Exception {
        boolean put = mode.endsWith("-put");
        if (!put && !mode.endsWith("-take")) {
            Peer.usage("CuratorQueue HOSTS MODE PATH N: unknown mode " + mode);
        }
        String recipe = mode.substring(0, mode.lastIndexOf('-'));
        Received received = new Received();
        received.timed = recipe.equals("delay");
        QueueBuilder<String> builder = QueueBuilder.builder(client, put ? null : received, STRINGS, path)
                .lockPath(lockPath)
                .putInBackground(false);
        long start = System.currentTimeMillis();
        if (recipe.equals("distributed")) {
            DistributedQueue<String> queue = builder.buildQueue();
            queue.start();
            peer.say("ready");
            for (int i = 0; put && i < n; ++i) {
                queue.put("curator-" + i);
            }
            takeAll(peer, received, put ? 0 : n);
            queue.close();
        } else if (recipe.equals("priority")) {
            DistributedPriorityQueue<String> queue = builder.buildPriorityQueue(0);
            queue.start();
            peer.say("ready");
            for (int i = 0; put && i < n; ++i) {
                queue.put("curator-" + i, i % 3);
            }
            takeAll(peer, received, put ? 0 : n);
            queue.close();
        } else if (recipe.equals("delay")) {
            DistributedDelayQueue<String> queue = builder.buildDelayQueue();
            queue.start();
            peer.say("ready");
            for (int i = 0; put && i < n; ++i) {
                long due = start + 300 + 50L * (n - i);
                queue.put("curator-" + i, due);
                peer.say("due curator-" + i + " " + due);
            }
            takeAll(peer, received, put ? 0 : n);
            queue.close();
        } else {
            Peer.usage("CuratorQueue HOSTS MODE PATH N: unknown mode " + mode);
        }
    }

    static void takeAll(Peer peer, Received received, int n) throws Exception {
        for (int i = 0; i < n; ++i) {
            String item = received.items.poll(Peer.BUDGET_MS, TimeUnit.MILLISECONDS);
            peer.within(item != null, "take item " + i);
            peer.say("took " + item);
        }
    }
}
