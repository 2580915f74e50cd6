package io.spate.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.tables.Consistency;
import io.spate.tables.client.NativeTablesClient;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Spate table over the tables' native protocol ({@link NativeTablesClient}: one connection per
 * node, requests pipelined on it, round robin over the nodes). The table is created and awaited over
 * HTTP as {@link HttpKvTarget} does; the nodes' tables ports come from {@code GET /admin/cluster}.
 */
final class NativeKvTarget implements TableKvBench.Target {
    private final List<String> httpHosts;
    private final String table;
    private final String durability;
    private NativeTablesClient client;
    private List<InetSocketAddress> tablesPorts = List.of();

    NativeKvTarget(List<String> httpHosts, String table, String durability) {
        this.httpHosts = httpHosts;
        this.table = table;
        this.durability = durability;
    }

    @Override
    public String describe() {
        return "Spate native protocol, table " + table + ", nodes found through " + httpHosts.getFirst()
                + "/admin/cluster, one connection per node, requests pipelined, round robin";
    }

    @Override
    public void setup(int rf) throws Exception {
        try (HttpKvTarget http = new HttpKvTarget(httpHosts, table, 1, durability)) {
            http.setup(rf);
        }
        String base = httpHosts.getFirst().contains("://") ? httpHosts.getFirst() : "http://" + httpHosts.getFirst();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/cluster")).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() != 200) throw new IllegalStateException("GET /admin/cluster: " + r.statusCode() + " " + r.body());
        List<InetSocketAddress> ports = new ArrayList<>();
        for (JsonNode node : new ObjectMapper().readTree(r.body()).path("nodes")) {
            int port = node.path("tables_port").asInt(-1);
            if (port > 0 && node.path("live").asBoolean()) ports.add(new InetSocketAddress(node.path("host").asText(), port));
        }
        if (ports.isEmpty()) throw new IllegalStateException("no node advertises a tables port: " + r.body());
        tablesPorts = List.copyOf(ports);
        client = NativeTablesClient.connect(tablesPorts);
        System.out.println("native: tables ports " + tablesPorts + ", ring members " + client.nodes().size());
    }

    @Override
    public void read(String key, String consistency, TableKvBench.Callback cb) {
        client.get(table, key.getBytes(StandardCharsets.UTF_8), Consistency.valueOf(consistency)).whenComplete((r, e) -> {
            if (e != null) cb.done(false, e.getClass().getSimpleName());
            else if (!r.ok()) cb.done(false, r.status().name().toLowerCase());
            else cb.done(r.found(), null);
        });
    }

    @Override
    public void write(String key, byte[] value, String consistency, TableKvBench.Callback cb) {
        client.put(table, key.getBytes(StandardCharsets.UTF_8), value, Consistency.valueOf(consistency), 0).whenComplete((r, e) -> {
            if (e != null) cb.done(false, e.getClass().getSimpleName());
            else if (!r.ok()) cb.done(false, r.status().name().toLowerCase());
            else cb.done(true, null);
        });
    }

    @Override
    public void close() {
        if (client != null) client.close();
    }
}
