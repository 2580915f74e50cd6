package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The admin endpoints under {@code /admin} and the web console's files, for the console and for
 * scripts. The cluster and pipelines come from the node ({@link NodeAdmin}), partition placements
 * from its metadata ({@link NodePartitions}); offsets, log sizes, configs, topic changes and groups
 * go through an internal Kafka {@link Admin} client on the node's own listener, so they are what
 * any Kafka tool would see (and a change is the same CreateTopics, DeleteTopics or
 * IncrementalAlterConfigs request, decided by the controller).
 *
 * <pre>
 * GET    /admin/cluster                 nodes (liveness, voters, controller), this node
 * GET    /admin/topics                  every topic: partitions, replication, health, size, records
 * POST   /admin/topics                  create: {"name", "partitions", "replication_factor", "configs": {}}
 * GET    /admin/topics/{t}              partitions (leader, replicas, in-sync set, offsets, sizes) and configs
 * DELETE /admin/topics/{t}              delete
 * PATCH  /admin/topics/{t}/configs      {"set": {"k": "v"}, "delete": ["k"]}
 * GET    /admin/groups                  every group: state, members, total lag
 * GET    /admin/groups/{g}              members, and committed offset, log end and lag per partition
 * GET    /admin/pipelines               pipelines and their tasks' last reports
 * GET    /admin/stats                   this node's request figures, one sample a second, the last 5 minutes
 * GET    /admin/stats/live              the same as Server-Sent Events, a sample a second
 * GET    /admin/tables                  the masterless tables (settings) and this node's table figures ({@link TablesAdmin})
 * GET    /  and /console/{file}         the web console
 * </pre>
 */
final class AdminApi implements AutoCloseable {
    static final int TOPIC_EXISTS = 40901;
    static final int REJECTED = 40010;
    static final int GROUP_NOT_FOUND = 40402;
    static final int CLUSTER_UNAVAILABLE = 50300;
    static final int TOO_MANY_STATS_STREAMS = 42902;
    static final int MAX_STATS_STREAMS = 64;
    /** How long an admin call waits for the cluster before answering 503. */
    private static final long CALL_TIMEOUT_MS = 8_000;
    /** Offsets of a partition with no leader to ask are left out (null) after this. */
    private static final long OFFSETS_TIMEOUT_MS = 3_000;
    /** A node's log sizes are left out when it does not answer within this. */
    private static final long LOG_DIRS_TIMEOUT_MS = 2_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NodePartitions node;
    private final NodeAdmin nodeAdmin;
    private final String bootstrap;
    private final StatsSampler stats;
    private final ConsoleAssets console = new ConsoleAssets();
    private final TablesAdmin tables = new TablesAdmin();
    private Admin admin;
    private boolean closed;

    AdminApi(NodePartitions node, NodeAdmin nodeAdmin, String bootstrap) {
        this.node = node;
        this.nodeAdmin = nodeAdmin;
        this.bootstrap = bootstrap;
        // The node's id never changes: asked of the cluster view once, not on every sample (a view costs nodes x partitions).
        int[] nodeId = {Integer.MIN_VALUE};
        this.stats = new StatsSampler(nodeAdmin.requestStats(), () -> {
            if (nodeId[0] == Integer.MIN_VALUE) {
                nodeId[0] = nodeAdmin.cluster().nodeId();
            }
            return nodeId[0];
        });
    }

    /** The node's tables, for {@code /admin/tables}, from now on. */
    void serveTables(NodeTables nodeTables) {
        tables.serve(nodeTables);
    }

    /** Whether {@code path} is the console's or the admin API's. */
    static boolean owns(List<String> path) {
        return path.isEmpty() || path.getFirst().equals("admin") || path.getFirst().equals("console");
    }

