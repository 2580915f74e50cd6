package io.spate.processing;

import io.spate.stream.engine.Output;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where a task's micro-batch results go: the producer the task writes with (the node's shared
 * idempotent one at-least-once, the task's transactional one exactly-once). It partitions by key
 * as Kafka's default partitioner does, so a re-keyed record lands where a Kafka client would
 * have put it, and remembers the first failed send: the task must not commit past it.
 */
final class TaskOutput implements Output {
    private final Producer<byte[], byte[]> producer;
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Callback onSent = (metadata, exception) -> {
        if (exception != null) {
            failure.compareAndSet(null, exception);
        }
    };

    TaskOutput(Producer<byte[], byte[]> producer) {
        this.producer = producer;
    }

    @Override
    public void send(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        Integer target = partition;
        if (partition == BY_KEY) {
            target = key == null ? null : Utils.toPositive(Utils.murmur2(key)) % partitions(topic);
        }
        try {
            producer.send(new ProducerRecord<>(topic, target, timestamp, key, value), onSent);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new OutputFailedException(e);
        }
    }

    private int partitions(String topic) {
        Integer count = partitionCounts.get(topic);
        if (count == null) {
            try {
                count = producer.partitionsFor(topic).size();
            } catch (org.apache.kafka.common.KafkaException e) {
                throw new OutputFailedException(e);
            }
            partitionCounts.put(topic, count);
        }
        return count;
    }

    /** A send the producer refused at once: the task's fault is its node's, not its code's. */
    static final class OutputFailedException extends RuntimeException {
        OutputFailedException(Throwable cause) {
            super(cause.toString(), cause);
        }
    }

    /** The first send that failed since the last look, cleared. */
    Exception takeFailure() {
        return failure.getAndSet(null);
    }
}
