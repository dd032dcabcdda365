// Peer driver: Apache Curator LeaderLatch.
//
// Usage (source-launch mode, Java 11+; see the curator-latch wrapper):
//   java -cp /usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorLatch.java HOSTS PATH ID RECORD_FILE HOLD_MS ROUNDS
//
// ROUNDS times: new LeaderLatch(client, PATH, ID).start(); await();
// append "lead <ID> <pid>"; hold HOLD_MS ms; append "unlead <ID> <pid>";
// close the latch (deletes our node, handing leadership to the next one).
// Prints "ready" once connected and "done <pid> <ROUNDS>" at the end.
// Exit 0 on success; non-zero with a message on stderr on any failure.

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;

public class CuratorLatch {
    static final int SESSION_TIMEOUT_MS = 4000;
    static final int CONNECTION_TIMEOUT_MS = 3000;
    static final int CONNECT_WAIT_S = 30;

    static void fail(String msg, Throwable t) {
        System.err.println("curator-latch driver: " + msg + (t == null ? "" : ": " + t));
        System.err.flush();
        System.exit(1);
    }

    /** One write(2) on an O_APPEND descriptor per line. */
    static void appendLine(FileOutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: CuratorLatch HOSTS PATH ID RECORD_FILE HOLD_MS ROUNDS");
            System.exit(2);
        }
        String hosts = args[0];
        String path = args[1];
        String id = args[2];
        String recordFile = args[3];
        long holdMs = 0;
        int rounds = 0;
        try {
            holdMs = Long.parseLong(args[4]);
            rounds = Integer.parseInt(args[5]);
        } catch (NumberFormatException e) {
            System.err.println("CuratorLatch: HOLD_MS and ROUNDS must be integers");
            System.exit(2);
        }
        if (rounds < 0 || holdMs < 0) {
            System.err.println("CuratorLatch: HOLD_MS and ROUNDS must be >= 0");
            System.exit(2);
        }
        long pid = ProcessHandle.current().pid();

        CuratorFramework client = CuratorFrameworkFactory.newClient(
                hosts, SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, new RetryNTimes(3, 100));
        AtomicReference<ConnectionState> badState = new AtomicReference<>();
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.LOST || state == ConnectionState.SUSPENDED) {
                badState.compareAndSet(null, state);
            }
        });
        try {
            client.start();
            if (!client.blockUntilConnected(CONNECT_WAIT_S, TimeUnit.SECONDS)) {
                fail("could not connect to " + hosts + " within " + CONNECT_WAIT_S + " s", null);
            }
            System.out.println("ready");
            System.out.flush();

            for (int i = 0; i < rounds; i++) {
                LeaderLatch latch = new LeaderLatch(client, path, id);
                latch.start();
                try {
                    latch.await();
                    if (!latch.hasLeadership()) {
                        fail("await() returned without leadership in round " + i, null);
                    }
                    try (FileOutputStream out = new FileOutputStream(recordFile, true)) {
                        appendLine(out, "lead " + id + " " + pid);
                        if (holdMs > 0) Thread.sleep(holdMs);
                        appendLine(out, "unlead " + id + " " + pid);
                    }
                } finally {
                    latch.close();
                }
                if (badState.get() != null) {
                    fail("connection state " + badState.get() + " during round " + i, null);
                }
            }
            client.close();
        } catch (Exception e) {
            fail("error", e);
        }
        System.out.println("done " + pid + " " + rounds);
        System.out.flush();
        System.exit(0);
    }
}
