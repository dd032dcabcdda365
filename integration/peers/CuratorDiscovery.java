// Peer driver: Apache Curator's service discovery (curator-x-discovery 5.4).
//
// Usage (compiled and run by the curator-discovery wrapper, see java-peer):
//   CuratorDiscovery HOSTS register BASE NAME ID ADDRESS PORT SSL_PORT URI_SPEC ZONE WEIGHT
//   CuratorDiscovery HOSTS find BASE NAME
//   CuratorDiscovery HOSTS follow BASE NAME
//
// register: ServiceDiscoveryBuilder on BASE registers one DYNAMIC instance whose payload is an
//   Endpoint (ZONE, WEIGHT), a POJO: Curator's JsonInstanceSerializer writes it with its Java
//   class in "@class". Prints "registered " and the instance's line (below), stays registered
//   until the end of its stdin, then unregisters, prints "unregistered" and exits 0.
// find: a ServiceProvider over NAME; prints the line of the instance it chooses, within the
//   step's budget (getInstance() looked at every 20 ms: the provider has no listener).
// follow: a ServiceCache over NAME; prints "ready", then "instances [LINE,...]" (sorted by id)
//   now and after every change the cache reports, until killed.
//
// An instance's line is one JSON object: name, id, address, port, sslPort, payload (its map
// keys sorted), registrationTimeUTC, serviceType, uriSpec (its template: the parts, variables in
// braces, or null), enabled, and payloadClass, the simple name of the payload's Java class as
// Curator read it (Endpoint when "@class" named it, LinkedHashMap for an object without one).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.ServiceCacheListener;

public class CuratorDiscovery {
    /** The payload of the instances this driver registers. */
    public static final class Endpoint {
        public String zone;
        public int weight;
    }

    static final ObjectMapper JSON =
            new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    public static void main(String[] args) {
        Peer peer = new Peer("curator-discovery " + (args.length > 1 ? args[1] : ""));
        if (args.length < 4) {
            Peer.usage("CuratorDiscovery HOSTS register|find|follow BASE NAME [...]");
        }
        String verb = args[1];
        try {
            CuratorFramework client = peer.connect(args[0]);
            switch (verb) {
                case "register":
                    register(peer, client, args);
                    break;
                case "find":
                    find(peer, client, args[2], args[3]);
                    break;
                case "follow":
                    follow(peer, client, args[2], args[3]);
                    break;
                default:
                    Peer.usage("CuratorDiscovery HOSTS VERB BASE NAME: unknown verb " + verb);
            }
            client.close();
        } catch (Exception e) {
            peer.fail(verb, e);
        }
        System.exit(0);
    }

    static <T> ServiceDiscovery<T> discovery(Peer peer, CuratorFramework client, Class<T> payload,
                                             String base) throws Exception {
        ServiceDiscovery<T> d = ServiceDiscoveryBuilder.builder(payload).client(client)
                .basePath(base).build();
        d.start();
        peer.step("start the discovery on " + base);
        return d;
    }

    static void register(Peer peer, CuratorFramework client, String[] args) throws Exception {
        if (args.length != 11) {
            Peer.usage("CuratorDiscovery HOSTS register BASE NAME ID ADDRESS PORT SSL_PORT "
                    + "URI_SPEC ZONE WEIGHT");
        }
        Endpoint payload = new Endpoint();
        payload.zone = args[9];
        payload.weight = Integer.parseInt(args[10]);
        ServiceInstance<Endpoint> instance = ServiceInstance.<Endpoint>builder()
                .name(args[3]).id(args[4]).address(args[5])
                .port(Integer.parseInt(args[6])).sslPort(Integer.parseInt(args[7]))
                .uriSpec(new UriSpec(args[8])).payload(payload).build();
        ServiceDiscovery<Endpoint> d = discovery(peer, client, Endpoint.class, args[2]);
        d.registerService(instance);
        peer.step("register " + instance.getId());
        peer.say("registered " + line(instance));
        // Registered until the end of stdin (the test closes it), then unregistered.
        BufferedReader in = new BufferedReader(
                new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
        }
        d.unregisterService(instance);
        d.close();
        peer.step("unregister");
        peer.say("unregistered");
    }

    static void find(Peer peer, CuratorFramework client, String base, String name)
            throws Exception {
        ServiceDiscovery<Object> d = discovery(peer, client, Object.class, base);
        ServiceProvider<Object> provider = d.serviceProviderBuilder().serviceName(name).build();
        provider.start();
        ServiceInstance<Object> chosen = provider.getInstance();
        while (chosen == null && peer.leftMs() > 1) {
            Thread.sleep(20);
            chosen = provider.getInstance();
        }
        peer.within(chosen != null, "choose an instance of " + name);
        peer.say(line(chosen));
        provider.close();
        d.close();
    }

    static void follow(Peer peer, CuratorFramework client, String base, String name)
            throws Exception {
        ServiceDiscovery<Object> d = discovery(peer, client, Object.class, base);
        ServiceCache<Object> cache = d.serviceCacheBuilder().name(name).build();
        CuratorCoordination.StateLines lines =
                new CuratorCoordination.StateLines(peer, () -> instancesLine(cache));
        cache.addListener(new ServiceCacheListener() {
            @Override
            public void cacheChanged() {
                lines.changed();
            }

            @Override
            public void stateChanged(CuratorFramework c,
                                     org.apache.curator.framework.state.ConnectionState s) {
                peer.note("cache: connection " + s);
            }
        });
        cache.start();  // the first read done before start returns
        peer.step("start the cache of " + name);
        lines.ready();
        Thread.sleep(Long.MAX_VALUE);  // until killed
    }

    static String instancesLine(ServiceCache<Object> cache) {
        List<ServiceInstance<Object>> now = new ArrayList<>(cache.getInstances());
        now.sort(Comparator.comparing(ServiceInstance::getId));
        List<String> lines = new ArrayList<>();
        for (ServiceInstance<Object> i : now) {
            lines.add(line(i));
        }
        return "instances [" + String.join(",", lines) + "]";
    }

    /** The instance as one JSON line (see the file comment). */
    static String line(ServiceInstance<?> i) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("name", i.getName());
        fields.put("id", i.getId());
        fields.put("address", i.getAddress());
        fields.put("port", i.getPort());
        fields.put("sslPort", i.getSslPort());
        Object payload = i.getPayload();
        fields.put("payload", payload == null ? null : JSON.convertValue(payload, Map.class));
        fields.put("registrationTimeUTC", i.getRegistrationTimeUTC());
        fields.put("serviceType", i.getServiceType() == null ? null : i.getServiceType().name());
        fields.put("uriSpec", template(i.getUriSpec()));
        fields.put("enabled", i.isEnabled());
        fields.put("payloadClass", payload == null ? null : payload.getClass().getSimpleName());
        try {
            return JSON.writeValueAsString(fields);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String template(UriSpec spec) {
        if (spec == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (UriSpec.Part part : spec.getParts()) {
            text.append(part.isVariable() ? "{" + part.getValue() + "}" : part.getValue());
        }
        return text.toString();
    }
}
