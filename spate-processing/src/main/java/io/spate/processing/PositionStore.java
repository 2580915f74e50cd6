package io.spate.processing;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A pipeline's input positions, kept as the committed offsets of its consumer group
 * ({@link PipelineNames#group}), so that `spate groups`, kafka-consumer-groups.sh and lag
 * monitors see a pipeline as they see any consumer. At-least-once tasks commit here; exactly-once
 * tasks commit through their transaction and only read here (stable offsets only).
 */
final class PositionStore implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    /**
     * Runs the commits tasks hand over ({@link #commitAsync}), one at a time in the order handed
     * over: an at-least-once task goes on with its next micro-batch instead of waiting for the
     * group coordinator (a round trip and a replicated append of the offsets topic) every interval.
     */
    private final java.util.concurrent.ExecutorService committer;

    PositionStore(String bootstrap, String pipeline, boolean requireStable) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, PipelineNames.group(pipeline));
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "spate-pipeline-positions-" + pipeline);
        // A missing topic must stay missing: auto-created, it would get the defaults (one replica, not compacted).
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // read_committed makes committed() ask for stable offsets (KIP-447): a task that takes
        // over waits for its predecessor's transaction to end instead of reading a stale position.
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, requireStable ? "read_committed" : "read_uncommitted");
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        committer = java.util.concurrent.Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("spate-positions-" + pipeline).daemon().factory());
    }

    /** The committed positions of {@code partitions}, with their metadata (absent: none committed). One caller at a time. */
    Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions) {
        return committed(partitions, Duration.ofSeconds(30));
    }

    /** As {@link #committed(Set)}, failing with a timeout after {@code timeout}. */
    synchronized Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions, Duration timeout) {
        Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
        consumer.committed(partitions, timeout).forEach((tp, offset) -> {
            if (offset != null) {
                positions.put(tp, offset);
            }
        });
        return positions;
    }

    /** How long a commit may wait for the group coordinator before it fails. */
    static final long COMMIT_TIMEOUT_MS = 30_000;

    synchronized void commit(Map<TopicPartition, OffsetAndMetadata> positions) {
        consumer.commitSync(positions, Duration.ofMillis(COMMIT_TIMEOUT_MS));
    }

    /**
     * Commits {@code positions} on the store's own thread, after every commit handed over before
     * it; the future fails as {@link #commit} would have thrown. A caller keeps at most one in
     * flight, so a slow coordinator holds back that caller's next commit, not its processing.
     */
    java.util.concurrent.CompletableFuture<Void> commitAsync(Map<TopicPartition, OffsetAndMetadata> positions) {
        try {
            return java.util.concurrent.CompletableFuture.runAsync(() -> commit(positions), committer);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("the pipeline's position store is closed", e));
        }
    }

    /** A task's stream time rides in its positions' metadata, as Kafka Streams keeps it: "st=MILLIS". */
    static String streamTimeMetadata(long streamTimeMs) {
        return streamTimeMs == Long.MIN_VALUE ? "" : "st=" + streamTimeMs;
    }

    /** As {@link #streamTimeMetadata}, followed by where the task's exactly-once positions are anchored in its output. */
    static String metadata(long streamTimeMs, AnchoredOutput.Anchor anchor) {
        String streamTime = streamTimeMetadata(streamTimeMs);
        return anchor == null ? streamTime : streamTime.isEmpty() ? anchor.metadata() : streamTime + ";" + anchor.metadata();
    }

    static long streamTimeOf(OffsetAndMetadata committed) {
        String metadata = committed == null ? null : committed.metadata();
        if (metadata == null || !metadata.startsWith("st=")) {
            return Long.MIN_VALUE;
        }
        int end = metadata.indexOf(';');
        try {
            return Long.parseLong(metadata.substring(3, end < 0 ? metadata.length() : end));
        } catch (NumberFormatException e) {
            return Long.MIN_VALUE;
        }
    }

    @Override
    public void close() {
        committer.shutdown();
        try {
            // a commit under way finishes (or times out) first: the consumer is not closed under it
            committer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeConsumer();
    }

    private synchronized void closeConsumer() {
        consumer.close(Duration.ofSeconds(1));
    }
}
