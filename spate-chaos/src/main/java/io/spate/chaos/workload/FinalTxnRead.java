package io.spate.chaos.workload;

import io.spate.chaos.history.TxnHistory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * After the exactly-once pipeline stopped: its output topic read from the start by two fresh
 * consumers outside any group, one read_uncommitted to the high watermark, one read_committed to
 * the last stable offset, and the input offsets the pipeline's group committed. What the checker
 * compares the pipeline's transactions with ({@link TxnHistory}).
 */
public final class FinalTxnRead {

    private FinalTxnRead() {
    }

    /**
     * @param lsoWait how long the last stable offset may take to reach the high watermark: the
     *                markers of the last transactions are written after their clients were
     *                answered. A transaction still open after it is what the checker reports as
     *                hanging; the read_committed read then stops at the last stable offset.
     */
    public static TxnHistory read(String bootstrap, Admin admin, TxnWorkload pipeline, String output, int partitions,
                                  Duration lsoWait, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> tps = FinalRead.partitions(output, partitions);
        try (KafkaConsumer<String, String> uncommitted = new KafkaConsumer<>(FinalRead.consumerConfig(bootstrap, "read_uncommitted"));
             KafkaConsumer<String, String> committed = new KafkaConsumer<>(FinalRead.consumerConfig(bootstrap, "read_committed"))) {
            uncommitted.assign(tps);
            committed.assign(tps);
            Map<TopicPartition, Long> start = uncommitted.beginningOffsets(tps);
            Map<TopicPartition, Long> highWatermark = uncommitted.endOffsets(tps);
            Map<TopicPartition, Long> lastStable = committed.endOffsets(tps);
            long lsoDeadline = System.nanoTime() + lsoWait.toNanos();
            while (!lastStable.equals(highWatermark) && System.nanoTime() < lsoDeadline) {
                Thread.sleep(200);
                lastStable = committed.endOffsets(tps);
            }
            Map<Integer, List<String>> readUncommitted = FinalRead.readTo(uncommitted, start, highWatermark, deadline);
            Map<Integer, List<String>> readCommitted = FinalRead.readTo(committed, start, lastStable, deadline);
            Map<Integer, Long> outputStart = new TreeMap<>();
            start.forEach((tp, o) -> outputStart.put(tp.partition(), o));
            return new TxnHistory(pipeline.members(), pipeline.transactions(), pipeline.committedInput(admin), outputStart,
                    readCommitted, readUncommitted);
        }
    }
}
