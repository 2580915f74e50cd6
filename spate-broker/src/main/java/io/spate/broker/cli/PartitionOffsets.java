package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Partition offsets for the commands' tables, read within a short bound. Only a partition's leader
 * answers for its offsets: one with none (its only replica's node is down) would otherwise hold
 * the whole command for the client's full timeout and then fail it, although every other
 * partition answered. Such a partition is left out, for the caller to show as '-' or to refuse.
 */
final class PartitionOffsets {
    /** Longer than a leader election takes (~1.5 s), so a partition changing leader is still read. */
    static final long BOUND_MS = 3_000;

    private final List<TopicPartition> partitions;
    private final ListOffsetsResult result;
    private final long deadlineNanos;

    private PartitionOffsets(List<TopicPartition> partitions, ListOffsetsResult result) {
        this.partitions = partitions;
        this.result = result;
        this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOUND_MS + 500);
    }

    /** Sends the request; several asked one after another are answered together, within one bound. */
    static PartitionOffsets ask(Admin admin, Iterable<TopicPartition> partitions, OffsetSpec spec) {
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        ListOffsetsResult result = request.isEmpty() ? null : admin.listOffsets(request, new ListOffsetsOptions().timeoutMs((int) BOUND_MS));
        return new PartitionOffsets(List.copyOf(request.keySet()), result);
    }

    /** Offsets for {@code spec} per partition; a partition whose lookup failed or took too long is absent. */
    static Map<TopicPartition, Long> read(Admin admin, Iterable<TopicPartition> partitions, OffsetSpec spec) throws InterruptedException {
        return ask(admin, partitions, spec).answers();
    }

    /** The answers, waiting at most until the bound from the asking; a partition without one is absent. */
    Map<TopicPartition, Long> answers() throws InterruptedException {
        Map<TopicPartition, Long> answers = new HashMap<>();
        for (TopicPartition tp : partitions) {
            try {
                answers.put(tp, result.partitionResult(tp).get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS).offset());
            } catch (ExecutionException | TimeoutException e) {
                // no leader to ask now, or the topic went away since it was described
            }
        }
        return answers;
    }
}
