package io.spate.server.group;

import io.spate.server.group.GroupCoordinator.TopicPartitionKey;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Offsets committed inside producers' open transactions (TxnOffsetCommit, KIP-98): by producer,
 * then group and partition, until the producer's end marker counts them (commit) or voids them
 * (abort). Indexed by group too: a commit, a fetch with requireStable and expiry ask by group.
 */
final class PendingTxnOffsets {
    /** An offset a transaction committed, and where it was written among the shard's records (see {@link GroupShard}). */
    record Pending(CommittedOffset offset, long position) {
    }

    private final Map<Long, Map<String, Map<TopicPartitionKey, Pending>>> byProducer = new HashMap<>();
    private final Map<String, Set<Long>> producersByGroup = new HashMap<>();

    void add(long producerId, String groupId, TopicPartitionKey partition, Pending pending) {
        byProducer.computeIfAbsent(producerId, p -> new HashMap<>()).computeIfAbsent(groupId, g -> new HashMap<>()).put(partition, pending);
        producersByGroup.computeIfAbsent(groupId, g -> new HashSet<>()).add(producerId);
    }

    /** Takes out everything {@code producerId}'s transaction committed here, by group; empty when nothing. */
    Map<String, Map<TopicPartitionKey, Pending>> end(long producerId) {
        Map<String, Map<TopicPartitionKey, Pending>> ended = byProducer.remove(producerId);
        if (ended == null) {
            return Map.of();
        }
        ended.keySet().forEach(groupId -> forget(groupId, producerId));
        return ended;
    }

    /** A committed offset was removed (expiry, OffsetDelete, DeleteGroups): what transactions hold for the partition goes with it, as in Kafka. */
    void remove(String groupId, TopicPartitionKey partition) {
        Set<Long> producers = producersByGroup.get(groupId);
        if (producers == null) {
            return;
        }
        for (Long producerId : Set.copyOf(producers)) {
            Map<String, Map<TopicPartitionKey, Pending>> groups = byProducer.get(producerId);
            Map<TopicPartitionKey, Pending> offsets = groups.get(groupId);
            if (offsets.remove(partition) != null && offsets.isEmpty()) {
                groups.remove(groupId);
                forget(groupId, producerId);
                if (groups.isEmpty()) {
                    byProducer.remove(producerId);
                }
            }
        }
    }

    private void forget(String groupId, long producerId) {
        Set<Long> producers = producersByGroup.get(groupId);
        if (producers != null && producers.remove(producerId) && producers.isEmpty()) {
            producersByGroup.remove(groupId);
        }
    }

    boolean has(String groupId) {
        return producersByGroup.containsKey(groupId);
    }

    boolean has(String groupId, TopicPartitionKey partition) {
        for (long producerId : producersByGroup.getOrDefault(groupId, Set.of())) {
            if (byProducer.get(producerId).get(groupId).containsKey(partition)) {
                return true;
            }
        }
        return false;
    }

    /** The partitions of {@code groupId} some open transaction committed an offset for. */
    Set<TopicPartitionKey> partitions(String groupId) {
        Set<TopicPartitionKey> partitions = new HashSet<>();
        for (long producerId : producersByGroup.getOrDefault(groupId, Set.of())) {
            partitions.addAll(byProducer.get(producerId).get(groupId).keySet());
        }
        return partitions;
    }

    Set<String> groups() {
        return producersByGroup.keySet();
    }

    void clear() {
        byProducer.clear();
        producersByGroup.clear();
    }
}
