package io.spate.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * The routes, and what they share: the node's partitions, the internal Kafka clients, the
 * executor requests are handled on (a virtual thread each: a handler may wait on a write's
 * acknowledgement or a consumer), and the live streams open now.
 *
 * <pre>
 * GET  /topics                                   topics and their partition counts
 * GET  /topics/{topic}                           partitions: leader, replicas, in-sync set, local offsets
 * POST /topics/{topic}/records                   produce (JSON array, NDJSON, raw body)
 * GET  /topics/{topic}/partitions/{p}/records    read from an offset
 * GET  /topics/{topic}/live                      Server-Sent Events
 * GET  /metrics                                  the node's figures, Prometheus text format
 * /consumers/..., /brokers, POST /topics/{topic}[/partitions/{p}], GET /topics/{topic}/partitions[/{p}],
 *   GET /topics[/{topic}] accepting application/vnd.kafka.v2+json: Confluent REST Proxy v2 ({@link RestProxy})
 * /admin/..., / and /console/...                 the admin endpoints and the web console ({@link AdminApi})
 * /tables/...                                    the masterless tables ({@link TablesApi})
 * </pre>
 */
final class HttpApi {
    private final NodePartitions node;
    private final KafkaClients clients;
    private final ExecutorService executor;
    private final ProduceHandler produce;
    private final ReadHandler read;
    private final RestProxy restProxy;
    private final HttpMetrics metrics;
    private final Set<LiveStream> streams = ConcurrentHashMap.newKeySet();
    static final int MAX_LIVE_STREAMS = 128;

    HttpApi(NodePartitions node, KafkaClients clients, ExecutorService executor, HttpMetrics metrics, RestProxyConsumers consumers) {
        this.node = node;
        this.metrics = metrics;
        this.clients = clients;
        this.executor = executor;
        RecordWriter writer = new RecordWriter(node, clients, executor);
        this.produce = new ProduceHandler(node, writer);
        this.read = new ReadHandler(node, clients);
        this.restProxy = new RestProxy(node, writer, clients, consumers);
    }

    HttpMetrics metrics() {
        return metrics;
    }

    /** The console and {@code /admin} endpoints; none until set (a 404 then). */
    private volatile AdminApi admin;

    void serveAdmin(AdminApi admin) {
        this.admin = admin;
    }

    /** The {@code /tables} endpoints; none until set (a 404 then). */
    private volatile TablesApi tables;

    void serveTables(TablesApi tables) {
        this.tables = tables;
    }

    void execute(Runnable task) {
        executor.execute(task);
    }

