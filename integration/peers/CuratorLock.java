// Peer driver: Apache Curator InterProcessMutex, and the other recipes that queue on one path.
//
// Usage (compiled and run by the curator-lock wrapper, see java-peer):
//   CuratorLock HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]
//
// ITERATIONS times: acquire (at most Peer.BUDGET_MS), append "enter curator <pid>", hold
// HOLD_MS ms (default 2), append "exit curator <pid>", release.
// CURATOR_RECIPE in the environment picks the recipe instead of InterProcessMutex:
//   read, write    that side of an InterProcessReadWriteLock on LOCK_PATH (a reader's lines are
//                  "enter-read"/"exit-read")
//   semaphore:MAX  a lease of an InterProcessSemaphoreV2 of MAX leases on LOCK_PATH
//   selector       leadership of a LeaderSelector on LOCK_PATH (lines "lead"/"unlead"), given up
//                  after the hold
// Prints "ready" once connected and "done <pid> <ITERATIONS>" at the end; each step's duration
// goes to stderr (Peer.java). Exit 0 on success; non-zero with a message on stderr on any
// failure, a lost or suspended connection included.

import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.zookeeper.KeeperException;

public class CuratorLock {
    static final String NAME = "curator";
    static final TimeUnit MS = TimeUnit.MILLISECONDS;

    /** One way of taking the path: a held turn is released by closing it. */
    interface Recipe {
        AutoCloseable take(Peer peer) throws Exception;
    }

    public static void main(String[] args) {
        String kind = System.getenv().getOrDefault("CURATOR_RECIPE", "mutex");
        Peer peer = new Peer("curator-lock " + kind);
        String usage = "CuratorLock HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]";
        if (args.length < 4 || args.length > 5) {
            Peer.usage(usage);
        }
        String path = args[1];
        String recordFile = args[3];
        int iterations = 0;
        long holdMs = 2;
        try {
            iterations = Integer.parseInt(args[2]);
            if (args.length == 5) holdMs = Long.parseLong(args[4]);
        } catch (NumberFormatException e) {
            Peer.usage(usage + ": ITERATIONS and HOLD_MS must be integers");
        }
        if (iterations < 0 || holdMs < 0) {
            Peer.usage(usage + ": ITERATIONS and HOLD_MS must be >= 0");
        }
        try {
            CuratorFramework client = peer.connect(args[0]);
            peer.trackLoss(client);
            peer.say("ready");
            Recipe recipe = recipe(client, path, kind);
            boolean leads = kind.equals("selector");
            String suffix = kind.equals("read") ? "-read" : "";
            String enter = leads ? "lead" : "enter" + suffix;
            String exit = leads ? "unlead" : "exit" + suffix;
            for (int i = 0; i < iterations; i++) {
                try (AutoCloseable turn = recipe.take(peer);
                        FileOutputStream out = new FileOutputStream(recordFile, true)) {
                    Peer.appendLine(out, enter + " " + NAME + " " + peer.pid);
                    if (holdMs > 0) Thread.sleep(holdMs);
                    Peer.appendLine(out, exit + " " + NAME + " " + peer.pid);
                }
                peer.failIfLost("iteration " + i);
            }
            client.close();
            peer.step(iterations + " iterations");
        } catch (Exception e) {
            peer.fail("error", e);
        }
        peer.say("done " + peer.pid + " " + iterations);
        System.exit(0);
    }

    static Recipe recipe(CuratorFramework client, String path, String kind) {
        if (kind.startsWith("semaphore:")) {
            InterProcessSemaphoreV2 semaphore =
                    new InterProcessSemaphoreV2(client, path, Integer.parseInt(kind.substring(10)));
            return peer -> {
                Lease lease = semaphore.acquire(peer.leftMs(), MS);
                peer.within(lease != null, "acquire a lease");
                return lease;
            };
        }
        if (kind.equals("selector")) {
            return peer -> selector(client, path, peer);
        }
        InterProcessMutex mutex;
        switch (kind) {
            case "mutex":
                mutex = new InterProcessMutex(client, path);
                break;
            case "read":
                mutex = new InterProcessReadWriteLock(client, path).readLock();
                break;
            case "write":
                mutex = new InterProcessReadWriteLock(client, path).writeLock();
                break;
            default:
                Peer.usage("CURATOR_RECIPE=mutex|read|write|semaphore:MAX|selector, not " + kind);
                return null;
        }
        return peer -> {
            peer.within(mutex.acquire(peer.leftMs(), MS), "acquire");
            return mutex::release;
        };
    }

    /**
     * Leadership of a new LeaderSelector: the listener holds it (on the selector's thread) until
     * the turn is closed, then returns, which gives it up. close() of a LeaderSelector does not
     * wait for its mutex to be released: the turn waits until the node carrying our id is gone.
     */
    static AutoCloseable selector(CuratorFramework client, String path, Peer peer)
            throws Exception {
        CountDownLatch leading = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        LeaderSelector selector =
                new LeaderSelector(client, path, new LeaderSelectorListenerAdapter() {
                    @Override
                    public void takeLeadership(CuratorFramework c) throws Exception {
                        leading.countDown();
                        done.await();
                    }
                });
        String id = NAME + "-" + peer.pid + "-" + UUID.randomUUID();
        selector.setId(id);
        selector.start();
        peer.within(leading.await(peer.leftMs(), MS), "take leadership");
        return () -> {
            done.countDown();
            peer.within(noChildHolds(peer, client, path, id), "give up leadership");
            selector.close();
        };
    }

    /** Waits within the budget until no child of `path` holds `data` (a watch, no polling). */
    static boolean noChildHolds(Peer peer, CuratorFramework client, String path, String data)
            throws Exception {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        for (;;) {
            CountDownLatch event = new CountDownLatch(1);
            CuratorWatcher wake = e -> event.countDown();
            boolean held = false;
            for (String child : client.getChildren().usingWatcher(wake).forPath(path)) {
                try {
                    held |= Arrays.equals(client.getData().forPath(path + "/" + child), bytes);
                } catch (KeeperException.NoNodeException gone) {
                    // deleted since the listing
                }
            }
            if (!held) {
                return true;
            }
            if (!event.await(peer.leftMs(), MS)) {
                return false;
            }
        }
    }
}
