package io.spate.http;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * One REST Proxy v2 consumer instance: a {@link KafkaConsumer} of its group on the node's own
 * Kafka listener, used by one request at a time ({@link #use}: the consumer is not thread safe, and
 * requests for one instance come on any virtual thread). Records a poll brought beyond what a
 * response took ({@code max_bytes}) wait here for the next read; "commit what was consumed" commits
 * the position after the last record handed out, not the consumer's fetch position.
 */
final class RestProxyConsumer {
    private static final Logger log = LoggerFactory.getLogger(RestProxyConsumer.class);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    /** The embedded format records are answered in. */
    enum Format {
        BINARY, JSON;

        String mediaType() {
            return this == BINARY ? RestProxy.V2_BINARY : RestProxy.V2_JSON_EMBEDDED;
        }
    }

    /**
     * What the instance was created with.
     *
     * @param autoCommit       commit what each read handed out (asynchronously, after the read), and on close
     * @param requestTimeoutMs how long a read waits for records when the request names no {@code timeout}
     * @param responseMinBytes a read returns once it holds this many key and value bytes (at most 0: once it holds any)
     */
    record Settings(Format format, String autoOffsetReset, boolean autoCommit, int responseMinBytes, long requestTimeoutMs) {
    }

    /** A functional step on the consumer, run while holding the instance. */
    @FunctionalInterface
    interface Step<T> {
        T run(RestProxyConsumer instance, KafkaConsumer<byte[], byte[]> consumer);
    }

    final String group;
    final String id;
    final Settings settings;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile long lastUsedMs;
    private volatile boolean closed;
    /** A read waits in poll: a close wakes it up. */
    private volatile boolean closing;
    /** Polled and not yet handed out, in poll order. */
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> buffered = new ArrayDeque<>();
    /** Per partition, the offset after the last record handed out: what "commit all consumed" commits. */
    private final Map<TopicPartition, Long> consumed = new HashMap<>();

    RestProxyConsumer(String group, String id, Settings settings, KafkaConsumer<byte[], byte[]> consumer, LongSupplier clock) {
        this.group = group;
        this.id = id;
        this.settings = settings;
        this.consumer = consumer;
        this.clock = clock;
        this.lastUsedMs = clock.getAsLong();
    }

    /** Runs {@code step} with the instance to itself; 40403 once it is closed (deleted, evicted, node closing). */
    <T> T use(Step<T> step) {
        lock.lock();
        try {
            if (closed) {
                throw RestProxy.instanceNotFound(group, id);
            }
            try {
                return step.run(this, consumer);
            } finally {
                lastUsedMs = clock.getAsLong();
            }
        } finally {
            lock.unlock();
        }
    }

    long lastUsedMs() {
        return lastUsedMs;
    }

    /** The rebalance listener a subscription needs: revoked partitions lose what waits for them. */
    ConsumerRebalanceListener rebalanceListener() {
        return new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (settings.autoCommit()) {
                    commitConsumed(partitions, false);
                }
                forget(partitions);
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            }
        };
    }

    /** Drops what waits for {@code partitions} (all of them when null): after a seek, an assignment or a rebalance. */
    void forget(Collection<TopicPartition> partitions) {
        if (partitions == null) {
            buffered.clear();
            consumed.clear();
            return;
        }
        buffered.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
        partitions.forEach(consumed::remove);
    }

    /**
     * Records for one response (with the instance held): what waits from an earlier poll first,
     * then polls until the response holds {@code responseMinBytes} (or any record), {@code maxBytes}
     * of keys and values would be passed, or {@code timeoutMs} is over. At least one record is
     * handed out when one is there, however large.
     */
    List<ConsumerRecord<byte[], byte[]>> read(long timeoutMs, long maxBytes) {
        long deadline = System.nanoTime() + Duration.ofMillis(timeoutMs).toNanos();
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long bytes = 0;
        boolean full = false;
        while (true) {
            for (Iterator<ConsumerRecord<byte[], byte[]>> it = buffered.iterator(); it.hasNext(); ) {
                ConsumerRecord<byte[], byte[]> r = it.next();
                long size = size(r);
                if (!out.isEmpty() && bytes + size > maxBytes) {
                    full = true;
                    break;
                }
                out.add(r);
                bytes += size;
                it.remove();
                // Counted as consumed as soon as it is taken: a rebalance during a later poll of this
                // read then commits it with its partition, and forgets the partition for good.
                consumed.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
            }
            if (full || (!out.isEmpty() && (settings.responseMinBytes() <= 0 || bytes >= settings.responseMinBytes()))) {
                break;
            }
            long remainingMs = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
            if (remainingMs <= 0 || closing) {
                break;
            }
            try {
                consumer.poll(Duration.ofMillis(remainingMs)).forEach(buffered::add);
            } catch (WakeupException e) {
                break; // the instance is being deleted
            } catch (RuntimeException e) {
                if (out.isEmpty()) {
                    throw e;
                }
                // The records taken already count as consumed: they go out with this answer, and the
                // failure shows on the next read. Thrown, they were lost to the client, and a later
                // commit of what was consumed passed them (found by review).
                log.debug("REST Proxy consumer {}/{}: a poll failed after {} record(s) were taken; they are answered", group, id, out.size(), e);
                break;
            }
        }
        if (settings.autoCommit() && !out.isEmpty()) {
            commitConsumed(null, false);
        }
        return out;
    }

    /** Commits the position after the last record handed out, for {@code partitions} (all when null). */
    Map<TopicPartition, OffsetAndMetadata> commitConsumed(Collection<TopicPartition> partitions, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        consumed.forEach((tp, next) -> {
            if (partitions == null || partitions.contains(tp)) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        });
        if (!offsets.isEmpty()) {
            if (sync) {
                consumer.commitSync(offsets);
            } else {
                consumer.commitAsync(offsets, (done, e) -> {
                    if (e != null) {
                        log.debug("REST Proxy consumer {}/{}: committing {} failed", group, id, done, e);
                    }
                });
            }
        }
        return offsets;
    }

    private static long size(ConsumerRecord<byte[], byte[]> r) {
        return (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
    }

    /**
     * Closes the instance unless it was used within {@code timeoutMs} of {@code nowMs} or a request
     * holds it now; true when it closed.
     */
    boolean closeIfIdle(long nowMs, long timeoutMs) {
        if (!lock.tryLock()) {
            return false;
        }
        try {
            if (closed || nowMs - lastUsedMs < timeoutMs) {
                return false;
            }
            closeHeld();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the instance, interrupting a read that waits for records; any request after this gets 40403. */
    void close() {
        // Always: a read between two polls sees the flag, one in a poll is woken (a wakeup with no
        // poll running makes the next one throw, which a read takes as the end as well).
        closing = true;
        consumer.wakeup();
        lock.lock();
        try {
            if (!closed) {
                closeHeld();
            }
        } finally {
            lock.unlock();
        }
    }

    private void closeHeld() {
        closed = true;
        try {
            if (settings.autoCommit()) {
                try {
                    commitConsumed(null, true);
                } catch (WakeupException late) {
                    commitConsumed(null, true); // the wake-up meant for a read that had just ended
                }
            }
        } catch (RuntimeException e) {
            log.debug("REST Proxy consumer {}/{}: the commit on close failed", group, id, e);
        }
        try {
            consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        } catch (RuntimeException e) {
            log.debug("REST Proxy consumer {}/{}: close failed", group, id, e);
        }
    }

    boolean isClosed() {
        return closed;
    }
}
