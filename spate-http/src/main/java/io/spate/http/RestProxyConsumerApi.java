package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The REST Proxy v2 consumer endpoints, {@code /consumers/{group}[/instances/{instance}/...]}:
 * create and delete an instance, subscribe or assign, seek, read records, commit and query
 * offsets. Each instance is a {@link RestProxyConsumer}; a request holds it while it runs.
 */
final class RestProxyConsumerApi {
    static final long DEFAULT_REQUEST_TIMEOUT_MS = 1_000;
    static final long MAX_READ_TIMEOUT_MS = 30_000;
    /**
     * Key and value bytes one records response carries at most (also the default): 2 MiB, which
     * base64 and JSON make about 3 MiB of answer, so that 100 instances reading at once stay
     * within a few hundred MiB of heap.
     */
    static final long MAX_RESPONSE_BYTES = 2 << 20;
    private static final Set<String> CREATE_FIELDS = Set.of("name", "id", "format", "auto.offset.reset", "auto.commit.enable",
            "fetch.min.bytes", "consumer.request.timeout.ms");
    private static final Comparator<TopicPartition> ORDER = Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final RestProxyConsumers instances;

    RestProxyConsumerApi(RestProxyConsumers instances) {
        this.instances = instances;
    }

    Response route(HttpMethod method, List<String> path, FullHttpRequest request, Channel channel) {
        int size = path.size();
        if (size < 2 || (size > 2 && (size < 4 || !path.get(2).equals("instances")))) {
            throw RestProxy.noSuchPath(path);
        }
        String group = path.get(1);
        if (size == 2) {
            RestProxy.allow(method, HttpMethod.POST);
            checkBodyType(request);
            RestProxy.checkAcceptsV2(request);
            return create(group, request, channel);
        }
        String id = path.get(3);
        String action = size == 4 ? "" : String.join("/", path.subList(4, size));
        if (action.equals("records")) {
            RestProxy.allow(method, HttpMethod.GET);
            return records(instances.get(group, id), request);
        }
        RestProxy.checkAcceptsV2(request);
        checkBodyType(request);
        return switch (action) {
            case "" -> {
                RestProxy.allow(method, HttpMethod.DELETE);
                instances.delete(group, id);
                yield RestProxy.noContent();
            }
            case "subscription" -> subscription(method, instances.get(group, id), request);
            case "assignments" -> assignments(method, instances.get(group, id), request);
            case "positions", "positions/beginning", "positions/end" -> {
                RestProxy.allow(method, HttpMethod.POST);
                yield positions(action, instances.get(group, id), request);
            }
            case "offsets" -> offsets(method, instances.get(group, id), request);
            default -> throw RestProxy.noSuchPath(path);
        };
    }

    // ---- instances

