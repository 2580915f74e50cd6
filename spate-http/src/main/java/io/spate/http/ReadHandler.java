package io.spate.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.spate.log.FileSlice;
import io.spate.log.LogError;
import io.spate.log.LogReadResult;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /topics/{topic}/partitions/{p}/records?offset=&max=&format=}: up to {@code max}
 * records from {@code offset} (default: the log start), below the high watermark. Read from this
 * node's replica in place when it holds one, else through a consumer of its own.
 */
final class ReadHandler {
    static final int DEFAULT_MAX_RECORDS = 100;
    static final int MAX_RECORDS = 1_000;
    private static final int READ_CHUNK_BYTES = 1 << 20;
    /** About this many key and value bytes per answer unless ?max_bytes= says otherwise (one record at least). */
    static final long DEFAULT_MAX_BYTES = 1 << 20;
    static final long MAX_BYTES = 16 << 20;
    private static final Duration CONSUMER_READ_TIMEOUT = Duration.ofSeconds(5);

    private final NodePartitions node;
    private final KafkaClients clients;

    ReadHandler(NodePartitions node, KafkaClients clients) {
        this.node = node;
        this.clients = clients;
    }

    Response read(String topic, String partitionText, QueryStringDecoder query) {
        int partitions = node.partitionCount(topic);
        if (partitions < 0) {
            throw ApiError.topicNotFound(topic);
        }
        int partition = partition(partitionText, partitions, topic);
        Long offset = query.parameters().containsKey("offset") ? Params.longValue(query, "offset", 0, 0, Long.MAX_VALUE) : null;
        int max = (int) Params.longValue(query, "max", DEFAULT_MAX_RECORDS, 1, MAX_RECORDS);
        long maxBytes = Params.longValue(query, "max_bytes", DEFAULT_MAX_BYTES, 1, MAX_BYTES);
        RecordJson.Format format = RecordJson.Format.of(Params.string(query, "format", "text"));
        TopicPartition tp = new TopicPartition(topic, partition);
        Partition local = node.localReplica(tp);
        List<RecordJson.OutgoingRecord> records = local != null ? readLocal(local, offset, max, maxBytes)
                : readThroughConsumer(tp, offset, max, maxBytes);
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartArray();
            for (RecordJson.OutgoingRecord r : records) {
                RecordJson.write(out, r, format);
            }
            out.writeEndArray();
        });
    }

    static int partition(String text, int partitions, String topic) {
        int partition;
        try {
            partition = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(ApiError.BAD_PARTITION, "partition must be a number, not '" + text + "'");
        }
        if (partition < 0 || partition >= partitions) {
            throw ApiError.badRequest(ApiError.BAD_PARTITION, "partition " + partition + " does not exist (topic '" + topic + "' has "
                    + partitions + ")");
        }
        return partition;
    }

    private static List<RecordJson.OutgoingRecord> readLocal(Partition local, Long requested, int max, long maxBytes) {
        long start = local.log().logStartOffset();
        long end = local.readLimit(ReadBound.HIGH_WATERMARK);
        long cursor = requested == null ? start : requested;
        checkRange(cursor, start, end);
        List<RecordJson.OutgoingRecord> out = new ArrayList<>();
        long[] bytes = {0};
        while (out.size() < max && cursor < end && bytes[0] < maxBytes) {
            LogReadResult read = local.read(cursor, READ_CHUNK_BYTES, ReadBound.HIGH_WATERMARK, true);
            if (read.error() != LogError.NONE) {
                if (out.isEmpty()) {
                    throw ApiError.badRequest(ApiError.OFFSET_OUT_OF_RANGE, "cannot read from offset " + cursor + ": " + read.error());
                }
                break;
            }
            long before = cursor;
            cursor = decode(heapCopy(read.slice()), cursor, max, maxBytes, bytes, local.topicPartition().partition(), out);
            if (cursor == before) {
                break;
            }
        }
        return out;
    }

    private static ByteBuffer heapCopy(FileSlice slice) {
        try {
            return slice.readIntoHeap();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            slice.release();
        }
    }

    /** Adds the data records at or after {@code cursor} to {@code out} (up to {@code max}); returns the next offset to read. */
    static long decode(ByteBuffer batches, long cursor, int max, int partition, List<RecordJson.OutgoingRecord> out) {
        return decode(batches, cursor, max, Long.MAX_VALUE, new long[1], partition, out);
    }

    /** As above, stopping once the key and value bytes taken ({@code bytes[0]}, kept up to date) reach {@code maxBytes}. */
    static long decode(ByteBuffer batches, long cursor, int max, long maxBytes, long[] bytes, int partition,
                       List<RecordJson.OutgoingRecord> out) {
        long next = cursor;
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(batches).batches()) {
            if (!batch.isControlBatch()) {
                for (Record r : batch) {
                    if (r.offset() < next) {
                        continue;
                    }
                    if (out.size() >= max || bytes[0] >= maxBytes) {
                        return next;
                    }
                    RecordJson.OutgoingRecord record = new RecordJson.OutgoingRecord(partition, r.offset(), r.timestamp(), bytes(r.key()),
                            bytes(r.value()), headers(r.headers()));
                    out.add(record);
                    bytes[0] += size(record);
                    next = r.offset() + 1;
                }
            }
            next = Math.max(next, batch.nextOffset());
        }
        return next;
    }

    private static long size(RecordJson.OutgoingRecord r) {
        return (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
    }

    private List<RecordJson.OutgoingRecord> readThroughConsumer(TopicPartition tp, Long requested, int max, long maxBytes) {
        var kafkaTp = new org.apache.kafka.common.TopicPartition(tp.topic(), tp.partition());
        try (KafkaConsumer<byte[], byte[]> consumer = clients.consumer(max)) {
            long start = consumer.beginningOffsets(List.of(kafkaTp), CONSUMER_READ_TIMEOUT).get(kafkaTp);
            long end = consumer.endOffsets(List.of(kafkaTp), CONSUMER_READ_TIMEOUT).get(kafkaTp);
            long cursor = requested == null ? start : requested;
            checkRange(cursor, start, end);
            consumer.assign(List.of(kafkaTp));
            consumer.seek(kafkaTp, cursor);
            List<RecordJson.OutgoingRecord> out = new ArrayList<>();
            long deadlineNs = System.nanoTime() + CONSUMER_READ_TIMEOUT.toNanos();
            long bytes = 0;
            while (out.size() < max && bytes < maxBytes && consumer.position(kafkaTp) < end && System.nanoTime() < deadlineNs) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (out.size() < max && bytes < maxBytes) {
                        RecordJson.OutgoingRecord record = of(r);
                        out.add(record);
                        bytes += size(record);
                    }
                }
            }
            return out;
        }
    }

    static RecordJson.OutgoingRecord of(ConsumerRecord<byte[], byte[]> r) {
        List<Map.Entry<String, byte[]>> headers = new ArrayList<>();
        for (Header h : r.headers()) {
            headers.add(new java.util.AbstractMap.SimpleImmutableEntry<>(h.key(), h.value()));
        }
        return new RecordJson.OutgoingRecord(r.partition(), r.offset(), r.timestamp(), r.key(), r.value(), headers);
    }

    private static void checkRange(long offset, long start, long end) {
        if (offset < start || offset > end) {
            throw ApiError.badRequest(ApiError.OFFSET_OUT_OF_RANGE, "offset " + offset + " is out of range: the partition holds offsets "
                    + start + " to " + end + " (exclusive)");
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static List<Map.Entry<String, byte[]>> headers(Header[] headers) {
        List<Map.Entry<String, byte[]>> out = new ArrayList<>(headers.length);
        for (Header h : headers) {
            out.add(new java.util.AbstractMap.SimpleImmutableEntry<>(h.key(), h.value()));
        }
        return out;
    }
}
