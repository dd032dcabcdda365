// Peer driver: Apache Curator's DistributedBarrier, GroupMember, lock revocation and LeaderLatch's
// view of the leader, for the interoperability tests of zkr::barrier, zkr::group,
// zkr::async_revoke and leadership::async_publish.
//
// Usage (compiled and run by the curator-coordination wrapper, see java-peer):
//   CuratorCoordination HOSTS barrier-set PATH      sets the barrier, prints "done"
//   CuratorCoordination HOSTS barrier-remove PATH   removes it, prints "done"
//   CuratorCoordination HOSTS barrier-wait PATH     prints "ready", waits, prints "passed"
//   CuratorCoordination HOSTS member PATH ID DATA   joins as ID, prints "joined", stays until
//                                                    killed (its session then ends the membership)
//   CuratorCoordination HOSTS members PATH          prints "ID=DATA" per member, sorted, then "end"
//   CuratorCoordination HOSTS member-sees PATH ID DATA WANT...
//                                                    joins as ID, prints "joined", then for each
//                                                    WANT ("ID=DATA", or "ID=-" for no such
//                                                    member) waits until the GroupMember's view
//                                                    (getCurrentMembers()) holds it, and prints
//                                                    "seen WANT"; then leaves
//   CuratorCoordination HOSTS double-barrier PATH N prints "ready", enters a DistributedDoubleBarrier
//                                                    of N, prints "entered", leaves, prints "left"
//   CuratorCoordination HOSTS revocable-lock PATH   takes a revocable InterProcessMutex, prints
//                                                    "locked"; when asked to let go prints
//                                                    "revoke-requested", releases, prints "released"
//   CuratorCoordination HOSTS revoke NODE           Revoker.attemptRevoke(NODE), prints "done"
//   CuratorCoordination HOSTS latch-leader PATH     prints "leader=ID": the id a LeaderLatch on
//                                                    PATH reads for the leader (getLeader())
//   CuratorCoordination HOSTS persistent-node PATH DATA
//                                                    keeps an ephemeral PersistentNode at PATH
//                                                    with DATA; prints "ready" once it exists;
//                                                    stays until killed
//   CuratorCoordination HOSTS tree-cache PATH       follows PATH's children with a TreeCache
//                                                    (max depth 1); prints "ready" once
//                                                    initialized, then after every event the
//                                                    snapshot, "children NAME:CZXID:MZXID,..."
//                                                    sorted by name; stays until killed
//   CuratorCoordination HOSTS node-cache PATH       follows PATH with a NodeCache; prints "ready"
//                                                    once started, then after every change the
//                                                    node, "node CZXID:MZXID:DATA" or "node -";
//                                                    stays until killed
//   CuratorCoordination HOSTS latch-sees PATH WANT...
//                                                    for each WANT, the participants of a
//                                                    LeaderLatch on PATH in queue order, each ID
//                                                    with "*" when it leads ("a*,b"), waits until
//                                                    getParticipants() gives exactly that, and
//                                                    prints "seen WANT"
// Each step's duration goes to stderr, and every step has a budget (Peer.java).
// Exit 0 on success; non-zero with a message on stderr on any failure.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.Revoker;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;

public class CuratorCoordination {
    static final TimeUnit MS = TimeUnit.MILLISECONDS;

    public static void main(String[] args) {
        Peer peer = new Peer("curator-coordination " + (args.length > 1 ? args[1] : ""));
        if (args.length < 3) {
            Peer.usage("CuratorCoordination HOSTS VERB PATH [ID DATA]");
        }
        String verb = args[1];
        String path = args[2];
        try {
            CuratorFramework client = peer.connect(args[0]);
            run(peer, client, verb, path, args);
            client.close();
        } catch (Exception e) {
            peer.fail(verb + " " + path, e);
        }
        System.exit(0);
    }

