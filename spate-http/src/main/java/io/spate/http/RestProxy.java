package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.spate.replication.Acks;
import org.apache.kafka.common.errors.RetriableException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Confluent's REST Proxy v2 on the node's HTTP port, so REST Proxy clients work unchanged:
 * produce ({@code POST /topics/{t}}, {@code POST /topics/{t}/partitions/{p}}, embedded formats
 * json and binary, written by the same {@link RecordWriter} as Spate's own produce), metadata in
 * v2 shapes ({@code GET /topics} and {@code GET /topics/{t}} when the request accepts
 * {@code application/vnd.kafka.v2+json}; {@code /topics/{t}/partitions[/{p}]}, {@code /brokers}),
 * and consumer instances ({@code /consumers/...}, {@link RestProxyConsumerApi}). Errors come as
 * {@code {"error_code", "message"}} with Confluent's codes where it has one for the case.
 */
final class RestProxy {
    static final String V2 = "application/vnd.kafka.v2+json";
    static final String V2_JSON_EMBEDDED = "application/vnd.kafka.json.v2+json";
    static final String V2_BINARY = "application/vnd.kafka.binary.v2+json";
    private static final Set<String> SCHEMA_FORMATS = Set.of("avro", "protobuf", "jsonschema");

    static final int PARTITION_NOT_FOUND = 40402;
    static final int CONSUMER_NOT_FOUND = 40403;
    static final int NOT_ACCEPTABLE = 40600;
    static final int CONSUMER_FORMAT_MISMATCH = 40601;
    static final int CONSUMER_ALREADY_EXISTS = 40902;
    static final int ILLEGAL_STATE = 40903;
    static final int UNSUPPORTED_MEDIA_TYPE = 41500;
    static final int UNSUPPORTED_EMBEDDED_FORMAT = 41501;
    static final int UNPROCESSABLE = 42200;
    static final int INVALID_CONSUMER_CONFIG = 42204;
    static final int TOO_MANY_CONSUMERS = 42902;
    static final int KAFKA_ERROR = 50002;
    static final int KAFKA_RETRIABLE_ERROR = 50003;
    static final int SERVER_CLOSING = 50300;

    static final long PRODUCE_TIMEOUT_MS = 30_000;

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

    private final NodePartitions node;
    private final RecordWriter writer;
    private final KafkaClients clients;
    private final RestProxyConsumerApi consumers;

    RestProxy(NodePartitions node, RecordWriter writer, KafkaClients clients, RestProxyConsumers instances) {
        this.node = node;
        this.writer = writer;
        this.clients = clients;
        this.consumers = new RestProxyConsumerApi(instances);
    }

    /**
     * The answer when {@code path} is a v2 request, else null (Spate's own routes take it): every
     * {@code /consumers} and {@code /brokers} path, a POST to a topic or one of its partitions,
     * the partitions' metadata, and {@code GET /topics[/{t}]} accepting the v2 type.
     */
    Response route(HttpMethod method, List<String> path, FullHttpRequest request, Channel channel) {
        String first = path.isEmpty() ? "" : path.getFirst();
        int size = path.size();
        boolean ours = switch (first) {
            case "consumers", "brokers" -> true;
            case "topics" -> (size <= 2 && method.equals(HttpMethod.GET) && acceptsV2Metadata(request))
                    || (size == 2 && method.equals(HttpMethod.POST))
                    || (size == 3 && path.get(2).equals("partitions"))
                    || (size == 4 && path.get(2).equals("partitions"))
                    || (size == 5 && path.get(2).equals("partitions") && path.get(4).equals("offsets"));
            default -> false;
        };
        if (!ours) {
            return null;
        }
        try {
            return switch (first) {
                case "brokers" -> brokers(method, path, request);
                case "consumers" -> consumers.route(method, path, request, channel);
                default -> topics(method, path, request);
            };
        } catch (ApiError e) {
            return error(e);
        }
    }

    // ---- metadata

    private Response brokers(HttpMethod method, List<String> path, FullHttpRequest request) {
        if (path.size() != 1) {
            throw noSuchPath(path);
        }
        allow(method, HttpMethod.GET);
        checkAcceptsV2(request);
        List<Integer> brokers = node.brokers();
        return json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeArrayFieldStart("brokers");
            for (int id : brokers) {
                out.writeNumber(id);
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private Response topics(HttpMethod method, List<String> path, FullHttpRequest request) {
        if (path.size() == 1) {
            List<String> names = node.topics().stream().filter(t -> !node.isInternal(t)).sorted().toList();
            return json(HttpResponseStatus.OK, out -> {
                out.writeStartArray();
                for (String name : names) {
                    out.writeString(name);
                }
                out.writeEndArray();
            });
        }
        String topic = path.get(1);
        if (path.size() == 2) {
            if (method.equals(HttpMethod.POST)) {
                return produce(topic, null, request);
            }
            int partitions = partitions(topic);
            return json(HttpResponseStatus.OK, out -> {
                out.writeStartObject();
                out.writeStringField("name", topic);
                out.writeObjectFieldStart("configs");
                out.writeEndObject();
                out.writeArrayFieldStart("partitions");
                for (int p = 0; p < partitions; p++) {
                    writePartition(out, topic, p);
                }
                out.writeEndArray();
                out.writeEndObject();
            });
        }
        if (path.size() == 3) {
            allow(method, HttpMethod.GET);
            checkAcceptsV2(request);
            int partitions = partitions(topic);
            return json(HttpResponseStatus.OK, out -> {
                out.writeStartArray();
                for (int p = 0; p < partitions; p++) {
                    writePartition(out, topic, p);
                }
                out.writeEndArray();
            });
        }
        int partitions = partitions(topic);
        int partition = partitionNumber(topic, path.get(3), partitions);
        if (path.size() == 5) {
            allow(method, HttpMethod.GET);
            checkAcceptsV2(request);
            return offsets(topic, partition);
        }
        if (method.equals(HttpMethod.POST)) {
            return produce(topic, partition, request);
        }
        if (!method.equals(HttpMethod.GET)) {
            throw methodNotAllowed(method, "GET, POST");
        }
        checkAcceptsV2(request);
        return json(HttpResponseStatus.OK, out -> writePartition(out, topic, partition));
    }

    /**
     * {@code {"beginning_offset", "end_offset"}}: the log start and the high watermark, from this
     * node's replica when it leads the partition, else asked of the leader by a short-lived consumer.
     */
    private Response offsets(String topic, int partition) {
        io.spate.log.TopicPartition tp = new io.spate.log.TopicPartition(topic, partition);
        io.spate.replication.Partition local = node.localReplica(tp);
        long beginning;
        long end;
        if (local != null && local.isLeader()) {
            beginning = local.log().logStartOffset();
            end = local.readLimit(io.spate.replication.ReadBound.HIGH_WATERMARK);
        } else {
            org.apache.kafka.common.TopicPartition kafka = new org.apache.kafka.common.TopicPartition(topic, partition);
            try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = clients.consumer(1)) {
                java.time.Duration timeout = java.time.Duration.ofSeconds(10);
                beginning = consumer.beginningOffsets(List.of(kafka), timeout).get(kafka);
                end = consumer.endOffsets(List.of(kafka), timeout).get(kafka);
            } catch (org.apache.kafka.common.KafkaException e) {
                throw new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, e instanceof RetriableException ? KAFKA_RETRIABLE_ERROR : KAFKA_ERROR,
                        e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        return json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeNumberField("beginning_offset", beginning);
            out.writeNumberField("end_offset", end);
            out.writeEndObject();
        });
    }

    private int partitions(String topic) {
        int partitions = node.partitionCount(topic);
        if (partitions < 0) {
            throw ApiError.topicNotFound(topic);
        }
        return partitions;
    }

    private static int partitionNumber(String topic, String value, int partitions) {
        int partition;
        try {
            partition = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            partition = -1;
        }
        if (partition < 0 || partition >= partitions) {
            throw partitionNotFound(topic, value, partitions);
        }
        return partition;
    }

    static ApiError partitionNotFound(String topic, Object partition, int partitions) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, PARTITION_NOT_FOUND, "partition " + partition + " of topic '" + topic
                + "' not found (it has " + partitions + ")");
    }

    /** {@code {"partition", "leader", "replicas": [{"broker", "leader", "in_sync"}]}}. */
    private void writePartition(JsonGenerator out, String topic, int partition) throws IOException {
        NodePartitions.Placement placement = node.placement(topic, partition);
        out.writeStartObject();
        out.writeNumberField("partition", partition);
        out.writeNumberField("leader", placement == null ? -1 : placement.leader());
        out.writeArrayFieldStart("replicas");
        if (placement != null) {
            for (int broker : placement.replicas()) {
                out.writeStartObject();
                out.writeNumberField("broker", broker);
                out.writeBooleanField("leader", broker == placement.leader());
                out.writeBooleanField("in_sync", placement.isr().contains(broker));
                out.writeEndObject();
            }
        }
        out.writeEndArray();
        out.writeEndObject();
    }

    // ---- produce

    private enum Embedded { JSON, BINARY }

    private Response produce(String topic, Integer partition, FullHttpRequest request) {
        Embedded format = produceFormat(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
        checkAcceptsV2(request);
        int partitions = partitions(topic);
        if (node.isInternal(topic)) {
            throw ApiError.internalTopic(topic);
        }
        List<IncomingRecord> incoming = produceRecords(request, format, topic, partition, partitions);
        RecordWriter.Result[] results = writer.write(topic, partitions, incoming, Acks.ALL, PRODUCE_TIMEOUT_MS);
        return json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeNullField("key_schema_id");
            out.writeNullField("value_schema_id");
            out.writeArrayFieldStart("offsets");
            for (RecordWriter.Result r : results) {
                out.writeStartObject();
                if (r.failure() == null) {
                    out.writeNumberField("partition", r.partition());
                    out.writeNumberField("offset", r.offset());
                    out.writeNullField("error_code");
                    out.writeNullField("error");
                } else {
                    out.writeNullField("partition");
                    out.writeNullField("offset");
                    out.writeNumberField("error_code", kafkaErrorCode(r.failure().errorCode()));
                    out.writeStringField("error", r.failure().errorName() + ": " + r.failure().message());
                }
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    /**
     * The records of a v2 produce body, read as a stream: each record becomes a tree of its own,
     * one at a time, and the count is checked as they come. The whole body read as one tree took
     * some 200 bytes of heap per 12-byte record before its count was looked at: a few 8 MiB
     * bodies of tiny records at once exhausted the node's heap (found by review).
     */
    private static List<IncomingRecord> produceRecords(FullHttpRequest request, Embedded format, String topic, Integer partition,
                                                       int partitions) {
        String shape = "the body must be an object: {\"records\": [{\"key\", \"value\"" + (partition == null ? ", \"partition\"" : "") + "}]}";
        byte[] bytes = new byte[request.content().readableBytes()];
        request.content().getBytes(request.content().readerIndex(), bytes);
        try (JsonParser in = MAPPER.createParser(bytes)) {
            if (in.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw unprocessable(shape);
            }
            List<IncomingRecord> incoming = null;
            Set<String> known = Set.of("records", "key_schema", "key_schema_id", "value_schema", "value_schema_id");
            while (in.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String field = in.currentName();
                in.nextToken();
                if (!known.contains(field)) {
                    throw unprocessable("the request: unknown field '" + field + "' (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
                if (!field.equals("records")) {
                    in.skipChildren();
                    continue;
                }
                if (in.currentToken() != com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                    throw unprocessable("records must be a non-empty array");
                }
                incoming = new ArrayList<>();
                while (in.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                    if (incoming.size() >= RecordParser.MAX_RECORDS) {
                        throw unprocessable("more than " + RecordParser.MAX_RECORDS + " records in one request");
                    }
                    JsonNode r = MAPPER.readTree(in);
                    incoming.add(produceRecord(r, "records[" + incoming.size() + "]", format, topic, partition, partitions));
                }
            }
            if (in.nextToken() != null) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "unexpected content after the JSON body");
            }
            if (incoming == null || incoming.isEmpty()) {
                throw unprocessable("records must be a non-empty array");
            }
            return incoming;
        } catch (IOException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "malformed JSON" + JsonFailure.describe(e, true));
        }
    }

    private static IncomingRecord produceRecord(JsonNode r, String where, Embedded format, String topic, Integer partition, int partitions) {
        if (r == null || !r.isObject()) {
            throw unprocessable(where + " must be an object");
        }
        checkFields(r, where, partition == null ? Set.of("key", "value", "partition") : Set.of("key", "value"));
        Integer p = partition;
        JsonNode given = r.get("partition");
        if (given != null && !given.isNull()) {
            if (!given.isIntegralNumber() || !given.canConvertToInt()) {
                throw unprocessable(where + ".partition must be an integer, not " + given);
            }
            if (given.intValue() < 0 || given.intValue() >= partitions) {
                throw partitionNotFound(topic, given.intValue(), partitions);
            }
            p = given.intValue();
        }
        return new IncomingRecord(embedded(format, r.get("key"), where + ".key"), embedded(format, r.get("value"), where + ".value"), List.of(), p);
    }

    /**
     * The Kafka error codes a write may fail with ({@link WriteFailure}) whose exceptions are
     * retriable in kafka-clients: CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE,
     * NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NETWORK_EXCEPTION, NOT_ENOUGH_REPLICAS,
     * NOT_ENOUGH_REPLICAS_AFTER_APPEND, KAFKA_STORAGE_ERROR, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH.
     * (Named here rather than looked up: this module keeps out of kafka-clients' protocol package.)
     */
    private static final Set<Integer> RETRIABLE_KAFKA_ERRORS = Set.of(2, 3, 5, 6, 7, 13, 19, 20, 56, 74, 75);

    /** As Confluent's proxy reports a record Kafka refused: 50003 when a retry may succeed, else 50002. */
    static int kafkaErrorCode(int kafkaCode) {
        return RETRIABLE_KAFKA_ERRORS.contains(kafkaCode) ? KAFKA_RETRIABLE_ERROR : KAFKA_ERROR;
    }

    private static Embedded produceFormat(String contentType) {
        String mime = mediaType(contentType);
        if (mime.equals(V2_JSON_EMBEDDED)) {
            return Embedded.JSON;
        }
        if (mime.equals(V2_BINARY)) {
            return Embedded.BINARY;
        }
        if (mime.startsWith("application/vnd.kafka.") && mime.endsWith(".v2+json")) {
            String embedded = mime.substring("application/vnd.kafka.".length(), mime.length() - ".v2+json".length());
            if (SCHEMA_FORMATS.contains(embedded)) {
                throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_EMBEDDED_FORMAT, "embedded format '" + embedded
                        + "' needs a schema registry, which Spate does not have; send " + V2_JSON_EMBEDDED + " or " + V2_BINARY);
            }
        }
        throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE, "a REST Proxy v2 produce takes "
                + V2_JSON_EMBEDDED + " or " + V2_BINARY + ", not " + (mime.isEmpty() ? "a body without Content-Type" : mime)
                + " (Spate's own produce is POST /topics/{topic}/records)");
    }

    /** A key or value as stored: binary is base64 text, json the value's JSON text (a string keeps its quotes). */
    private static byte[] embedded(Embedded format, JsonNode value, String where) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (format == Embedded.BINARY) {
            if (!value.isTextual()) {
                throw unprocessable(where + " must be a base64 string or null in the binary format");
            }
            try {
                return Base64.getDecoder().decode(value.textValue());
            } catch (IllegalArgumentException e) {
                throw unprocessable(where + " is not valid base64: " + e.getMessage());
            }
        }
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value could not be written back", e);
        }
    }

    // ---- shared by the v2 endpoints

    /** The body as JSON, null when empty; a malformed one is a 400. */
    static JsonNode body(FullHttpRequest request) {
        int length = request.content().readableBytes();
        if (length == 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        request.content().getBytes(request.content().readerIndex(), bytes);
        try (JsonParser in = MAPPER.createParser(bytes)) {
            JsonNode node = MAPPER.readTree(in);
            if (node != null && in.nextToken() != null) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "unexpected content after the JSON body");
            }
            return node == null || node.isMissingNode() ? null : node;
        } catch (IOException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "malformed JSON" + JsonFailure.describe(e, true));
        }
    }

    static void checkFields(JsonNode object, String where, Set<String> known) {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw unprocessable(where + ": unknown field '" + name + "' (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    static ApiError unprocessable(String message) {
        return new ApiError(HttpResponseStatus.UNPROCESSABLE_ENTITY, UNPROCESSABLE, message);
    }

    static ApiError instanceNotFound(String group, String id) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, CONSUMER_NOT_FOUND, "consumer instance '" + id + "' of group '" + group
                + "' not found on this node");
    }

    static ApiError noSuchPath(List<String> path) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.NO_SUCH_PATH, "no such path: /" + String.join("/", path));
    }

    static void allow(HttpMethod method, HttpMethod allowed) {
        if (!method.equals(allowed)) {
            throw methodNotAllowed(method, allowed.name());
        }
    }

    static ApiError methodNotAllowed(HttpMethod method, String allowed) {
        return new MethodNotAllowed(method, allowed);
    }

    /** A 405 naming the methods the path takes (the Allow header). */
    static final class MethodNotAllowed extends ApiError {
        final String allowed;

        MethodNotAllowed(HttpMethod method, String allowed) {
            super(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here; this path takes " + allowed);
            this.allowed = allowed;
        }
    }

    /** The media type of a Content-Type or Accept element, lower case, without parameters. */
    static String mediaType(String value) {
        return value == null ? "" : value.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    }

    /** The media ranges an Accept header lists (none when absent), those with q=0 left out. */
    static List<String> accepted(FullHttpRequest request) {
        List<String> out = new ArrayList<>();
        for (String header : request.headers().getAll(HttpHeaderNames.ACCEPT)) {
            for (String element : header.split(",")) {
                String[] parts = element.split(";");
                boolean refused = false;
                for (int i = 1; i < parts.length; i++) {
                    String param = parts[i].trim().replace(" ", "");
                    refused |= param.equals("q=0") || param.matches("q=0(\\.0*)?");
                }
                String mime = mediaType(parts[0]);
                if (!mime.isEmpty() && !refused) {
                    out.add(mime);
                }
            }
        }
        return out;
    }

    /** True for a range any v2 answer satisfies: anything, JSON, or a v2 type of any embedded format. */
    static boolean isGenericV2(String range) {
        return range.equals("*/*") || range.equals("application/*") || range.equals("application/json") || range.equals(V2);
    }

    static boolean isV2(String range) {
        return range.startsWith("application/vnd.kafka.") && range.endsWith(".v2+json");
    }

    /** Whether a {@code GET /topics[/{t}]} asks for the v2 shape (else Spate's own answers it). */
    private static boolean acceptsV2Metadata(FullHttpRequest request) {
        return accepted(request).stream().anyMatch(r -> r.equals(V2) || isV2(r));
    }

    /** 406 unless the request accepts a v2 JSON answer (no Accept header accepts anything). */
    static void checkAcceptsV2(FullHttpRequest request) {
        List<String> ranges = accepted(request);
        if (!ranges.isEmpty() && ranges.stream().noneMatch(r -> isGenericV2(r) || isV2(r))) {
            throw new ApiError(HttpResponseStatus.NOT_ACCEPTABLE, NOT_ACCEPTABLE, "this endpoint answers " + V2 + ", which the Accept header ("
                    + String.join(", ", ranges) + ") does not take");
        }
    }

    static Response json(HttpResponseStatus status, Response.JsonWriter writer) {
        return new Response(status, Response.bytes(writer), V2, Map.of());
    }

    static Response noContent() {
        return new Response(HttpResponseStatus.NO_CONTENT, new byte[0], V2, Map.of());
    }

    /** An error in the v2 content type. */
    static Response error(ApiError e) {
        Map<String, String> headers = e instanceof MethodNotAllowed refused ? Map.of("Allow", refused.allowed) : Map.of();
        Response plain = Response.error(e.status, e.errorCode, e.getMessage(), headers);
        return new Response(plain.status(), plain.body(), V2, plain.headers());
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
