package io.spate.tests.support;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real KafkaConsumer in a group, polling on its own thread (the consumer is single-threaded),
 * committing synchronously after every poll, and recording what it read and what it owns.
 */
public final class GroupMemberRunner implements AutoCloseable {
    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private final ConcurrentLinkedQueue<ConsumerRecord<String, String>> consumed;
    private final Set<TopicPartition> assignment = ConcurrentHashMap.newKeySet();
    private final AtomicInteger generation = new AtomicInteger(-1);
    private volatile boolean running = true;
    private volatile Throwable failure;

    public GroupMemberRunner(String name, String bootstrap, String topic, Map<String, Object> config,
                             ConcurrentLinkedQueue<ConsumerRecord<String, String>> consumed) {
        this.consumer = Clients.consumer(bootstrap, config);
        this.consumed = consumed;
        this.thread = Thread.ofPlatform().name("member-" + name).unstarted(() -> run(topic));
        thread.start();
    }

    private void run(String topic) {
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    assignment.removeAll(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignment.addAll(partitions);
                    generation.set(consumer.groupMetadata().generationId());
                }
            });
            while (running) {
                var records = consumer.poll(Duration.ofMillis(100));
                records.forEach(consumed::add);
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            consumer.close();
        }
    }

    public Set<TopicPartition> assignment() {
        return Set.copyOf(assignment);
    }

    public int generation() {
        return generation.get();
    }

    public Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(60_000);
    }
}
