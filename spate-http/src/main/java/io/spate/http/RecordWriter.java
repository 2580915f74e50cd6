package io.spate.http;

import io.spate.log.TopicPartition;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.utils.Utils;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write path every HTTP produce shares (the native {@code POST /topics/{t}/records} and the
 * REST Proxy v2 {@code POST /topics/{t}[/partitions/{p}]}): records are given their partition as
 * Kafka's producer would, grouped by partition in request order; a partition this node leads gets
 * its group through {@link Partition#append} (all of it or none of it), one led elsewhere through
 * the internal producer. Callers check the partitions records name before calling.
 */
final class RecordWriter {
    /** Batches for a partition led here are at most this large (or the topic's max.message.bytes, if smaller). */
    static final int MAX_BATCH_BYTES = 1 << 20;

    private final NodePartitions node;
    private final KafkaClients clients;
    private final Executor executor;
    /** Where keyless records without a partition go next: one partition per request, in turn. */
    private final AtomicInteger roundRobin = new AtomicInteger();

    RecordWriter(NodePartitions node, KafkaClients clients, Executor executor) {
        this.node = node;
        this.clients = clients;
        this.executor = executor;
    }

    /** One record's outcome: its offset (-1 when unknown, as with acks=0 through the producer) or why it failed. */
    record Result(int partition, long offset, WriteFailure failure) {
    }

    /**
     * Writes {@code records} to {@code topic} (of {@code partitions} partitions; every partition a
     * record names must exist) and waits for them: the outcome of each, in request order.
     */
    Result[] write(String topic, int partitions, List<IncomingRecord> records, Acks acks, long timeoutMs) {
        int[] partitionOf = assign(records, partitions);
        Map<Integer, List<Integer>> byPartition = new TreeMap<>();
        for (int i = 0; i < records.size(); i++) {
            byPartition.computeIfAbsent(partitionOf[i], p -> new ArrayList<>()).add(i);
        }
        Result[] results = new Result[records.size()];
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (var group : byPartition.entrySet()) {
            List<IncomingRecord> batch = group.getValue().stream().map(records::get).toList();
            writes.add(write(new TopicPartition(topic, group.getKey()), batch, acks, timeoutMs).thenAccept(outcome -> {
                for (int j = 0; j < outcome.size(); j++) {
                    results[group.getValue().get(j)] = outcome.get(j);
                }
            }));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        return results;
    }

    private int[] assign(List<IncomingRecord> records, int partitions) {
        int[] partitionOf = new int[records.size()];
        int keyless = -1;
        for (int i = 0; i < records.size(); i++) {
            IncomingRecord r = records.get(i);
            if (r.partition() != null) {
                if (r.partition() < 0 || r.partition() >= partitions) {
                    throw new IllegalArgumentException("partition " + r.partition() + " does not exist (" + partitions + " partitions)");
                }
                partitionOf[i] = r.partition();
            } else if (r.key() != null) {
                partitionOf[i] = partitionForKey(r.key(), partitions);
            } else {
                if (keyless < 0) {
                    keyless = Utils.toPositive(roundRobin.getAndIncrement()) % partitions;
                }
                partitionOf[i] = keyless;
            }
        }
        return partitionOf;
    }

    /** Kafka's default partitioner for a keyed record (BuiltInPartitioner.partitionForKey). */
    static int partitionForKey(byte[] key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    private CompletableFuture<List<Result>> write(TopicPartition tp, List<IncomingRecord> records, Acks acks, long timeoutMs) {
        Partition local = node.localReplica(tp);
        if (local == null || !local.isLeader()) {
            return CompletableFuture.supplyAsync(() -> sendThroughProducer(tp, records, acks, timeoutMs), executor);
        }
        long nowMs = System.currentTimeMillis();
        CompletableFuture<Written> appended;
        try {
            int batchLimit = Math.min(MAX_BATCH_BYTES, local.log().config().maxMessageBytes());
            appended = local.append(batches(records, nowMs, batchLimit), acks, timeoutMs, nowMs);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(tp.partition(), WriteFailure.of(e), records.size()));
        }
        return appended.thenComposeAsync(written -> {
            if (written.ok()) {
                return CompletableFuture.completedFuture(offsets(tp.partition(), written, records.size()));
            }
            if (WriteFailure.isNotLeader(written) && written.logStartOffset() < 0) {
                // Nothing was appended: leadership moved since the check; the producer finds the new leader.
                // (Appended, then not replicated before leadership moved: the records may live on at the
                // new leader, so sending them again could write them twice; that one is answered as failed.)
                return CompletableFuture.completedFuture(sendThroughProducer(tp, records, acks, timeoutMs));
            }
            return CompletableFuture.completedFuture(failed(tp.partition(), WriteFailure.of(written), records.size()));
        }, executor);
    }

    private static List<Result> offsets(int partition, Written written, int count) {
        List<Result> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new Result(partition, written.baseOffset() < 0 ? -1 : written.baseOffset() + i, null));
        }
        return out;
    }

    private static List<Result> failed(int partition, WriteFailure failure, int count) {
        List<Result> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new Result(partition, -1, failure));
        }
        return out;
    }

    /**
     * As many batches as the topic's {@code max.message.bytes} ({@code batchLimit}) needs, one after
     * the other in one buffer, appended in one write: all or none, with consecutive offsets. A
     * record too large for any batch gets one of its own, which the log refuses with its reason.
     */
    static ByteBuffer batches(List<IncomingRecord> records, long nowMs, int batchLimit) {
        List<ByteBuffer> built = new ArrayList<>();
        MemoryRecordsBuilder builder = null;
        int total = 0;
        for (IncomingRecord r : records) {
            // 16 more than the estimate: a record's varint framing at worst.
            if (builder != null && builder.estimatedSizeInBytes() + r.estimatedBytes() + 16 > batchLimit) {
                ByteBuffer batch = builder.build().buffer();
                built.add(batch);
                total += batch.remaining();
                builder = null;
            }
            if (builder == null) {
                builder = MemoryRecords.builder(ByteBuffer.allocate(Math.min(batchLimit, 64 + r.estimatedBytes() * 4)), Compression.NONE,
                        TimestampType.CREATE_TIME, 0L);
            }
            builder.append(nowMs, r.key(), r.value(), r.headers().toArray(Header[]::new));
        }
        if (builder != null) {
            ByteBuffer batch = builder.build().buffer();
            built.add(batch);
            total += batch.remaining();
        }
        if (built.size() == 1) {
            return built.getFirst();
        }
        ByteBuffer all = ByteBuffer.allocate(total);
        built.forEach(all::put);
        return all.flip();
    }

    /** One batch, offsets from 0 (the log assigns them), create time now, no producer id. */
    static ByteBuffer batch(List<IncomingRecord> records, long nowMs) {
        int estimate = 61 + records.stream().mapToInt(IncomingRecord::estimatedBytes).sum();
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(estimate), Compression.NONE, TimestampType.CREATE_TIME, 0L);
        for (IncomingRecord r : records) {
            builder.append(nowMs, r.key(), r.value(), r.headers().toArray(Header[]::new));
        }
        return builder.build().buffer();
    }

    /** Blocking, off the event loop: the records through the internal producer, waited for up to {@code timeoutMs}. */
    private List<Result> sendThroughProducer(TopicPartition tp, List<IncomingRecord> records, Acks acks, long timeoutMs) {
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = clients.producer(acks);
        } catch (RuntimeException e) {
            return failed(tp.partition(), WriteFailure.of(e), records.size());
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
        List<Result> out = new ArrayList<>(records.size());
        for (IncomingRecord r : records) {
            try {
                sent.add(producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, r.key(), r.value(), r.headers())));
            } catch (RuntimeException e) {
                sent.add(CompletableFuture.failedFuture(e));
            }
        }
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Future<RecordMetadata> f : sent) {
            try {
                RecordMetadata metadata = f.get(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS);
                out.add(new Result(tp.partition(), metadata.hasOffset() ? metadata.offset() : -1, null));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.add(new Result(tp.partition(), -1, WriteFailure.of(e)));
            } catch (Exception e) {
                out.add(new Result(tp.partition(), -1, WriteFailure.of(e)));
            }
        }
        return out;
    }
}
