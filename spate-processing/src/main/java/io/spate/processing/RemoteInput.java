package io.spate.processing;

import io.spate.stream.engine.InputRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * An input partition this node holds no replica of (it was placed elsewhere, or its leadership
 * and the task's anchor went separate ways after a failover): read over the network with the
 * Kafka consumer, as any client would. Correct, but it costs the hop that co-location saves.
 */
final class RemoteInput implements TaskInput {
    private final TopicPartition topicPartition;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private long seekedTo = -1;
    /** The last poll found the position past the partition's end: nothing to read there yet. */
    private long pastEndAt = -1;

    RemoteInput(TopicPartition topicPartition, String bootstrap, boolean readCommitted, int maxBytes) {
        this.topicPartition = topicPartition;
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "spate-task-input-" + topicPartition);
        // A missing topic must stay missing: auto-created, it would get the defaults (one replica, not compacted).
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        // Out of range is the task's to judge: below the log start it goes on from there, past the end it waits.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Math.max(maxBytes, 1 << 16));
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.assign(List.of(topicPartition));
    }

    @Override
    public TopicPartition topicPartition() {
        return topicPartition;
    }

    @Override
    public long poll(long position, int maxRecords, int maxBytes, List<InputRecord> into) throws PositionOutOfRangeException {
        if (seekedTo != position) {
            consumer.seek(topicPartition, position);
        }
        long next = position;
        int taken = 0;
        List<ConsumerRecord<byte[], byte[]>> polled;
        try {
            polled = consumer.poll(Duration.ofMillis(5)).records(topicPartition);
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
            seekedTo = -1;
            long start = earliest();
            long end = consumer.endOffsets(List.of(topicPartition)).getOrDefault(topicPartition, 0L);
            if (position < start) {
                throw new PositionOutOfRangeException(topicPartition, position, start, end);
            }
            pastEndAt = position;
            return position;
        }
        pastEndAt = -1;
        for (ConsumerRecord<byte[], byte[]> r : polled) {
            if (r.offset() < position) {
                continue;
            }
            if (taken >= maxRecords) {
                break;
            }
            into.add(new InputRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(),
                    r.timestampType() == org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME));
            next = r.offset() + 1;
            taken++;
        }
        // Past skipped markers and aborted records too, as the consumer's own position is.
        long consumerPosition = consumer.position(topicPartition);
        if (taken < maxRecords || consumerPosition == next) {
            next = Math.max(next, consumerPosition);
        }
        seekedTo = next;
        if (next != consumerPosition) {
            seekedTo = -1;
        }
        return next;
    }

    @Override
    public long lag(long position) {
        OptionalLong lag = consumer.currentLag(topicPartition);
        return lag.isPresent() ? lag.getAsLong() : 0;
    }

    @Override
    public boolean caughtUp(long position) {
        // Unknown until a fetch answered: not caught up. The lag is from the consumer's position,
        // which a poll leaves where the task's position is unless it must seek there first.
        if (pastEndAt == position) {
            return true; // past the partition's end (cut back, or re-created): nothing is known to be there to wait for
        }
        OptionalLong lag = consumer.currentLag(topicPartition);
        return lag.isPresent() && lag.getAsLong() == 0 && seekedTo == position;
    }

    @Override
    public long end() {
        return consumer.endOffsets(List.of(topicPartition)).getOrDefault(topicPartition, 0L);
    }

    @Override
    public long earliest() {
        return consumer.beginningOffsets(List.of(topicPartition)).getOrDefault(topicPartition, 0L);
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(1));
    }
}
