// Peer driver: Apache Curator's SimpleDistributedQueue (curator-recipes 5.4), putting items into
// or taking them from a queue zkr processes use as well.
//
// Usage (compiled and run by the curator-queue wrapper, see java-peer):
//   CuratorQueue HOSTS put|take PATH N
//
// Prints "ready" once connected. put: offers the items "curator-0" ... "curator-(N-1)" in order.
// take: takes N items (waiting for each, SimpleDistributedQueue.take) and prints "took DATA" for
// each. Then prints "done". Exit 0; non-zero with a message on stderr on any failure or when the
// step does not end within its budget.

import java.nio.charset.StandardCharsets;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;

public class CuratorQueue {
    public static void main(String[] args) {
        Peer peer = new Peer("curator-queue " + (args.length > 1 ? args[1] : ""));
        if (args.length != 4) {
            Peer.usage("CuratorQueue HOSTS put|take PATH N");
        }
        String mode = args[1];
        String path = args[2];
        int n = Integer.parseInt(args[3]);
        try {
            CuratorFramework client = peer.connect(args[0]);
            SimpleDistributedQueue queue = new SimpleDistributedQueue(client, path);
            peer.say("ready");
            if (mode.equals("put")) {
                for (int i = 0; i < n; ++i) {
                    queue.offer(("curator-" + i).getBytes(StandardCharsets.UTF_8));
                }
            } else if (mode.equals("take")) {
                for (int i = 0; i < n; ++i) {
                    peer.say("took " + new String(queue.take(), StandardCharsets.UTF_8));
                }
            } else {
                Peer.usage("CuratorQueue HOSTS MODE PATH N: unknown mode " + mode);
            }
            peer.step(mode + " " + n + " items");
            peer.say("done");
            client.close();
        } catch (Exception e) {
            peer.fail(mode + " " + path, e);
        }
        System.exit(0);
    }
}
