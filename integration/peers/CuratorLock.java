// Peer driver: Apache Curator InterProcessMutex.
//
// Usage (source-launch mode, Java 11+; see the curator-lock wrapper):
//   java -cp /usr/share/java/curator-recipes.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorLock.java HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]
//
// ITERATIONS times: acquire (blocking), append "enter curator <pid>", hold
// HOLD_MS ms (default 2), append "exit curator <pid>", release.
// With CURATOR_RW=read or CURATOR_RW=write in the environment, the lock is that
// side of an InterProcessReadWriteLock on LOCK_PATH instead, and a reader's
// lines are "enter-read"/"exit-read".
// Prints "ready" once connected and "done <pid> <ITERATIONS>" at the end.
// Exit 0 on success; non-zero with a message on stderr on any failure.

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;

public class CuratorLock {
    static final String NAME = "curator";
    static final int SESSION_TIMEOUT_MS = 4000;
    static final int CONNECTION_TIMEOUT_MS = 3000;
    static final int CONNECT_WAIT_S = 30;

    static void fail(String msg, Throwable t) {
        System.err.println(NAME + " driver: " + msg + (t == null ? "" : ": " + t));
        System.err.flush();
        System.exit(1);
    }

    /** One write(2) on an O_APPEND descriptor per line. */
    static void appendLine(FileOutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public static void main(String[] args) {
        if (args.length < 4 || args.length > 5) {
            System.err.println("usage: CuratorLock HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS]");
            System.exit(2);
        }
        String hosts = args[0];
        String path = args[1];
        String recordFile = args[3];
        int iterations = 0;
        long holdMs = 2;
        try {
            iterations = Integer.parseInt(args[2]);
            if (args.length == 5) holdMs = Long.parseLong(args[4]);
        } catch (NumberFormatException e) {
            System.err.println("CuratorLock: ITERATIONS and HOLD_MS must be integers");
            System.exit(2);
        }
        if (iterations < 0 || holdMs < 0) {
            System.err.println("CuratorLock: ITERATIONS and HOLD_MS must be >= 0");
            System.exit(2);
        }
        long pid = ProcessHandle.current().pid();

        CuratorFramework client = CuratorFrameworkFactory.newClient(
                hosts, SESSION_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, new RetryNTimes(3, 100));
        // Any loss/suspension of the connection voids the exclusion guarantee:
        // remember it and fail the run rather than report a clean record.
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

            String side = System.getenv("CURATOR_RW");
            InterProcessLock mutex;
            String suffix = "";
            if (side == null || side.isEmpty()) {
                mutex = new InterProcessMutex(client, path);
            } else {
                InterProcessReadWriteLock rw = new InterProcessReadWriteLock(client, path);
                if (side.equals("read")) {
                    mutex = rw.readLock();
                    suffix = "-read";
                } else {
                    mutex = rw.writeLock();
                }
            }
            for (int i = 0; i < iterations; i++) {
                mutex.acquire();
                try (FileOutputStream out = new FileOutputStream(recordFile, true)) {
                    appendLine(out, "enter" + suffix + " " + NAME + " " + pid);
                    if (holdMs > 0) Thread.sleep(holdMs);
                    appendLine(out, "exit" + suffix + " " + NAME + " " + pid);
                } finally {
                    mutex.release();
                }
                if (badState.get() != null) {
                    fail("connection state " + badState.get() + " during iteration " + i, null);
                }
            }
            client.close();
        } catch (Exception e) {
            fail("error", e);
        }
        System.out.println("done " + pid + " " + iterations);
        System.out.flush();
        System.exit(0);
    }
}