    /** The path's segments, decoded, and the query parsed (so that a malformed one is a 400 here). */
    private static List<String> pathOf(QueryStringDecoder query) {
        List<String> path = new ArrayList<>();
        try {
            query.parameters();
            for (String segment : query.rawPath().split("/")) {
                if (!segment.isEmpty()) {
                    path.add(QueryStringDecoder.decodeComponent(segment));
                }
            }
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_REQUEST, "malformed URI: " + e.getMessage());
        }
        return path;
    }

    /**
     * A single key's table request ({@code GET|PUT|POST|DELETE /tables/{t}/keys/{k}}), checked as
     * {@link #handle} checks it and already sent to the tables' coordinator; null for every other
     * request, which {@link #handle} serves on a virtual thread. A refused request throws its
     * {@link ApiError}. Never blocks: it runs on the connection's event loop, and the answer comes
     * with the future, so these requests, the tables' bulk, pay no hand-off to a thread and back.
     */
    TablesApi.Pending<?> tableKey(FullHttpRequest request) {
        TablesApi tablesApi = tables;
        if (tablesApi == null || !request.uri().startsWith("/tables/")) {
            return null; // what the check below would not take (other paths, absolute URIs) goes the general way
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        List<String> path;
        try {
            path = pathOf(query);
        } catch (ApiError malformed) {
            return null; // handle() answers it, as for any path
        }
        if (!TablesApi.isKey(path)) {
            return null;
        }
        refuseCrossSite(request);
        refuseEncoded(request);
        return tablesApi.key(request.method(), path, request, query);
    }

    Outcome handle(FullHttpRequest request, Channel channel) {
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        List<String> path = pathOf(query);
        HttpMethod method = request.method();
        refuseCrossSite(request);
        refuseEncoded(request);
        Response restProxyV2 = restProxy.route(method, path, request, channel); // Confluent REST Proxy v2 paths, or null
        if (restProxyV2 != null) {
            return restProxyV2;
        }
        if (path.size() == 1 && path.getFirst().equals("metrics")) {
            allow(method, HttpMethod.GET);
            return metrics.scrape();
        }
        AdminApi adminApi = admin;
        if (adminApi != null && AdminApi.owns(path)) {
            return adminApi.handle(method, path, request, query, channel);
        }
        TablesApi tablesApi = tables;
        if (tablesApi != null && TablesApi.owns(path)) {
            return tablesApi.handle(method, path, request, query);
        }
        if (path.isEmpty() || !path.getFirst().equals("topics")) {
            throw noSuchPath(query);
        }
        if (path.size() == 1) {
            allow(method, HttpMethod.GET);
            return listTopics();
        }
        String topic = path.get(1);
        if (path.size() == 2) {
            allow(method, HttpMethod.GET);
            return describeTopic(topic);
        }
        if (path.size() == 3 && path.get(2).equals("records")) {
            allow(method, HttpMethod.POST);
            if (node.isInternal(topic)) {
                throw ApiError.internalTopic(topic);
            }
            return produce.produce(topic, request, query);
        }
        if (path.size() == 3 && path.get(2).equals("live")) {
            allow(method, HttpMethod.GET);
            return live(topic, request, query, channel);
        }
        if (path.size() == 5 && path.get(2).equals("partitions") && path.get(4).equals("records")) {
            allow(method, HttpMethod.GET);
            return read.read(topic, path.get(3), query);
        }
        throw noSuchPath(query);
    }

    /**
     * Another web site's page must not act through a browser that can reach this port (an
     * operator's, on the trusted network): a form or a fetch posting a text/plain body needs no
     * CORS preflight, so without this it could create topics, produce or take consumer instances.
     * Refused: what the browser marks cross-site ({@code Sec-Fetch-Site}), and a write whose
     * {@code Origin} is not this host. Clients other than browsers send neither header.
     */
    private static void refuseCrossSite(FullHttpRequest request) {
        String site = request.headers().get("Sec-Fetch-Site");
        boolean crossSite = "cross-site".equalsIgnoreCase(site);
        HttpMethod method = request.method();
        String origin = request.headers().get("Origin");
        if (!crossSite && origin != null && !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            String host = request.headers().get("Host");
            int scheme = origin.indexOf("://");
            String originHost = scheme < 0 ? "" : origin.substring(scheme + 3);
            crossSite = host == null || !originHost.equalsIgnoreCase(host);
        }
        if (crossSite) {
            throw new ApiError(HttpResponseStatus.FORBIDDEN, ApiError.CROSS_SITE,
                    "requests from another site's pages are refused (Origin " + origin + ", Sec-Fetch-Site " + site + ")");
        }
    }

    /**
     * No endpoint decodes a compressed body: taken as it came, a gzip body would be stored as the
     * event's bytes and answered 200. Refused instead (RFC 9110 15.5.16), as is any coding but identity.
     */
    private static void refuseEncoded(FullHttpRequest request) {
        for (String coding : request.headers().getAll(HttpHeaderNames.CONTENT_ENCODING)) {
            for (String one : coding.split(",")) {
                if (!one.isBlank() && !one.trim().equalsIgnoreCase("identity")) {
                    throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, ApiError.UNSUPPORTED_CONTENT_ENCODING,
                            "Content-Encoding '" + one.trim() + "' is not taken: send the body uncompressed");
                }
            }
        }
    }

    private static ApiError noSuchPath(QueryStringDecoder query) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.NO_SUCH_PATH, "no such path: " + query.rawPath());
    }

    private static void allow(HttpMethod method, HttpMethod allowed) {
        if (!method.equals(allowed)) {
            throw new MethodNotAllowed(method, allowed);
        }
    }

    /** A 405, which must name the method the path takes. */
    static final class MethodNotAllowed extends ApiError {
        final HttpMethod allowed;

        MethodNotAllowed(HttpMethod method, HttpMethod allowed) {
            super(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here; this path takes " + allowed);
            this.allowed = allowed;
        }
    }

    private Response listTopics() {
        List<String> names = node.topics().stream().sorted().toList();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartArray();
            for (String name : names) {
                int partitions = node.partitionCount(name);
                if (partitions >= 0) {
                    out.writeStartObject();
                    out.writeStringField("name", name);
                    out.writeNumberField("partitions", partitions);
                    out.writeEndObject();
                }
            }
            out.writeEndArray();
        });
    }

    private Response describeTopic(String topic) {
        int partitions = node.partitionCount(topic);
        if (partitions < 0) {
            throw ApiError.topicNotFound(topic);
        }
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("name", topic);
            out.writeArrayFieldStart("partitions");
            for (int p = 0; p < partitions; p++) {
                out.writeStartObject();
                out.writeNumberField("partition", p);
                NodePartitions.Placement placement = node.placement(topic, p);
                if (placement != null) {
                    out.writeNumberField("leader", placement.leader());
                    writeIds(out, "replicas", placement.replicas());
                    writeIds(out, "isr", placement.isr());
                }
                Partition local = node.localReplica(new TopicPartition(topic, p));
                if (local != null) {
                    out.writeObjectFieldStart("local");
                    out.writeStringField("role", local.role().name().toLowerCase(java.util.Locale.ROOT));
                    out.writeNumberField("log_start_offset", local.log().logStartOffset());
                    out.writeNumberField("high_watermark", local.readLimit(ReadBound.HIGH_WATERMARK));
                    out.writeNumberField("log_end_offset", local.log().logEndOffset());
                    out.writeEndObject();
                }
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private static void writeIds(com.fasterxml.jackson.core.JsonGenerator out, String name, List<Integer> ids) throws java.io.IOException {
        out.writeArrayFieldStart(name);
        for (int id : ids) {
            out.writeNumber(id);
        }
        out.writeEndArray();
    }

    private LiveStream live(String topic, FullHttpRequest request, QueryStringDecoder query, Channel channel) {
        int partitions = node.partitionCount(topic);
        if (partitions < 0) {
            throw ApiError.topicNotFound(topic);
        }
        String from = Params.string(query, "from", "end");
        if (!from.equals("end") && !from.equals("beginning")) {
            throw ApiError.badRequest(ApiError.BAD_PARAMETER, "from must be end or beginning, not '" + from + "'");
        }
        RecordJson.Format format = RecordJson.Format.of(Params.string(query, "format", "text"));
        String lastEventId = request.headers().get("Last-Event-ID", Params.string(query, "last_event_id", null));
        Map<Integer, Long> resume = lastEventId == null || lastEventId.isBlank() ? Map.of() : LiveStream.parseEventId(lastEventId, partitions);
        synchronized (streams) { // the count and the add as one: concurrent requests do not pass the limit
            if (streams.size() >= MAX_LIVE_STREAMS) {
                // Each stream holds a consumer and its fetch buffers: their number is what bounds that memory.
                throw new ApiError(HttpResponseStatus.TOO_MANY_REQUESTS, ApiError.TOO_MANY_LIVE_STREAMS, "this node serves "
                        + MAX_LIVE_STREAMS + " live streams already; try another node or later");
            }
            LiveStream stream = new LiveStream(channel, topic, partitions, resume, from.equals("beginning"), format, clients, executor,
                    streams::remove);
            streams.add(stream);
            return stream;
        }
    }

    /** Ends every live stream (the server is closing). */
    void stopStreams() {
        streams.forEach(LiveStream::stop);
    }
}