    static void run(Peer peer, CuratorFramework client, String verb, String path, String[] args)
            throws Exception {
        DistributedBarrier barrier = new DistributedBarrier(client, path);
        switch (verb) {
            case "barrier-set":
                barrier.setBarrier();
                peer.step("set");
                peer.say("done");
                break;
            case "barrier-remove":
                barrier.removeBarrier();
                peer.step("remove");
                peer.say("done");
                break;
            case "barrier-wait":
                peer.say("ready");
                peer.within(barrier.waitOnBarrier(peer.leftMs(), MS), "wait for the barrier");
                peer.say("passed");
                break;
            case "member": {
                if (args.length != 5) {
                    Peer.usage("CuratorCoordination HOSTS member PATH ID DATA");
                }
                GroupMember member = new GroupMember(
                        client, path, args[3], args[4].getBytes(StandardCharsets.UTF_8));
                member.start();
                // The node is created in the background: report once it is there.
                peer.within(appears(peer, client, path + "/" + args[3]), "join");
                peer.say("joined");
                Thread.sleep(Long.MAX_VALUE);
                break;
            }
            case "member-sees": {
                if (args.length < 6) {
                    Peer.usage("CuratorCoordination HOSTS member-sees PATH ID DATA WANT...");
                }
                GroupMember member = new GroupMember(
                        client, path, args[3], args[4].getBytes(StandardCharsets.UTF_8));
                member.start();
                peer.within(appears(peer, client, path + "/" + args[3]), "join");
                peer.say("joined");
                for (int i = 5; i < args.length; ++i) {
                    peer.within(sees(peer, member, args[i]), "see " + args[i]);
                    peer.say("seen " + args[i]);
                }
                member.close();
                peer.step("leave");
                break;
            }
            case "members": {
                List<String> ids = new ArrayList<>(client.getChildren().forPath(path));
                Collections.sort(ids);
                List<String> lines = new ArrayList<>();
                for (String id : ids) {
                    byte[] data = client.getData().forPath(path + "/" + id);
                    lines.add(id + "=" + new String(data, StandardCharsets.UTF_8));
                }
                peer.step("list");
                lines.forEach(peer::say);
                peer.say("end");
                break;
            }
            case "double-barrier": {
                DistributedDoubleBarrier round =
                        new DistributedDoubleBarrier(client, path, Integer.parseInt(args[3]));
                peer.say("ready");
                peer.within(round.enter(peer.leftMs(), MS), "enter");
                peer.say("entered");
                peer.within(round.leave(peer.leftMs(), MS), "leave");
                peer.say("left");
                break;
            }
            case "revocable-lock": {
                InterProcessMutex mutex = new InterProcessMutex(client, path);
                CountDownLatch asked = new CountDownLatch(1);
                // The listener runs on Curator's event thread; the mutex is released by the
                // thread that holds it.
                mutex.makeRevocable(m -> asked.countDown());
                peer.within(mutex.acquire(peer.leftMs(), MS), "acquire");
                peer.say("locked");
                peer.within(asked.await(peer.leftMs(), MS), "wait for a revocation request");
                peer.say("revoke-requested");
                mutex.release();
                peer.step("release");
                peer.say("released");
                break;
            }
            case "revoke":
                Revoker.attemptRevoke(client, path);
                peer.step("revoke");
                peer.say("done");
                break;
            case "latch-leader": {
                // Not started: an observer, as getLeader() reads the participants without
                // taking part.
                LeaderLatch latch = new LeaderLatch(client, path);
                String id = latch.getLeader().getId();
                peer.step("read the leader");
                peer.say("leader=" + id);
                break;
            }
            case "persistent-node": {
                if (args.length != 4) {
                    Peer.usage("CuratorCoordination HOSTS persistent-node PATH DATA");
                }
                PersistentNode node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path,
                        args[3].getBytes(StandardCharsets.UTF_8));
                node.start();
                peer.within(node.waitForInitialCreate(peer.leftMs(), MS), "create the node");
                peer.say("ready");
                Thread.sleep(Long.MAX_VALUE);  // until killed
                break;
            }
            case "tree-cache": {
                TreeCache cache = TreeCache.newBuilder(client, path).setMaxDepth(1).build();
                CountDownLatch initialized = new CountDownLatch(1);
                StateLines lines = new StateLines(peer, () -> snapshot(cache, path));
                cache.getListenable().addListener((c, event) -> {
                    if (event.getType() == TreeCacheEvent.Type.INITIALIZED) {
                        initialized.countDown();
                    }
                    lines.changed();
                });
                cache.start();
                peer.within(initialized.await(peer.leftMs(), MS), "initialize the cache");
                lines.ready();
                Thread.sleep(Long.MAX_VALUE);  // until killed
                break;
            }
            case "node-cache": {
                // NodeCache is deprecated in Curator 5 (CuratorCache replaces it) but still
                // shipped: it is the single-node cache a Curator 4 fleet runs.
                NodeCache cache = new NodeCache(client, path);
                StateLines lines = new StateLines(peer, () -> nodeLine(cache));
                cache.getListenable().addListener(lines::changed);
                cache.start(true);  // the first read done before start returns
                peer.step("start the cache");
                lines.ready();
                Thread.sleep(Long.MAX_VALUE);  // until killed
                break;
            }
            case "latch-sees": {
                if (args.length < 4) {
                    Peer.usage("CuratorCoordination HOSTS latch-sees PATH WANT...");
                }
                // Not started: an observer, as getParticipants() reads the contenders without
                // taking part.
                LeaderLatch latch = new LeaderLatch(client, path);
                for (int i = 3; i < args.length; ++i) {
                    peer.within(seesParticipants(peer, latch, args[i]), "see " + args[i]);
                    peer.say("seen " + args[i]);
                }
                break;
            }
            default:
                Peer.usage("CuratorCoordination HOSTS VERB PATH: unknown verb " + verb);
        }
    }

    /**
     * A cache's state as lines: "ready" and the state, then the state after every change, one
     * line at a time and none before "ready" (which the test reads first, while the cache's
     * listener may already run).
     */
    static final class StateLines {
        private final Peer peer;
        private final Supplier<String> state;
        private boolean ready = false;

        StateLines(Peer peer, Supplier<String> state) {
            this.peer = peer;
            this.state = state;
        }

        synchronized void ready() {
            peer.say("ready");
            peer.say(state.get());
            ready = true;
        }

        synchronized void changed() {
            if (ready) {
                peer.say(state.get());
            }
        }
    }

    /** A TreeCache's children of `path` as one line, sorted by name. */
    static synchronized String snapshot(TreeCache cache, String path) {
        Map<String, ChildData> kids = cache.getCurrentChildren(path);
        StringBuilder line = new StringBuilder("children ");
        if (kids != null) {
            String sep = "";
            for (Map.Entry<String, ChildData> e : new TreeMap<>(kids).entrySet()) {
                line.append(sep).append(e.getKey()).append(':')
                        .append(e.getValue().getStat().getCzxid()).append(':')
                        .append(e.getValue().getStat().getMzxid());
                sep = ",";
            }
        }
        return line.toString();
    }

    /** A NodeCache's node as one line: "node CZXID:MZXID:DATA", or "node -" when there is none. */
    static synchronized String nodeLine(NodeCache cache) {
        ChildData now = cache.getCurrentData();
        if (now == null) {
            return "node -";
        }
        return "node " + now.getStat().getCzxid() + ":" + now.getStat().getMzxid() + ":"
                + new String(now.getData(), StandardCharsets.UTF_8);
    }

    /**
     * Waits within the budget until the latch's participants, in queue order with "*" after
     * the leader's id, are `want` ("a*,b"). The participants are read every 20 ms (a latch that
     * does not take part has no listener).
     */
    static boolean seesParticipants(Peer peer, LeaderLatch latch, String want) throws Exception {
        for (;;) {
            StringBuilder now = new StringBuilder();
            for (Participant p : latch.getParticipants()) {
                now.append(now.length() > 0 ? "," : "").append(p.getId())
                        .append(p.isLeader() ? "*" : "");
            }
            if (now.toString().equals(want)) {
                return true;
            }
            if (peer.leftMs() <= 1) {
                peer.note("the participants are " + now);
                return false;
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits within the budget until the member's view holds `want` ("ID=DATA", or "ID=-" for no
     * member ID). GroupMember has no listener: its view (a CuratorCache of the group) is looked
     * at again every 20 ms until it holds `want` or the budget is spent.
     */
    static boolean sees(Peer peer, GroupMember member, String want) throws Exception {
        int eq = want.indexOf('=');
        String id = want.substring(0, eq);
        String data = want.substring(eq + 1);
        for (;;) {
            Map<String, byte[]> now = member.getCurrentMembers();
            byte[] got = now.get(id);
            boolean holds = data.equals("-")
                    ? got == null
                    : got != null && new String(got, StandardCharsets.UTF_8).equals(data);
            if (holds) {
                return true;
            }
            if (peer.leftMs() <= 1) {
                return false;
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits within the budget until `node` exists. The watch is set by the same request that
     * looks, so a creation between the look and the wait is not missed; any event (a
     * disconnection too) makes it look again.
     */
    static boolean appears(Peer peer, CuratorFramework client, String node) throws Exception {
        for (;;) {
            CountDownLatch event = new CountDownLatch(1);
            CuratorWatcher wake = e -> event.countDown();
            if (client.checkExists().usingWatcher(wake).forPath(node) != null) {
                return true;
            }
            if (!event.await(peer.leftMs(), MS)) {
                return false;
            }
        }
    }
}
