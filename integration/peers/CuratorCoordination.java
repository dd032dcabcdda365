// Peer driver: Apache Curator's DistributedBarrier, GroupMember, lock revocation and LeaderLatch's
// view of the leader, for the interoperability tests of zkr::barrier, zkr::group,
// zkr::async_revoke and leadership::async_publish.
//
// Usage (source-launch mode, Java 11+; see the curator-coordination wrapper):
//   CuratorCoordination HOSTS barrier-set PATH      sets the barrier, prints "done"
//   CuratorCoordination HOSTS barrier-remove PATH   removes it, prints "done"
//   CuratorCoordination HOSTS barrier-wait PATH     prints "ready", waits, prints "passed"
//   CuratorCoordination HOSTS member PATH ID DATA   joins as ID, prints "joined", stays until
//                                                    killed (its session then ends the membership)
//   CuratorCoordination HOSTS members PATH          prints "ID=DATA" per member, sorted, then "end"
//   CuratorCoordination HOSTS double-barrier PATH N prints "ready", enters a DistributedDoubleBarrier
//                                                    of N, prints "entered", leaves, prints "left"
//   CuratorCoordination HOSTS revocable-lock PATH   takes a revocable InterProcessMutex, prints
//                                                    "locked"; when asked to let go prints
//                                                    "revoke-requested", releases, prints "released"
//   CuratorCoordination HOSTS revoke NODE           Revoker.attemptRevoke(NODE), prints "done"
//   CuratorCoordination HOSTS latch-leader PATH     prints "leader=ID": the id a LeaderLatch on
//                                                    PATH reads for the leader (getLeader())
// Exit 0 on success; non-zero with a message on stderr on any failure.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.retry.RetryNTimes;

public class CuratorCoordination {
    static void fail(String msg, Throwable t) {
        System.err.println("curator-coordination driver: " + msg + (t == null ? "" : ": " + t));
        System.err.flush();
        System.exit(1);
    }

    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: CuratorCoordination HOSTS VERB PATH [ID DATA]");
            System.exit(2);
        }
        String hosts = args[0];
        String verb = args[1];
        String path = args[2];
        CuratorFramework client =
                CuratorFrameworkFactory.newClient(hosts, 4000, 3000, new RetryNTimes(3, 100));
        try {
            client.start();
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                fail("could not connect to " + hosts, null);
            }
            DistributedBarrier barrier = new DistributedBarrier(client, path);
            switch (verb) {
                case "barrier-set":
                    barrier.setBarrier();
                    say("done");
                    break;
                case "barrier-remove":
                    barrier.removeBarrier();
                    say("done");
                    break;
                case "barrier-wait":
                    say("ready");
                    barrier.waitOnBarrier();
                    say("passed");
                    break;
                case "member": {
                    if (args.length != 5) {
                        System.err.println("member needs ID and DATA");
                        System.exit(2);
                    }
                    GroupMember member = new GroupMember(
                            client, path, args[3], args[4].getBytes(StandardCharsets.UTF_8));
                    member.start();
                    // The node is created in the background: report once it is there.
                    String node = path + "/" + args[3];
                    for (int i = 0; i < 3000 && client.checkExists().forPath(node) == null; ++i) {
                        Thread.sleep(10);
                    }
                    if (client.checkExists().forPath(node) == null) {
                        fail("GroupMember did not create " + node, null);
                    }
                    say("joined");
                    Thread.sleep(Long.MAX_VALUE);
                    break;
                }
                case "members": {
                    List<String> ids = new ArrayList<>(client.getChildren().forPath(path));
                    Collections.sort(ids);
                    for (String id : ids) {
                        byte[] data = client.getData().forPath(path + "/" + id);
                        say(id + "=" + new String(data, StandardCharsets.UTF_8));
                    }
                    say("end");
                    break;
                }
                case "double-barrier": {
                    DistributedDoubleBarrier round =
                            new DistributedDoubleBarrier(client, path, Integer.parseInt(args[3]));
                    say("ready");
                    round.enter();
                    say("entered");
                    round.leave();
                    say("left");
                    break;
                }
                case "revocable-lock": {
                    InterProcessMutex mutex = new InterProcessMutex(client, path);
                    CountDownLatch asked = new CountDownLatch(1);
                    // The listener runs on Curator's event thread; the mutex is released by the
                    // thread that holds it.
                    mutex.makeRevocable(m -> asked.countDown());
                    mutex.acquire();
                    say("locked");
                    asked.await();
                    say("revoke-requested");
                    mutex.release();
                    say("released");
                    break;
                }
                case "revoke":
                    Revoker.attemptRevoke(client, path);
                    say("done");
                    break;
                case "latch-leader": {
                    // Not started: an observer, as getLeader() reads the participants without
                    // taking part.
                    LeaderLatch latch = new LeaderLatch(client, path);
                    say("leader=" + latch.getLeader().getId());
                    break;
                }
                default:
                    System.err.println("unknown verb " + verb);
                    System.exit(2);
            }
        } catch (Exception e) {
            fail(verb + " " + path, e);
        } finally {
            client.close();
        }
    }
}