    Outcome handle(HttpMethod method, List<String> path, FullHttpRequest request, QueryStringDecoder query, Channel channel) {
        if (path.isEmpty()) {
            allow(method, HttpMethod.GET);
            return console.get("index.html");
        }
        if (path.getFirst().equals("console")) {
            allow(method, HttpMethod.GET);
            if (path.size() != 2) {
                throw noSuchPath(query);
            }
            return console.get(path.get(1));
        }
        if (path.size() < 2) {
            throw noSuchPath(query);
        }
        String what = path.get(1);
        switch (what) {
            case "cluster" -> {
                if (path.size() == 2) {
                    allow(method, HttpMethod.GET);
                    return cluster();
                }
            }
            case "topics" -> {
                if (path.size() == 2) {
                    if (method.equals(HttpMethod.POST)) {
                        return createTopic(request);
                    }
                    allow(method, HttpMethod.GET);
                    return listTopics(query);
                }
                String topic = path.get(2);
                if (path.size() == 3) {
                    if (method.equals(HttpMethod.DELETE)) {
                        return deleteTopic(topic);
                    }
                    allow(method, HttpMethod.GET);
                    return describeTopic(topic);
                }
                if (path.size() == 4 && path.get(3).equals("configs")) {
                    if (method.equals(HttpMethod.GET)) {
                        requireTopic(topic);
                        return Response.json(HttpResponseStatus.OK, out -> writeConfigs(out, topicConfigs(topic)));
                    }
                    allow(method, HttpMethod.PATCH);
                    return alterConfigs(topic, request);
                }
            }
            case "groups" -> {
                allow(method, HttpMethod.GET);
                if (path.size() == 2) {
                    return listGroups();
                }
                if (path.size() == 3) {
                    return describeGroup(path.get(2));
                }
            }
            case "pipelines" -> {
                if (path.size() == 2) {
                    allow(method, HttpMethod.GET);
                    return pipelines();
                }
            }
            case "tables" -> {
                if (path.size() == 2) {
                    allow(method, HttpMethod.GET);
                    return tables.describe();
                }
            }
            case "stats" -> {
                allow(method, HttpMethod.GET);
                if (path.size() == 2) {
                    return stats.history();
                }
                if (path.size() == 3 && path.get(2).equals("live")) {
                    return stats.stream(channel);
                }
            }
            default -> {
            }
        }
        throw noSuchPath(query);
    }

