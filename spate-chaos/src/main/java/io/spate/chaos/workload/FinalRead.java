package io.spate.chaos.workload;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * After healing: every partition read from its log start to its end offset (the high watermark)
 * with a fresh consumer outside the group, and the group's committed offsets. This is the state
 * the checker compares every acknowledgement and every read with.
 */
public final class FinalRead {
    public final Map<Integer, List<String>> log = new TreeMap<>();
    public final Map<Integer, Long> logStart = new TreeMap<>();
    public final Map<Integer, Long> committed = new TreeMap<>();

    public static FinalRead read(String bootstrap, Admin admin, String topic, int partitions, Duration timeout) throws Exception {
        return read(bootstrap, admin, topic, partitions, GroupWorkload.GROUP, timeout);
    }

    /** As above, with the committed offsets of {@code group} (null: none). */
    public static FinalRead read(String bootstrap, Admin admin, String topic, int partitions, String group, Duration timeout) throws Exception {
        FinalRead result = new FinalRead();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(bootstrap, "read_uncommitted"))) {
            List<TopicPartition> tps = partitions(topic, partitions);
            consumer.assign(tps);
            Map<TopicPartition, Long> start = consumer.beginningOffsets(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            start.forEach((tp, o) -> result.logStart.put(tp.partition(), o));
            result.log.putAll(readTo(consumer, start, end, deadline));
        }
        if (group == null) {
            return result;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        offsets.forEach((tp, om) -> {
            if (om != null && tp.topic().equals(topic)) {
                result.committed.put(tp.partition(), om.offset());
            }
        });
        return result;
    }

    /** A consumer outside any group, reading at {@code isolation} (read_committed or read_uncommitted). */
    static Map<String, Object> consumerConfig(String bootstrap, String isolation) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return c;
    }

    static List<TopicPartition> partitions(String topic, int partitions) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            tps.add(new TopicPartition(topic, p));
        }
        return tps;
    }

    /**
     * Reads every partition of an assigned consumer from {@code start} to {@code end}: per
     * partition the value at {@code start + i}, null where the read returned no record (a hole;
     * for read_committed also a transaction marker or an aborted record).
     */
    static Map<Integer, List<String>> readTo(KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> start,
                                             Map<TopicPartition, Long> end, long deadline) {
        Map<Integer, List<String>> log = new TreeMap<>();
        for (TopicPartition tp : start.keySet()) {
            consumer.seek(tp, start.get(tp));
            List<String> values = new ArrayList<>();
            long size = end.get(tp) - start.get(tp);
            for (long i = 0; i < size; i++) {
                values.add(null);
            }
            log.put(tp.partition(), values);
        }
        Map<TopicPartition, Long> remaining = new HashMap<>(end);
        remaining.entrySet().removeIf(e -> e.getValue() <= start.get(e.getKey()));
        consumer.pause(start.keySet().stream().filter(tp -> !remaining.containsKey(tp)).toList());
        while (!remaining.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the final read did not reach the end of " + remaining.keySet() + " in time");
            }
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                long base = start.get(tp);
                if (r.offset() < end.get(tp)) {
                    log.get(r.partition()).set((int) (r.offset() - base), r.value());
                }
            }
            for (TopicPartition tp : List.copyOf(remaining.keySet())) {
                if (consumer.position(tp) >= end.get(tp)) {
                    remaining.remove(tp);
                    consumer.pause(List.of(tp));
                }
            }
        }
        return log;
    }
}
