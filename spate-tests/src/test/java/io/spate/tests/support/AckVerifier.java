package io.spate.tests.support;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads a topic from the beginning with a fresh consumer (assign, seek to beginning, read to the
 * end offsets) and checks it against what a {@link SteadyProducer} had acknowledged: every
 * acknowledged record exactly once, at exactly its acknowledged offset; offsets dense from 0; each
 * partition's producer records in send order; no value twice.
 */
public final class AckVerifier {
    private AckVerifier() {
    }

    /** What was read: per partition, the end offset (high watermark) and the records by offset. */
    public record Read(Map<Integer, Long> endOffsets, Map<Integer, List<ConsumerRecord<String, String>>> records) {
        public int total() {
            return records.values().stream().mapToInt(List::size).sum();
        }
    }

    public static Read read(String bootstrap, String topic, int partitions) {
        Map<String, Object> config = Map.of(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, config)) {
            List<TopicPartition> tps = Clients.partitions(topic, partitions);
            List<ConsumerRecord<String, String>> all = new ArrayList<>(Clients.readAll(consumer, tps));
            // After a failover the high watermark can still move with no new write (the new leader
            // commits what it held once a follower catches up): read on to the end offsets seen now,
            // so that the records and the end offsets they are checked against agree.
            Map<TopicPartition, Long> latest = consumer.endOffsets(tps);
            Clients.readOn(consumer, latest, all);
            all.removeIf(r -> r.offset() >= latest.get(new TopicPartition(r.topic(), r.partition())));
            Map<Integer, Long> end = new TreeMap<>();
            latest.forEach((tp, offset) -> end.put(tp.partition(), offset));
            Map<Integer, List<ConsumerRecord<String, String>>> byPartition = new TreeMap<>();
            for (int p = 0; p < partitions; p++) {
                byPartition.put(p, new ArrayList<>());
            }
            all.forEach(r -> byPartition.get(r.partition()).add(r));
            return new Read(end, byPartition);
        }
    }

    /** Reads the topic and checks it against {@code acks}; returns what was read. */
    public static Read verify(String bootstrap, String topic, int partitions, List<SteadyProducer.Ack> acks) {
        Read read = read(bootstrap, topic, partitions);
        Map<String, List<String>> seen = new HashMap<>();
        for (Map.Entry<Integer, List<ConsumerRecord<String, String>>> e : read.records().entrySet()) {
            int partition = e.getKey();
            List<ConsumerRecord<String, String>> records = e.getValue();
            long lastLocal = -1;
            for (int i = 0; i < records.size(); i++) {
                ConsumerRecord<String, String> r = records.get(i);
                assertThat(r.offset()).as("partition %d: offsets dense from 0 (record %d)", partition, i).isEqualTo(i);
                seen.computeIfAbsent(r.value(), v -> new ArrayList<>()).add(partition + "@" + r.offset());
                if (r.value().startsWith(SteadyProducer.PREFIX)) {
                    long local = Long.parseLong(r.key());
                    assertThat(local).as("partition %d: producer records in send order; at offset %d after local sequence %d",
                            partition, r.offset(), lastLocal).isGreaterThan(lastLocal);
                    assertThat(r.value()).as("partition %d offset %d: record of this partition", partition, r.offset())
                            .contains(" p=" + partition + " ");
                    lastLocal = local;
                }
            }
            assertThat((long) records.size()).as("partition %d: read up to its end offset", partition)
                    .isEqualTo(read.endOffsets().get(partition));
        }
        List<String> duplicates = seen.entrySet().stream().filter(x -> x.getValue().size() > 1)
                .map(x -> x.getKey().substring(0, Math.min(30, x.getKey().length())).trim() + " at " + x.getValue()).limit(20).toList();
        assertThat(duplicates).as("records stored more than once").isEmpty();
        List<String> missing = new ArrayList<>();
        for (SteadyProducer.Ack ack : acks) {
            List<ConsumerRecord<String, String>> records = read.records().get(ack.partition());
            if (ack.offset() < 0) {
                // Acknowledged as a duplicate of a batch older than the producer state remembers
                // (DUPLICATE_SEQUENCE_NUMBER, as Kafka answers): written, offset unknown. It must be
                // stored in its partition; "once" is checked with the duplicates above.
                List<String> where = seen.get(ack.value());
                if (where == null || where.stream().noneMatch(w -> w.startsWith(ack.partition() + "@"))) {
                    missing.add(ack.value().substring(0, Math.min(30, ack.value().length())).trim() + " acked in partition "
                            + ack.partition() + " without an offset but found " + (where == null ? "nowhere" : "at " + where));
                }
                continue;
            }
            String at = ack.offset() < records.size() ? records.get((int) ack.offset()).value() : null;
            if (!ack.value().equals(at)) {
                List<String> where = seen.get(ack.value());
                missing.add(ack.value().substring(0, Math.min(30, ack.value().length())).trim() + " acked at " + ack.partition() + "@" + ack.offset() + " but found "
                        + (where == null ? "nowhere" : "at " + where) + "; that offset holds "
                        + (at == null ? "nothing (end " + records.size() + ")" : at.substring(0, Math.min(30, at.length())).trim()));
            }
        }
        assertThat(missing.size()).as("acknowledged records not at their acknowledged offset: %d of %d acks, first ones:%n%s",
                missing.size(), acks.size(), String.join("\n", missing.subList(0, Math.min(20, missing.size())))).isZero();
        SpateCluster.log("verified " + acks.size() + " acks against " + read.total() + " stored records, end offsets " + read.endOffsets());
        return read;
    }
}
