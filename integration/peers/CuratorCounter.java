// Peer driver: Apache Curator's counters (curator-recipes 5.4), SharedCount and
// DistributedAtomicLong, adding to a counter zkr and kazoo processes add to as well.
//
// Usage (compiled and run by the curator-counter wrapper, see java-peer):
//   CuratorCounter HOSTS shared-count|atomic-long PATH N
//
// Prints "ready" once connected (and, for shared-count, once its SharedCount has started), then
// waits for the end of its stdin (the test closes it when every adder is ready, so that they
// contend), adds 1 to the counter N times, and prints "done LAST", LAST being the value its last
// addition left. Exit 0; non-zero with a message on stderr on any failure or when N additions do
// not land within the step's budget.
//
// shared-count: SharedCount.trySetCount with the versioned value read, again with the fresh one
//   until it lands (Curator's compare-and-set; a failed try re-reads the value).
// atomic-long: DistributedAtomicLong.increment() in its optimistic mode, again until it reports
//   success (a failed increment changed nothing).

import java.io.IOException;
import java.io.InputStream;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;

public class CuratorCounter {
    interface Adder {
        /** Adds 1 once it lands; the value after. */
        long addOne() throws Exception;
    }

    public static void main(String[] args) {
        Peer peer = new Peer("curator-counter " + (args.length > 1 ? args[1] : ""));
        if (args.length != 4) {
            Peer.usage("CuratorCounter HOSTS shared-count|atomic-long PATH N");
        }
        String mode = args[1];
        String path = args[2];
        int n = Integer.parseInt(args[3]);
        try {
            CuratorFramework client = peer.connect(args[0]);
            Adder adder;
            SharedCount shared = null;
            if (mode.equals("shared-count")) {
                shared = new SharedCount(client, path, 0);
                shared.start();
                adder = sharedCountAdder(peer, shared);
            } else if (mode.equals("atomic-long")) {
                adder = atomicLongAdder(peer, new DistributedAtomicLong(
                        client, path, new RetryNTimes(0, 0)));
            } else {
                Peer.usage("CuratorCounter HOSTS MODE PATH N: unknown mode " + mode);
                return;
            }
            peer.step("start the " + mode);
            peer.say("ready");
            drain(System.in);
            peer.step("wait for the start");
            long last = 0;
            for (int i = 0; i < n; ++i) {
                last = adder.addOne();
            }
            peer.step("add " + n + " times");
            peer.say("done " + last);
            if (shared != null) {
                shared.close();
            }
            client.close();
        } catch (Exception e) {
            peer.fail(mode + " " + path, e);
        }
        System.exit(0);
    }

    /** Reads `in` to its end: the test's signal to start. */
    static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[256];
        while (in.read(buffer) >= 0) {
        }
    }

    static Adder sharedCountAdder(Peer peer, SharedCount count) {
        return () -> {
            for (;;) {
                VersionedValue<Integer> seen = count.getVersionedValue();
                if (count.trySetCount(seen, seen.getValue() + 1)) {
                    return seen.getValue() + 1;
                }
                if (peer.leftMs() <= 1) {
                    peer.fail("an addition did not land within the budget", null);
                }
            }
        };
    }

    static Adder atomicLongAdder(Peer peer, DistributedAtomicLong counter) {
        return () -> {
            for (;;) {
                AtomicValue<Long> change = counter.increment();
                if (change.succeeded()) {
                    return change.postValue();
                }
                if (peer.leftMs() <= 1) {
                    peer.fail("an addition did not land within the budget", null);
                }
            }
        };
    }
}
