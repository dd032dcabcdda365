// Discovery benchmark driver: Apache Curator's service discovery (Debian
// libcurator-discovery-java 5.4), one CuratorFramework (one ZooKeeper session), a
// ServiceDiscovery with the builder's defaults (JsonInstanceSerializer, Map payloads).
//
//   java -cp OUT:/usr/share/java/curator-x-discovery.jar:/usr/share/java/slf4j-nop.jar \
//        CuratorDiscoveryBench --hosts H:P --base PATH --name NAME --role watch|register
//                              [--session-timeout-ms MS]
//
// Speaks the discovery protocol of bench/discovery_orchestrate.py on stdin/stdout. Timestamps
// are System.nanoTime (CLOCK_MONOTONIC on Linux, as the other drivers' and the orchestrator's).
// A ServiceCache tells its listener only that something changed: the watcher compares the
// instances with the ones it saw last to name what came and went.

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.ServiceCacheListener;

public class CuratorDiscoveryBench {
    static void say(String line) {
        DriverLines.say(line);
    }

    static void die(String what) {
        DriverLines.die("curator discovery driver", what);
    }

    /** The registrar's stamp: the payload's "t" (0 when there is none). */
    static long stampOf(ServiceInstance<Map> instance) {
        Object t = instance.getPayload() == null ? null : instance.getPayload().get("t");
        return t instanceof Number ? ((Number) t).longValue() : 0;
    }

    /** Names what came ("added ID NOW STAMP") and went ("removed ID NOW") since the last call. */
    static final class Watcher implements ServiceCacheListener {
        private final ServiceCache<Map> cache;
        private final Set<String> seen = new HashSet<>();

        Watcher(ServiceCache<Map> cache) {
            this.cache = cache;
        }

        @Override
        public synchronized void cacheChanged() {
            long now = System.nanoTime();
            Set<String> current = new HashSet<>();
            for (ServiceInstance<Map> i : cache.getInstances()) {
                current.add(i.getId());
                if (seen.add(i.getId())) {
                    say("added " + i.getId() + " " + now + " " + stampOf(i));
                }
            }
            for (String id : new HashSet<>(seen)) {
                if (!current.contains(id)) {
                    seen.remove(id);
                    say("removed " + id + " " + now);
                }
            }
        }

        @Override
        public void stateChanged(CuratorFramework client, ConnectionState state) {
            System.err.println("curator discovery driver: connection " + state);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        opt.put("--session-timeout-ms", "2000");
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i], args[i + 1]);
        }
        String role = opt.getOrDefault("--role", "");
        if (!opt.containsKey("--hosts") || !opt.containsKey("--base") || !opt.containsKey("--name")
                || !(role.equals("watch") || role.equals("register"))) {
            System.err.println("usage: CuratorDiscoveryBench --hosts HOST:PORT --base PATH --name "
                    + "NAME --role watch|register [--session-timeout-ms MS]");
            System.exit(2);
        }
        String name = opt.get("--name");
        CuratorFramework client = DriverLines.connect("curator discovery driver", opt.get("--hosts"),
                Integer.parseInt(opt.get("--session-timeout-ms")));
        ServiceDiscovery<Map> discovery = ServiceDiscoveryBuilder.builder(Map.class).client(client)
                .basePath(opt.get("--base")).build();
        discovery.start();
        if (role.equals("watch")) {
            ServiceCache<Map> cache = discovery.serviceCacheBuilder().name(name).build();
            Watcher watcher = new Watcher(cache);
            cache.addListener(watcher);
            cache.start();
            say("ready");
            watcher.cacheChanged();  // whatever came while it started
        } else {
            say("ready");
        }
        Map<String, ServiceInstance<Map>> registered = new HashMap<>();
        for (String line; (line = DriverLines.in.readLine()) != null && !line.equals("quit");) {
            String[] c = line.trim().split("\\s+");
            String id = c.length > 1 && c[1].startsWith("id=") ? c[1].substring(3) : "";
            if (role.equals("register") && c[0].equals("register")) {
                Map<String, Object> payload = new HashMap<>();
                payload.put("t", System.nanoTime());
                ServiceInstance<Map> instance = ServiceInstance.<Map>builder().name(name).id(id)
                        .address("127.0.0.1").port(8080).payload(payload).build();
                discovery.registerService(instance);
                registered.put(id, instance);
                say("registered " + id);
            } else if (role.equals("register") && c[0].equals("unregister")) {
                ServiceInstance<Map> instance = registered.remove(id);
                if (instance == null) die("unregister " + id + ": not registered here");
                long t = System.nanoTime();
                discovery.unregisterService(instance);
                say("unregistered " + id + " " + t);
            } else {
                die("unexpected '" + c[0] + "' for the " + role + " role");
            }
        }
        discovery.close();
        client.close();
        System.exit(0);
    }
}