    private static ApiError noSuchPath(QueryStringDecoder query) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.NO_SUCH_PATH, "no such path: " + query.rawPath());
    }

    private static void allow(HttpMethod method, HttpMethod allowed) {
        if (!method.equals(allowed)) {
            throw new HttpApi.MethodNotAllowed(method, allowed);
        }
    }

    // ---- cluster ---------------------------------------------------------------------------------

    private Response cluster() {
        NodeAdmin.Cluster c = nodeAdmin.cluster();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("cluster_id", c.clusterId());
            out.writeNumberField("node_id", c.nodeId());
            out.writeNumberField("controller_id", c.controllerId());
            writeNullableString(out, "rack", c.rack());
            out.writeBooleanField("holds_lease", c.holdsLease());
            out.writeNumberField("metadata_version", c.metadataVersion());
            out.writeArrayFieldStart("nodes");
            for (NodeAdmin.Node n : c.nodes()) {
                out.writeStartObject();
                out.writeNumberField("id", n.id());
                writeNullableString(out, "host", n.host());
                out.writeNumberField("port", n.port());
                writeNullableString(out, "rack", n.rack());
                out.writeBooleanField("live", n.registered() && !n.fenced());
                out.writeBooleanField("fenced", n.fenced());
                out.writeBooleanField("registered", n.registered());
                out.writeBooleanField("voter", n.voter());
                out.writeBooleanField("controller", n.id() == c.controllerId());
                out.writeBooleanField("self", n.id() == c.nodeId());
                out.writeNumberField("leader_of", n.leaderCount());
                out.writeNumberField("tables_port", n.tablesPort());
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private static void writeNullableString(JsonGenerator out, String name, String value) throws IOException {
        if (value == null) {
            out.writeNullField(name);
        } else {
            out.writeStringField(name, value);
        }
    }

    // ---- topics ----------------------------------------------------------------------------------

    /** Offsets and sizes of a set of partitions, from the cluster; a missing entry was not answered. */
    private record Figures(Map<TopicPartition, Long> start, Map<TopicPartition, Long> end,
                           Map<TopicPartition, Map<Integer, Long>> sizes, Set<Integer> sized) {
    }

    private Figures figures(Collection<TopicPartition> partitions) {
        Admin a = admin();
        Map<TopicPartition, Long> start = offsets(a, partitions, OffsetSpec.earliest());
        Map<TopicPartition, Long> end = offsets(a, partitions, OffsetSpec.latest());
        Map<TopicPartition, Map<Integer, Long>> sizes = new HashMap<>();
        Set<Integer> sized = new TreeSet<>();
        Set<TopicPartition> wanted = Set.copyOf(partitions);
        List<Integer> live = nodeAdmin.cluster().nodes().stream().filter(n -> n.registered() && !n.fenced()).map(NodeAdmin.Node::id).toList();
        if (!live.isEmpty()) {
            Map<Integer, KafkaFuture<Map<String, LogDirDescription>>> dirs = a.describeLogDirs(live).descriptions();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOG_DIRS_TIMEOUT_MS);
            dirs.forEach((nodeId, future) -> {
                try {
                    Map<String, LogDirDescription> byDir = future.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    sized.add(nodeId);
                    byDir.values().forEach(d -> d.replicaInfos().forEach((tp, info) -> {
                        if (wanted.contains(tp)) {
                            sizes.computeIfAbsent(tp, x -> new TreeMap<>()).merge(nodeId, info.size(), Long::sum);
                        }
                    }));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException | TimeoutException e) {
                    // that node's sizes are left out ("sized_by" tells which nodes answered)
                }
            });
        }
        return new Figures(start, end, sizes, sized);
    }

    /** Offsets for {@code spec}; a partition whose lookup failed (no leader now) is absent. */
    private static Map<TopicPartition, Long> offsets(Admin a, Collection<TopicPartition> partitions, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> answer = new HashMap<>();
        if (request.isEmpty()) {
            return answer;
        }
        // A partition without a leader would hold the whole answer for the admin client's full timeout.
        ListOffsetsResult result = a.listOffsets(request, new org.apache.kafka.clients.admin.ListOffsetsOptions().timeoutMs((int) OFFSETS_TIMEOUT_MS));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OFFSETS_TIMEOUT_MS + 500);
        for (TopicPartition tp : request.keySet()) {
            try {
                answer.put(tp, result.partitionResult(tp).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).offset());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                // shown as null: the partition has no leader to ask, or the topic went away
            }
        }
        return answer;
    }

    private List<TopicPartition> partitionsOf(String topic) {
        int count = node.partitionCount(topic);
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            partitions.add(new TopicPartition(topic, p));
        }
        return partitions;
    }

    private Response listTopics(QueryStringDecoder query) {
        boolean internal = Boolean.parseBoolean(Params.string(query, "internal", "true"));
        List<String> names = node.topics().stream().filter(t -> internal || !node.isInternal(t)).sorted().toList();
        List<TopicPartition> all = new ArrayList<>();
        names.forEach(t -> all.addAll(partitionsOf(t)));
        Figures f = figures(all);
        Set<Integer> live = liveNodes();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartArray();
            for (String name : names) {
                List<TopicPartition> partitions = partitionsOf(name);
                if (partitions.isEmpty()) {
                    continue;
                }
                int replication = 0;
                int underReplicated = 0;
                int offline = 0;
                long records = 0;
                long size = 0;
                for (TopicPartition tp : partitions) {
                    NodePartitions.Placement placement = node.placement(name, tp.partition());
                    if (placement == null) {
                        continue;
                    }
                    replication = Math.max(replication, placement.replicas().size());
                    if (placement.leader() < 0 || !live.contains(placement.leader())) {
                        offline++;
                    } else if (placement.underReplicated()) {
                        underReplicated++;
                    }
                    Long s = f.start.get(tp);
                    Long e = f.end.get(tp);
                    if (s != null && e != null) {
                        records += Math.max(0, e - s);
                    }
                    Map<Integer, Long> sizes = f.sizes.get(tp);
                    if (sizes != null) {
                        size += sizes.values().stream().mapToLong(Long::longValue).max().orElse(0);
                    }
                }
                out.writeStartObject();
                out.writeStringField("name", name);
                out.writeBooleanField("internal", node.isInternal(name));
                out.writeNumberField("partitions", partitions.size());
                out.writeNumberField("replication_factor", replication);
                out.writeNumberField("under_replicated", underReplicated);
                out.writeNumberField("offline", offline);
                out.writeNumberField("records", records);
                out.writeNumberField("size_bytes", size);
                out.writeEndObject();
            }
            out.writeEndArray();
        });
    }

    private Set<Integer> liveNodes() {
        return nodeAdmin.cluster().nodes().stream().filter(n -> n.registered() && !n.fenced()).map(NodeAdmin.Node::id)
                .collect(Collectors.toSet());
    }

    private void requireTopic(String topic) {
        if (node.partitionCount(topic) < 0) {
            throw ApiError.topicNotFound(topic);
        }
    }

    private Response describeTopic(String topic) {
        requireTopic(topic);
        List<TopicPartition> partitions = partitionsOf(topic);
        Figures f = figures(partitions);
        Collection<ConfigEntry> configs = topicConfigs(topic);
        Set<Integer> live = liveNodes();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("name", topic);
            out.writeBooleanField("internal", node.isInternal(topic));
            out.writeArrayFieldStart("sized_by");
            for (int id : f.sized) {
                out.writeNumber(id);
            }
            out.writeEndArray();
            out.writeArrayFieldStart("partitions");
            for (TopicPartition tp : partitions) {
                out.writeStartObject();
                out.writeNumberField("partition", tp.partition());
                NodePartitions.Placement placement = node.placement(topic, tp.partition());
                if (placement != null) {
                    out.writeNumberField("leader", placement.leader());
                    writeIds(out, "replicas", placement.replicas());
                    writeIds(out, "isr", placement.isr());
                    writeIds(out, "adding_replicas", placement.adding());
                    out.writeBooleanField("under_replicated", placement.underReplicated());
                    writeIds(out, "offline_replicas", placement.replicas().stream().filter(id -> !live.contains(id)).toList());
                }
                writeNullableLong(out, "log_start_offset", f.start.get(tp));
                writeNullableLong(out, "log_end_offset", f.end.get(tp));
                Long s = f.start.get(tp);
                Long e = f.end.get(tp);
                writeNullableLong(out, "records", s == null || e == null ? null : Math.max(0, e - s));
                Map<Integer, Long> sizes = f.sizes.getOrDefault(tp, Map.of());
                writeNullableLong(out, "size_bytes", placement != null && sizes.containsKey(placement.leader()) ? sizes.get(placement.leader())
                        : sizes.values().stream().max(Long::compare).orElse(null));
                out.writeObjectFieldStart("replica_sizes");
                for (Map.Entry<Integer, Long> size : sizes.entrySet()) {
                    out.writeNumberField(String.valueOf(size.getKey()), size.getValue());
                }
                out.writeEndObject();
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeFieldName("configs");
            writeConfigs(out, configs);
            out.writeEndObject();
        });
    }

    private static void writeIds(JsonGenerator out, String name, List<Integer> ids) throws IOException {
        out.writeArrayFieldStart(name);
        for (int id : ids) {
            out.writeNumber(id);
        }
        out.writeEndArray();
    }

    private static void writeNullableLong(JsonGenerator out, String name, Long value) throws IOException {
        if (value == null) {
            out.writeNullField(name);
        } else {
            out.writeNumberField(name, value);
        }
    }

    private Collection<ConfigEntry> topicConfigs(String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = call(admin().describeConfigs(List.of(resource)).all()).get(resource);
        List<ConfigEntry> entries = new ArrayList<>(config == null ? List.of() : config.entries());
        entries.sort(Comparator.comparing(ConfigEntry::name));
        return entries;
    }

    private static void writeConfigs(JsonGenerator out, Collection<ConfigEntry> entries) throws IOException {
        out.writeStartArray();
        for (ConfigEntry e : entries) {
            out.writeStartObject();
            out.writeStringField("name", e.name());
            writeNullableString(out, "value", e.isSensitive() ? null : e.value());
            out.writeStringField("source", e.source().name().toLowerCase(java.util.Locale.ROOT));
            out.writeBooleanField("default", e.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG
                    || e.source() == ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG
                    || e.source() == ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            out.writeBooleanField("read_only", e.isReadOnly());
            out.writeBooleanField("sensitive", e.isSensitive());
            out.writeEndObject();
        }
        out.writeEndArray();
    }

    private Response createTopic(FullHttpRequest request) {
        JsonNode body = jsonObject(request);
        unknownFields(body, Set.of("name", "partitions", "replication_factor", "configs"));
        JsonNode name = body.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"name\" must be the topic's name, a non-empty string");
        }
        Optional<Integer> partitions = optionalInt(body, "partitions", 1, 100_000);
        Optional<Integer> replication = optionalInt(body, "replication_factor", 1, Short.MAX_VALUE);
        Map<String, String> configs = stringMap(body.get("configs"), "configs");
        String topic = name.asText();
        NewTopic newTopic = new NewTopic(topic, partitions, replication.map(Integer::shortValue)).configs(configs);
        call(admin().createTopics(List.of(newTopic)).all());
        return Response.json(HttpResponseStatus.CREATED, out -> {
            out.writeStartObject();
            out.writeStringField("name", topic);
            out.writeEndObject();
        });
    }

    private Response deleteTopic(String topic) {
        if (node.isInternal(topic)) {
            throw new ApiError(HttpResponseStatus.FORBIDDEN, ApiError.INTERNAL_TOPIC, "topic '" + topic + "' is internal and cannot be deleted");
        }
        requireTopic(topic);
        call(admin().deleteTopics(List.of(topic)).all());
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("deleted", topic);
            out.writeEndObject();
        });
    }

    private Response alterConfigs(String topic, FullHttpRequest request) {
        requireTopic(topic);
        JsonNode body = jsonObject(request);
        unknownFields(body, Set.of("set", "delete"));
        Map<String, String> set = stringMap(body.get("set"), "set");
        List<String> delete = new ArrayList<>();
        JsonNode deleted = body.get("delete");
        if (deleted != null && !deleted.isNull()) {
            if (!deleted.isArray()) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"delete\" must be an array of config names");
            }
            for (JsonNode n : deleted) {
                if (!n.isTextual()) {
                    throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"delete\" must be an array of config names, not " + deleted);
                }
                delete.add(n.asText());
            }
        }
        if (set.isEmpty() && delete.isEmpty()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "nothing to change: give \"set\": {name: value} and/or \"delete\": [name]");
        }
        List<AlterConfigOp> ops = new ArrayList<>();
        set.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        delete.forEach(k -> ops.add(new AlterConfigOp(new ConfigEntry(k, null), AlterConfigOp.OpType.DELETE)));
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        call(admin().incrementalAlterConfigs(Map.of(resource, ops)).all());
        Collection<ConfigEntry> configs = topicConfigs(topic);
        return Response.json(HttpResponseStatus.OK, out -> writeConfigs(out, configs));
    }

    private static JsonNode jsonObject(FullHttpRequest request) {
        JsonNode body;
        try {
            byte[] bytes = new byte[request.content().readableBytes()];
            request.content().getBytes(request.content().readerIndex(), bytes);
            body = bytes.length == 0 ? null : JSON.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "malformed JSON: " + e.getMessage());
        }
        if (body == null || !body.isObject()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "the body must be a JSON object");
        }
        return body;
    }

    private static void unknownFields(JsonNode body, Set<String> known) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "unknown field \"" + name + "\"; expected " + new TreeSet<>(known));
            }
        }
    }

    private static Optional<Integer> optionalInt(JsonNode body, String field, int min, int max) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min || value.asInt() > max) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"" + field + "\" must be a whole number between " + min + " and " + max
                    + ", not " + value);
        }
        return Optional.of(value.asInt());
    }

    private static Map<String, String> stringMap(JsonNode value, String field) {
        Map<String, String> map = new LinkedHashMap<>();
        if (value == null || value.isNull()) {
            return map;
        }
        if (!value.isObject()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"" + field + "\" must be an object of config names to string values");
        }
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            JsonNode v = e.getValue();
            if (!v.isValueNode() || v.isNull()) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "\"" + field + "\"." + e.getKey() + " must be a string, not " + v);
            }
            map.put(e.getKey(), v.asText());
        }
        return map;
    }

    // ---- groups ----------------------------------------------------------------------------------

    /** A group's description, committed offsets and the log ends of those partitions. */
    private record GroupFigures(ConsumerGroupDescription description, Map<TopicPartition, Long> committed, Map<TopicPartition, Long> end) {
        long lag() {
            long lag = 0;
            for (Map.Entry<TopicPartition, Long> c : committed.entrySet()) {
                Long e = end.get(c.getKey());
                if (e != null) {
                    lag += Math.max(0, e - c.getValue());
                }
            }
            return lag;
        }
    }

    private Map<String, GroupFigures> groupFigures(Collection<String> groups) {
        Admin a = admin();
        Map<String, GroupFigures> figures = new TreeMap<>();
        if (groups.isEmpty()) {
            return figures;
        }
        Map<String, ConsumerGroupDescription> descriptions = call(a.describeConsumerGroups(groups).all());
        Map<String, Map<TopicPartition, Long>> committed = new HashMap<>();
        Set<TopicPartition> partitions = new java.util.HashSet<>();
        for (String group : groups) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            Map<TopicPartition, OffsetAndMetadata> answer = call(a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
            answer.forEach((tp, o) -> {
                if (o != null && o.offset() >= 0) {
                    offsets.put(tp, o.offset());
                }
            });
            committed.put(group, offsets);
            partitions.addAll(offsets.keySet());
            ConsumerGroupDescription d = descriptions.get(group);
            if (d != null) {
                d.members().forEach(m -> partitions.addAll(m.assignment().topicPartitions()));
            }
        }
        Map<TopicPartition, Long> end = offsets(a, partitions, OffsetSpec.latest());
        for (String group : groups) {
            ConsumerGroupDescription d = descriptions.get(group);
            if (d != null) {
                figures.put(group, new GroupFigures(d, committed.get(group), end));
            }
        }
        return figures;
    }

    private Response listGroups() {
        Collection<GroupListing> listings = call(admin().listGroups().all());
        List<String> ids = listings.stream()
                .filter(g -> g.protocol() == null || g.protocol().isEmpty() || g.protocol().equals("consumer"))
                .map(GroupListing::groupId).sorted().toList();
        Map<String, GroupFigures> figures = groupFigures(ids);
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartArray();
            for (GroupFigures g : figures.values()) {
                ConsumerGroupDescription d = g.description();
                out.writeStartObject();
                out.writeStringField("group_id", d.groupId());
                out.writeStringField("state", state(d));
                out.writeNumberField("members", d.members().size());
                out.writeArrayFieldStart("topics");
                for (String t : new TreeSet<>(g.committed().keySet().stream().map(TopicPartition::topic).toList())) {
                    out.writeString(t);
                }
                out.writeEndArray();
                out.writeNumberField("lag", g.lag());
                out.writeNumberField("coordinator", d.coordinator() == null ? -1 : d.coordinator().id());
                out.writeEndObject();
            }
            out.writeEndArray();
        });
    }

    private static String state(ConsumerGroupDescription d) {
        GroupState state = d.groupState();
        return state == null ? "UNKNOWN" : state.name();
    }

    private Response describeGroup(String group) {
        GroupFigures g = groupFigures(List.of(group)).get(group);
        if (g == null || g.description().groupState() == GroupState.DEAD) {
            throw new ApiError(HttpResponseStatus.NOT_FOUND, GROUP_NOT_FOUND, "group '" + group + "' not found");
        }
        ConsumerGroupDescription d = g.description();
        Map<TopicPartition, MemberDescription> owners = new HashMap<>();
        d.members().forEach(m -> m.assignment().topicPartitions().forEach(tp -> owners.put(tp, m)));
        TreeSet<TopicPartition> partitions = new TreeSet<>(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        partitions.addAll(g.committed().keySet());
        partitions.addAll(owners.keySet());
        GroupFigures figures = g;
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("group_id", d.groupId());
            out.writeStringField("state", state(d));
            writeNullableString(out, "assignor", d.partitionAssignor());
            out.writeNumberField("coordinator", d.coordinator() == null ? -1 : d.coordinator().id());
            out.writeNumberField("lag", figures.lag());
            out.writeArrayFieldStart("members");
            for (MemberDescription m : d.members()) {
                out.writeStartObject();
                out.writeStringField("member_id", m.consumerId());
                out.writeStringField("client_id", m.clientId());
                out.writeStringField("host", m.host());
                out.writeArrayFieldStart("partitions");
                for (TopicPartition tp : m.assignment().topicPartitions()) {
                    out.writeString(tp.topic() + "-" + tp.partition());
                }
                out.writeEndArray();
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeArrayFieldStart("offsets");
            for (TopicPartition tp : partitions) {
                Long committed = figures.committed().get(tp);
                Long end = figures.end().get(tp);
                MemberDescription owner = owners.get(tp);
                out.writeStartObject();
                out.writeStringField("topic", tp.topic());
                out.writeNumberField("partition", tp.partition());
                writeNullableLong(out, "committed", committed);
                writeNullableLong(out, "log_end_offset", end);
                writeNullableLong(out, "lag", committed == null || end == null ? null : Math.max(0, end - committed));
                writeNullableString(out, "member_id", owner == null ? null : owner.consumerId());
                writeNullableString(out, "client_id", owner == null ? null : owner.clientId());
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    // ---- pipelines -------------------------------------------------------------------------------

    private Response pipelines() {
        List<NodeAdmin.Pipeline> pipelines;
        try {
            pipelines = nodeAdmin.pipelines();
        } catch (ApiError e) {
            throw e;
        } catch (Exception e) {
            throw unavailable("the pipeline catalog could not be read: " + e);
        }
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartArray();
            for (NodeAdmin.Pipeline p : pipelines) {
                out.writeStartObject();
                out.writeStringField("name", p.name());
                out.writeStringField("source", p.source());
                out.writeStringField("class", p.className());
                out.writeBooleanField("paused", p.paused());
                out.writeNumberField("generation", p.generation());
                out.writeObjectFieldStart("settings");
                for (Map.Entry<String, String> s : new TreeMap<>(p.settings()).entrySet()) {
                    out.writeStringField(s.getKey(), s.getValue());
                }
                out.writeEndObject();
                out.writeArrayFieldStart("tasks");
                for (NodeAdmin.Task t : p.tasks()) {
                    out.writeStartObject();
                    out.writeNumberField("sub_topology", t.subTopology());
                    out.writeNumberField("partition", t.partition());
                    out.writeNumberField("node", t.node());
                    out.writeStringField("state", t.state());
                    out.writeNumberField("records_processed", t.recordsProcessed());
                    out.writeNumberField("input_lag", t.inputLag());
                    out.writeNumberField("records_per_second", t.recordsPerSecond());
                    out.writeNumberField("latency_p50_ms", t.latencyP50Us() / 1000.0);
                    out.writeNumberField("latency_p99_ms", t.latencyP99Us() / 1000.0);
                    out.writeNumberField("restores", t.restores());
                    out.writeNumberField("failures", t.failures());
                    writeNullableString(out, "error", t.error() == null || t.error().isEmpty() ? null : t.error());
                    out.writeNumberField("reported_at_ms", t.reportedAtMs());
                    out.writeEndObject();
                }
                out.writeEndArray();
                out.writeEndObject();
            }
            out.writeEndArray();
        });
    }

    // ---- the Kafka admin client ------------------------------------------------------------------

    private synchronized Admin admin() {
        if (closed) {
            throw new IllegalStateException("the HTTP server is closing");
        }
        if (admin == null) {
            Map<String, Object> config = new HashMap<>();
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            config.put(AdminClientConfig.CLIENT_ID_CONFIG, "spate-http-admin");
            config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT_MS);
            config.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
            config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
            config.put(AdminClientConfig.METADATA_MAX_AGE_CONFIG, 5_000);
            admin = Admin.create(config);
        }
        return admin;
    }

    /** Waits for an admin call; the cluster's refusals become answers naming Kafka's error. */
    private static <T> T call(KafkaFuture<T> future) {
        try {
            return future.get(CALL_TIMEOUT_MS + 1_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted");
        } catch (TimeoutException e) {
            throw unavailable("the cluster did not answer within " + CALL_TIMEOUT_MS + " ms");
        } catch (ExecutionException e) {
            throw refusal(e.getCause());
        }
    }

    private static ApiError refusal(Throwable cause) {
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (cause instanceof TopicExistsException) {
            return new ApiError(HttpResponseStatus.CONFLICT, TOPIC_EXISTS, message);
        }
        if (cause instanceof UnknownTopicOrPartitionException) {
            return new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.TOPIC_NOT_FOUND, message);
        }
        if (cause instanceof GroupIdNotFoundException) {
            return new ApiError(HttpResponseStatus.NOT_FOUND, GROUP_NOT_FOUND, message);
        }
        if (cause instanceof InvalidTopicException || cause instanceof InvalidPartitionsException
                || cause instanceof InvalidReplicationFactorException || cause instanceof InvalidConfigurationException
                || cause instanceof PolicyViolationException || cause instanceof InvalidRequestException) {
            return ApiError.badRequest(REJECTED, errorName(cause) + ": " + message);
        }
        if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
            return unavailable("the cluster did not answer: " + message);
        }
        if (cause instanceof ApiException) {
            return new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, CLUSTER_UNAVAILABLE, errorName(cause) + ": " + message);
        }
        return new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, ApiError.INTERNAL, cause.toString());
    }

    /** The Kafka exception's name (InvalidTopicException...): this module names nothing of Kafka's wire protocol. */
    private static String errorName(Throwable cause) {
        return cause.getClass().getSimpleName();
    }

    private static ApiError unavailable(String message) {
        return new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, CLUSTER_UNAVAILABLE, message);
    }

    /** Ends the stats streams and the sampler, then the admin client. */
    @Override
    public void close() {
        stats.close();
        Admin a;
        synchronized (this) {
            closed = true;
            a = admin;
            admin = null;
        }
        if (a != null) {
            a.close(java.time.Duration.ofSeconds(2));
        }
    }
}
