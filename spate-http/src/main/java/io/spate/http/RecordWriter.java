package io.spate.http;

import io.spate.log.TopicPartition;
import io.spate.replication.Acks;
import io.spate.replication.LeaderProduce;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.utils.Utils;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The write path every HTTP produce shares (the native {@code POST /topics/{t}/records} and the
 * REST Proxy v2 {@code POST /topics/{t}[/partitions/{p}]}): records are given their partition as
 * Kafka's producer would, grouped by partition in request order, and each group is written in one
 * append, all of it or none of it: through {@link Partition#append} when this node leads the
 * partition, as one Produce request to its leader otherwise ({@link LeaderForwarder}). Callers
 * check the partitions records name before calling.
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
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        Partition local = node.localReplica(tp);
        if (local == null || !local.isLeader()) {
            return CompletableFuture.supplyAsync(() -> writeWhereLed(tp, records, acks, deadlineNs), executor);
        }
        return appendHere(local, tp, records, acks, timeoutMs).thenComposeAsync(appended -> appended != null
                ? CompletableFuture.completedFuture(appended)
                : CompletableFuture.completedFuture(writeWhereLed(tp, records, acks, deadlineNs)), executor);
    }

    /**
     * Appends the records to {@code local}, the partition's leader here, in one write. Null when
     * leadership moved before anything was appended: the caller sends them where it went.
     */
    private CompletableFuture<List<Result>> appendHere(Partition local, TopicPartition tp, List<IncomingRecord> records, Acks acks, long timeoutMs) {
        long nowMs = System.currentTimeMillis();
        CompletableFuture<Written> appended;
        try {
            int batchLimit = Math.min(MAX_BATCH_BYTES, local.log().config().maxMessageBytes());
            appended = local.append(batches(records, nowMs, batchLimit), acks, timeoutMs, nowMs);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(tp.partition(), WriteFailure.of(e), records.size()));
        }
        return appended.thenApply(written -> {
            if (written.ok()) {
                return offsets(tp.partition(), written.baseOffset(), records.size());
            }
            if (WriteFailure.isNotLeader(written) && written.logStartOffset() < 0) {
                // Nothing was appended. (Appended, then not replicated before leadership moved: the
                // records may live on at the new leader, so sending them again could write them twice;
                // that one is answered as failed.)
                return null;
            }
            return failed(tp.partition(), WriteFailure.of(written), records.size());
        });
    }

    /**
     * Blocking, on a virtual thread: the records to wherever {@code tp} is led, here or on another
     * node, in one write either way. A leader not known yet, gone, or no longer leading (and so
     * having written nothing) is looked up again until the deadline, as a Kafka producer retries.
     */
    private List<Result> writeWhereLed(TopicPartition tp, List<IncomingRecord> records, Acks acks, long deadlineNs) {
        long backoffMs = 5;
        while (true) {
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
            WriteFailure notYet;
            Partition local = node.localReplica(tp);
            NodePartitions.Placement placement = node.placement(tp.topic(), tp.partition());
            int leader = placement == null ? -1 : placement.leader();
            if (local != null && local.isLeader()) {
                List<Result> appended = appendHere(local, tp, records, acks, Math.max(1, remainingMs)).join();
                if (appended != null) {
                    return appended;
                }
                notYet = new WriteFailure(6, "NOT_LEADER_OR_FOLLOWER", "leadership of " + tp + " moved while the records were sent");
            } else if (leader < 0) {
                notYet = new WriteFailure(5, "LEADER_NOT_AVAILABLE", tp + " has no leader now");
            } else {
                InetSocketAddress address = node.kafkaAddress(leader);
                if (address == null) {
                    notYet = new WriteFailure(5, "LEADER_NOT_AVAILABLE", tp + "'s leader, node " + leader + ", is not live");
                } else {
                    int batchLimit = Math.min(MAX_BATCH_BYTES, node.maxMessageBytes(tp.topic()));
                    LeaderForwarder.Answer answer = clients.forwarder().send(leader, address, tp,
                            batches(records, System.currentTimeMillis(), batchLimit), acks, (int) Math.max(1, Math.min(Integer.MAX_VALUE, remainingMs)));
                    if (answer.ok()) {
                        return offsets(tp.partition(), answer.answer().baseOffset(), records.size());
                    }
                    LeaderProduce.Answer refused = answer.answer();
                    WriteFailure failure = refused != null ? new WriteFailure(refused.errorCode(), refused.errorName(), refused.message())
                            : new WriteFailure(13, "NETWORK_EXCEPTION", answer.failure());
                    if (answer.delivered() && (refused == null || !refused.nothingWritten())) {
                        return failed(tp.partition(), failure, records.size());
                    }
                    notYet = failure;
                }
            }
            remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
            if (remainingMs <= backoffMs) {
                return failed(tp.partition(), notYet, records.size());
            }
            try {
                // The metadata this node learns next (a new leader, a node back) is what a retry needs.
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failed(tp.partition(), WriteFailure.of(e), records.size());
            }
            backoffMs = Math.min(backoffMs * 2, 200);
        }
    }

    private static List<Result> offsets(int partition, long baseOffset, int count) {
        List<Result> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new Result(partition, baseOffset < 0 ? -1 : baseOffset + i, null));
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
}
