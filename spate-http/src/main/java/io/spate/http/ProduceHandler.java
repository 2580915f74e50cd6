package io.spate.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.spate.replication.Acks;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code POST /topics/{topic}/records}: the request's records, parsed in one of the three body
 * forms, written by the {@link RecordWriter} every HTTP produce shares. The answer lists partition
 * and offset per record in request order, or the partition's error.
 */
final class ProduceHandler {
    static final long DEFAULT_TIMEOUT_MS = 30_000;
    static final long MAX_TIMEOUT_MS = 300_000;

    private final NodePartitions node;
    private final RecordWriter writer;

    ProduceHandler(NodePartitions node, RecordWriter writer) {
        this.node = node;
        this.writer = writer;
    }

    Response produce(String topic, FullHttpRequest request, QueryStringDecoder query) {
        int partitions = node.partitionCount(topic);
        if (partitions < 0) {
            throw ApiError.topicNotFound(topic);
        }
        Acks acks = acks(Params.string(query, "acks", "all"));
        long timeoutMs = Params.longValue(query, "timeout_ms", DEFAULT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
        String rawKey = Params.string(query, "key", null);
        Integer rawPartition = query.parameters().containsKey("partition")
                ? (int) Params.longValue(query, "partition", 0, 0, Integer.MAX_VALUE) : null;
        byte[] body = new byte[request.content().readableBytes()];
        request.content().getBytes(request.content().readerIndex(), body);
        List<IncomingRecord> records = RecordParser.parse(request.headers().get(HttpHeaderNames.CONTENT_TYPE), body,
                rawKey == null ? null : rawKey.getBytes(StandardCharsets.UTF_8), rawPartition);
        if (records.isEmpty()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "no records in the request");
        }
        for (int i = 0; i < records.size(); i++) {
            Integer p = records.get(i).partition();
            if (p != null && p >= partitions) {
                throw ApiError.badRequest(ApiError.BAD_PARTITION, (records.size() == 1 ? "the record" : "element " + i)
                        + ": partition " + p + " does not exist (topic '" + topic + "' has " + partitions + ")");
            }
        }
        return answer(writer.write(topic, partitions, records, acks, timeoutMs));
    }

    /** 200 when every record was written, 207 when some were, 500 when none was. */
    private static Response answer(RecordWriter.Result[] results) {
        long failures = java.util.Arrays.stream(results).filter(r -> r.failure() != null).count();
        HttpResponseStatus status = failures == 0 ? HttpResponseStatus.OK
                : failures < results.length ? HttpResponseStatus.MULTI_STATUS : HttpResponseStatus.INTERNAL_SERVER_ERROR;
        return Response.json(status, out -> {
            out.writeStartObject();
            out.writeArrayFieldStart("offsets");
            for (RecordWriter.Result r : results) {
                out.writeStartObject();
                out.writeNumberField("partition", r.partition());
                if (r.failure() == null) {
                    out.writeNumberField("offset", r.offset());
                } else {
                    out.writeNumberField("error_code", r.failure().errorCode());
                    out.writeStringField("error", r.failure().errorName() + ": " + r.failure().message());
                }
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private static Acks acks(String value) {
        return switch (value) {
            case "0" -> Acks.NONE;
            case "1" -> Acks.LEADER;
            case "all", "-1" -> Acks.ALL;
            default -> throw ApiError.badRequest(ApiError.BAD_PARAMETER, "acks must be 0, 1 or all, not '" + value + "'");
        };
    }
}