    private Response create(String group, FullHttpRequest request, Channel channel) {
        JsonNode body = RestProxy.body(request);
        if (body != null && !body.isObject()) {
            throw invalidConfig("the body must be an object");
        }
        String name = null;
        String format = "binary";
        String reset = "latest";
        boolean autoCommit = true;
        int minBytes = -1;
        long requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
        if (body != null) {
            for (var field : body.properties()) {
                if (!CREATE_FIELDS.contains(field.getKey())) {
                    throw invalidConfig("unknown field '" + field.getKey() + "' (known: " + String.join(", ", CREATE_FIELDS.stream().sorted().toList())
                            + ")");
                }
            }
            name = text(body, "name", text(body, "id", null));
            if (name != null && name.isBlank()) {
                throw invalidConfig("name must not be empty");
            }
            format = text(body, "format", format).toLowerCase(java.util.Locale.ROOT);
            reset = text(body, "auto.offset.reset", reset).toLowerCase(java.util.Locale.ROOT);
            String commit = text(body, "auto.commit.enable", "true").toLowerCase(java.util.Locale.ROOT);
            if (!commit.equals("true") && !commit.equals("false")) {
                throw invalidConfig("auto.commit.enable must be true or false, not '" + commit + "'");
            }
            autoCommit = commit.equals("true");
            minBytes = (int) number(body, "fetch.min.bytes", -1, -1, Integer.MAX_VALUE);
            requestTimeoutMs = number(body, "consumer.request.timeout.ms", DEFAULT_REQUEST_TIMEOUT_MS, 0, MAX_READ_TIMEOUT_MS);
        }
        RestProxyConsumer.Format embedded = switch (format) {
            case "binary" -> RestProxyConsumer.Format.BINARY;
            case "json" -> RestProxyConsumer.Format.JSON;
            case "avro", "protobuf", "jsonschema" -> throw invalidConfig("format '" + format
                    + "' needs a schema registry, which Spate does not have; use json or binary");
            default -> throw invalidConfig("format must be binary or json, not '" + format + "'");
        };
        if (!Set.of("earliest", "latest", "none").contains(reset)) {
            throw invalidConfig("auto.offset.reset must be earliest, latest or none, not '" + reset + "'");
        }
        RestProxyConsumer instance = instances.create(group, name,
                new RestProxyConsumer.Settings(embedded, reset, autoCommit, minBytes, requestTimeoutMs == 0 ? DEFAULT_REQUEST_TIMEOUT_MS : requestTimeoutMs));
        String baseUri = "http://" + host(request, channel) + "/consumers/" + segment(group) + "/instances/" + segment(instance.id);
        return RestProxy.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("instance_id", instance.id);
            out.writeStringField("base_uri", baseUri);
            out.writeEndObject();
        });
    }

    /** The Host the client used (so base_uri works through whatever name it reached the node by), else the local address. */
    private static String host(FullHttpRequest request, Channel channel) {
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host != null && !host.isBlank()) {
            return host.trim();
        }
        InetSocketAddress local = (InetSocketAddress) channel.localAddress();
        String address = local.getAddress().getHostAddress();
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + local.getPort();
    }

    /** A path segment, percent-encoded. */
    private static String segment(String value) {
        return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ---- subscription and assignment

    private Response subscription(HttpMethod method, RestProxyConsumer instance, FullHttpRequest request) {
        if (method.equals(HttpMethod.GET)) {
            List<String> topics = instance.use((self, consumer) -> consumer.subscription().stream().sorted().toList());
            return RestProxy.json(HttpResponseStatus.OK, out -> {
                out.writeStartObject();
                out.writeArrayFieldStart("topics");
                for (String t : topics) {
                    out.writeString(t);
                }
                out.writeEndArray();
                out.writeEndObject();
            });
        }
        if (method.equals(HttpMethod.DELETE)) {
            kafka(instance, (self, consumer) -> {
                consumer.unsubscribe();
                self.forget(null);
                return null;
            });
            return RestProxy.noContent();
        }
        if (!method.equals(HttpMethod.POST)) {
            throw RestProxy.methodNotAllowed(method, "GET, POST, DELETE");
        }
        JsonNode body = object(request, "{\"topics\": [...]} or {\"topic_pattern\": \"...\"}");
        RestProxy.checkFields(body, "the subscription", Set.of("topics", "topic_pattern"));
        JsonNode topics = body.get("topics");
        JsonNode pattern = body.get("topic_pattern");
        boolean hasTopics = topics != null && !topics.isNull();
        boolean hasPattern = pattern != null && !pattern.isNull();
        if (hasTopics == hasPattern) {
            throw RestProxy.unprocessable("a subscription takes either topics or topic_pattern");
        }
        if (hasTopics) {
            if (!topics.isArray()) {
                throw RestProxy.unprocessable("topics must be an array of topic names");
            }
            List<String> names = new ArrayList<>();
            for (JsonNode t : topics) {
                if (!t.isTextual() || t.textValue().isEmpty()) {
                    throw RestProxy.unprocessable("topics must be an array of topic names, not " + topics);
                }
                names.add(t.textValue());
            }
            kafka(instance, (self, consumer) -> {
                consumer.subscribe(names, self.rebalanceListener());
                self.forget(null);
                return null;
            });
        } else {
            if (!pattern.isTextual()) {
                throw RestProxy.unprocessable("topic_pattern must be a regular expression");
            }
            Pattern compiled;
            try {
                compiled = Pattern.compile(pattern.textValue());
            } catch (PatternSyntaxException e) {
                throw RestProxy.unprocessable("topic_pattern is not a valid regular expression: " + e.getDescription());
            }
            kafka(instance, (self, consumer) -> {
                consumer.subscribe(compiled, self.rebalanceListener());
                self.forget(null);
                return null;
            });
        }
        return RestProxy.noContent();
    }

    private Response assignments(HttpMethod method, RestProxyConsumer instance, FullHttpRequest request) {
        if (method.equals(HttpMethod.GET)) {
            List<TopicPartition> assigned = instance.use((self, consumer) -> consumer.assignment().stream().sorted(ORDER).toList());
            return RestProxy.json(HttpResponseStatus.OK, out -> {
                out.writeStartObject();
                writePartitions(out, "partitions", assigned);
                out.writeEndObject();
            });
        }
        if (!method.equals(HttpMethod.POST)) {
            throw RestProxy.methodNotAllowed(method, "GET, POST");
        }
        List<TopicPartition> partitions = partitions(object(request, "{\"partitions\": [{\"topic\", \"partition\"}]}"));
        kafka(instance, (self, consumer) -> {
            Set<TopicPartition> dropped = new HashSet<>(consumer.assignment());
            partitions.forEach(dropped::remove);
            consumer.assign(partitions);
            self.forget(dropped);
            return null;
        });
        return RestProxy.noContent();
    }

    private Response positions(String action, RestProxyConsumer instance, FullHttpRequest request) {
        if (action.equals("positions")) {
            Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
            offsets(object(request, "{\"offsets\": [{\"topic\", \"partition\", \"offset\"}]}"), false).keySet()
                    .forEach(e -> offsets.put(e.tp, e.offset));
            kafka(instance, (self, consumer) -> {
                offsets.forEach(consumer::seek);
                self.forget(offsets.keySet());
                return null;
            });
        } else {
            List<TopicPartition> partitions = partitions(object(request, "{\"partitions\": [{\"topic\", \"partition\"}]}"));
            boolean beginning = action.endsWith("beginning");
            kafka(instance, (self, consumer) -> {
                for (TopicPartition tp : partitions) {
                    if (!consumer.assignment().contains(tp)) {
                        throw new IllegalStateException("no current assignment for partition " + tp);
                    }
                }
                if (beginning) {
                    consumer.seekToBeginning(partitions);
                } else {
                    consumer.seekToEnd(partitions);
                }
                self.forget(partitions);
                return null;
            });
        }
        return RestProxy.noContent();
    }

    // ---- records

    private Response records(RestProxyConsumer instance, FullHttpRequest request) {
        RestProxyConsumer.Format format = instance.settings.format();
        List<String> ranges = RestProxy.accepted(request);
        if (!ranges.isEmpty() && ranges.stream().noneMatch(r -> r.equals(format.mediaType()) || RestProxy.isGenericV2(r))) {
            if (ranges.stream().anyMatch(RestProxy::isV2)) {
                throw new ApiError(HttpResponseStatus.NOT_ACCEPTABLE, RestProxy.CONSUMER_FORMAT_MISMATCH, "the requested embedded format ("
                        + String.join(", ", ranges) + ") does not match this consumer instance's, " + format.name().toLowerCase(java.util.Locale.ROOT)
                        + " (" + format.mediaType() + ")");
            }
            throw new ApiError(HttpResponseStatus.NOT_ACCEPTABLE, RestProxy.NOT_ACCEPTABLE, "records of this consumer instance come as "
                    + format.mediaType() + ", which the Accept header (" + String.join(", ", ranges) + ") does not take");
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        long timeout = Params.longValue(query, "timeout", -1, Long.MIN_VALUE, Long.MAX_VALUE);
        long maxBytes = Params.longValue(query, "max_bytes", -1, Long.MIN_VALUE, Long.MAX_VALUE);
        long timeoutMs = Math.min(MAX_READ_TIMEOUT_MS, timeout > 0 ? timeout : instance.settings.requestTimeoutMs());
        long limit = maxBytes > 0 ? Math.min(maxBytes, MAX_RESPONSE_BYTES) : MAX_RESPONSE_BYTES;
        List<ConsumerRecord<byte[], byte[]>> records = kafka(instance, (self, consumer) -> self.read(timeoutMs, limit));
        byte[] body = Response.bytes(out -> {
            out.writeStartArray();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                out.writeStartObject();
                out.writeStringField("topic", r.topic());
                out.writeFieldName("key");
                embedded(out, r.key(), format);
                out.writeFieldName("value");
                embedded(out, r.value(), format);
                out.writeNumberField("partition", r.partition());
                out.writeNumberField("offset", r.offset());
                out.writeEndObject();
            }
            out.writeEndArray();
        });
        return new Response(HttpResponseStatus.OK, body, format.mediaType(), Map.of());
    }

    /**
     * A key or value in the consumer's format: binary as base64; json as the JSON value its bytes
     * hold, or (bytes that are not one JSON value, as a non-JSON producer may write) their UTF-8 text as a string.
     */
    static void embedded(JsonGenerator out, byte[] bytes, RestProxyConsumer.Format format) throws IOException {
        if (bytes == null) {
            out.writeNull();
            return;
        }
        if (format == RestProxyConsumer.Format.BINARY) {
            out.writeString(Base64.getEncoder().encodeToString(bytes));
            return;
        }
        JsonNode value = null;
        try (JsonParser in = RestProxy.MAPPER.createParser(bytes)) {
            value = RestProxy.MAPPER.readTree(in);
            if (value != null && in.nextToken() != null) {
                value = null;
            }
        } catch (IOException notJson) {
            value = null;
        }
        if (value == null || value.isMissingNode()) {
            out.writeString(RestProxy.utf8(bytes));
        } else {
            RestProxy.MAPPER.writeTree(out, value);
        }
    }

    // ---- offsets

    private Response offsets(HttpMethod method, RestProxyConsumer instance, FullHttpRequest request) {
        if (method.equals(HttpMethod.GET)) {
            JsonNode body = RestProxy.body(request);
            List<TopicPartition> asked = body == null ? null : partitions(body);
            Map<TopicPartition, OffsetAndMetadata> committed = kafka(instance, (self, consumer) -> {
                Set<TopicPartition> partitions = asked == null ? consumer.assignment() : new HashSet<>(asked);
                return partitions.isEmpty() ? Map.<TopicPartition, OffsetAndMetadata>of() : consumer.committed(partitions);
            });
            List<TopicPartition> order = asked != null ? asked : committed.keySet().stream().sorted(ORDER).toList();
            return RestProxy.json(HttpResponseStatus.OK, out -> {
                out.writeStartObject();
                out.writeArrayFieldStart("offsets");
                for (TopicPartition tp : order) {
                    OffsetAndMetadata offset = committed.get(tp);
                    if (offset != null) {
                        out.writeStartObject();
                        out.writeStringField("topic", tp.topic());
                        out.writeNumberField("partition", tp.partition());
                        out.writeNumberField("offset", offset.offset());
                        out.writeStringField("metadata", offset.metadata());
                        out.writeEndObject();
                    }
                }
                out.writeEndArray();
                out.writeEndObject();
            });
        }
        if (!method.equals(HttpMethod.POST)) {
            throw RestProxy.methodNotAllowed(method, "GET, POST");
        }
        JsonNode body = RestProxy.body(request);
        if (body == null || (body.isObject() && (body.get("offsets") == null || body.get("offsets").isNull()))) {
            // No offsets given: what this instance has handed out so far.
            kafka(instance, (self, consumer) -> self.commitConsumed(null, true));
        } else {
            if (!body.isObject()) {
                throw RestProxy.unprocessable("the body must be {\"offsets\": [{\"topic\", \"partition\", \"offset\"}]}, or empty");
            }
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            // As with Confluent's proxy, an offset given is the last record processed: the commit is the one after it.
            offsets(body, true).forEach((e, metadata) -> commit.put(e.tp, new OffsetAndMetadata(e.offset + 1, metadata)));
            kafka(instance, (self, consumer) -> {
                consumer.commitSync(commit);
                return null;
            });
        }
        return new Response(HttpResponseStatus.OK, "[]".getBytes(java.nio.charset.StandardCharsets.UTF_8), RestProxy.V2, Map.of());
    }

    // ---- request bodies

    private record PartitionOffset(TopicPartition tp, long offset) {
    }

    private static JsonNode object(FullHttpRequest request, String shape) {
        JsonNode body = RestProxy.body(request);
        if (body == null || !body.isObject()) {
            throw RestProxy.unprocessable("the body must be " + shape);
        }
        return body;
    }

    /** {@code {"partitions": [{"topic", "partition"}]}}. */
    private static List<TopicPartition> partitions(JsonNode body) {
        RestProxy.checkFields(body, "the request", Set.of("partitions"));
        JsonNode list = body.get("partitions");
        if (list == null || !list.isArray()) {
            throw RestProxy.unprocessable("partitions must be an array of {\"topic\", \"partition\"}");
        }
        List<TopicPartition> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode p = list.get(i);
            String where = "partitions[" + i + "]";
            if (!p.isObject()) {
                throw RestProxy.unprocessable(where + " must be {\"topic\", \"partition\"}");
            }
            RestProxy.checkFields(p, where, Set.of("topic", "partition"));
            out.add(topicPartition(p, where));
        }
        return out;
    }

    /** {@code {"offsets": [{"topic", "partition", "offset"[, "metadata"]}]}}, in request order, each with its metadata (or ""). */
    private static Map<PartitionOffset, String> offsets(JsonNode body, boolean metadata) {
        RestProxy.checkFields(body, "the request", Set.of("offsets"));
        JsonNode list = body.get("offsets");
        if (list == null || !list.isArray()) {
            throw RestProxy.unprocessable("offsets must be an array of {\"topic\", \"partition\", \"offset\"}");
        }
        Map<PartitionOffset, String> out = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode o = list.get(i);
            String where = "offsets[" + i + "]";
            if (!o.isObject()) {
                throw RestProxy.unprocessable(where + " must be {\"topic\", \"partition\", \"offset\"}");
            }
            RestProxy.checkFields(o, where, metadata ? Set.of("topic", "partition", "offset", "metadata") : Set.of("topic", "partition", "offset"));
            JsonNode offset = o.get("offset");
            // A commit is of the offset after the one given: the largest long has none.
            if (offset == null || !offset.isIntegralNumber() || !offset.canConvertToLong() || offset.longValue() < 0
                    || metadata && offset.longValue() == Long.MAX_VALUE) {
                throw RestProxy.unprocessable(where + ".offset must be a non-negative integer" + (metadata ? " below " + Long.MAX_VALUE : ""));
            }
            JsonNode meta = o.get("metadata");
            if (meta != null && !meta.isNull() && !meta.isTextual()) {
                throw RestProxy.unprocessable(where + ".metadata must be a string");
            }
            out.put(new PartitionOffset(topicPartition(o, where), offset.longValue()), meta == null || meta.isNull() ? "" : meta.textValue());
        }
        return out;
    }

    private static TopicPartition topicPartition(JsonNode o, String where) {
        JsonNode topic = o.get("topic");
        JsonNode partition = o.get("partition");
        if (topic == null || !topic.isTextual() || topic.textValue().isEmpty()) {
            throw RestProxy.unprocessable(where + ".topic must be a topic name");
        }
        if (partition == null || !partition.isIntegralNumber() || !partition.canConvertToInt() || partition.intValue() < 0) {
            throw RestProxy.unprocessable(where + ".partition must be a non-negative integer");
        }
        return new TopicPartition(topic.textValue(), partition.intValue());
    }

    private static String text(JsonNode body, String field, String orElse) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return orElse;
        }
        if (!value.isValueNode() || value.isBinary()) {
            throw invalidConfig(field + " must be a string");
        }
        return value.asText();
    }

    /** A number given as a JSON number or a string of one (Confluent's clients send strings). */
    private static long number(JsonNode body, String field, long orElse, long min, long max) {
        String text = text(body, field, null);
        if (text == null) {
            return orElse;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value < min || value > max) {
                throw invalidConfig(field + " must be between " + min + " and " + max + ", not " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw invalidConfig(field + " must be an integer, not '" + text + "'");
        }
    }

    private static ApiError invalidConfig(String message) {
        return new ApiError(HttpResponseStatus.UNPROCESSABLE_ENTITY, RestProxy.INVALID_CONSUMER_CONFIG, "invalid consumer configuration: " + message);
    }

    /** A body, if any, must be JSON in one of the v2 types (or plain JSON). */
    private static void checkBodyType(FullHttpRequest request) {
        String type = RestProxy.mediaType(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
        if (type.isEmpty() || type.equals("application/json") || RestProxy.isGenericV2(type) || RestProxy.isV2(type)) {
            return;
        }
        if (request.content().readableBytes() == 0) {
            return;
        }
        throw new ApiError(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, RestProxy.UNSUPPORTED_MEDIA_TYPE, "the consumer endpoints take "
                + RestProxy.V2 + ", not " + type);
    }

    /**
     * Runs {@code step} on the instance, Kafka's refusals answered as Confluent's proxy answers
     * them: a state the consumer refuses (seek on a partition not assigned, subscribe while
     * assigned) 409 40903, a Kafka error 500 50002 (50003 when retriable).
     */
    private static <T> T kafka(RestProxyConsumer instance, RestProxyConsumer.Step<T> step) {
        try {
            return instance.use(step);
        } catch (IllegalStateException e) {
            throw new ApiError(HttpResponseStatus.CONFLICT, RestProxy.ILLEGAL_STATE, "illegal state: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw RestProxy.unprocessable(e.getMessage());
        } catch (RetriableException e) {
            throw new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, RestProxy.KAFKA_RETRIABLE_ERROR, e.getClass().getSimpleName() + ": "
                    + e.getMessage());
        } catch (KafkaException e) {
            throw new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, RestProxy.KAFKA_ERROR, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static void writePartitions(JsonGenerator out, String field, List<TopicPartition> partitions) throws IOException {
        out.writeArrayFieldStart(field);
        for (TopicPartition tp : partitions) {
            out.writeStartObject();
            out.writeStringField("topic", tp.topic());
            out.writeNumberField("partition", tp.partition());
            out.writeEndObject();
        }
        out.writeEndArray();
    }
}
