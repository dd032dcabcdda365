// Peer driver: Apache Curator LeaderLatch.
//
// Usage (compiled and run by the curator-latch wrapper, see java-peer):
//   CuratorLatch HOSTS PATH ID RECORD_FILE HOLD_MS ROUNDS
//
// ROUNDS times: new LeaderLatch(client, PATH, ID).start(); await() (at most Peer.BUDGET_MS);
// append "lead <ID> <pid>"; hold HOLD_MS ms; append "unlead <ID> <pid>";
// close the latch (deletes our node, handing leadership to the next one).
// Prints "ready" once connected and "done <pid> <ROUNDS>" at the end; each step's duration goes
// to stderr (Peer.java). Exit 0 on success; non-zero with a message on stderr on any failure.

import java.io.FileOutputStream;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;

public class CuratorLatch {
    public static void main(String[] args) {
        Peer peer = new Peer("curator-latch");
        String usage = "CuratorLatch HOSTS PATH ID RECORD_FILE HOLD_MS ROUNDS";
        if (args.length != 6) {
            Peer.usage(usage);
        }
        String path = args[1];
        String id = args[2];
        String recordFile = args[3];
        long holdMs = 0;
        int rounds = 0;
        try {
            holdMs = Long.parseLong(args[4]);
            rounds = Integer.parseInt(args[5]);
        } catch (NumberFormatException e) {
            Peer.usage(usage + ": HOLD_MS and ROUNDS must be integers");
        }
        if (rounds < 0 || holdMs < 0) {
            Peer.usage(usage + ": HOLD_MS and ROUNDS must be >= 0");
        }
        try {
            CuratorFramework client = peer.connect(args[0]);
            peer.trackLoss(client);
            peer.say("ready");
            for (int i = 0; i < rounds; i++) {
                LeaderLatch latch = new LeaderLatch(client, path, id);
                latch.start();
                try {
                    peer.within(latch.await(peer.leftMs(), TimeUnit.MILLISECONDS), "lead");
                    try (FileOutputStream out = new FileOutputStream(recordFile, true)) {
                        Peer.appendLine(out, "lead " + id + " " + peer.pid);
                        if (holdMs > 0) Thread.sleep(holdMs);
                        Peer.appendLine(out, "unlead " + id + " " + peer.pid);
                    }
                } finally {
                    latch.close();
                }
                peer.failIfLost("round " + i);
            }
            client.close();
        } catch (Exception e) {
            peer.fail("error", e);
        }
        peer.say("done " + peer.pid + " " + rounds);
        System.exit(0);
    }
}
