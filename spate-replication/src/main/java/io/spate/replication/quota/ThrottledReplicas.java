package io.spate.replication.quota;

import java.util.HashSet;
import java.util.Set;

/**
 * The value of a topic's {@code leader.replication.throttled.replicas} or
 * {@code follower.replication.throttled.replicas}: {@code *} (every replica), or a list of
 * {@code partition:node} pairs (what {@code kafka-reassign-partitions.sh --throttle} writes),
 * or empty (none).
 */
public final class ThrottledReplicas {
    private static final ThrottledReplicas NONE = new ThrottledReplicas(false, Set.of());

    private final boolean every;
    private final Set<Long> pairs;

    private ThrottledReplicas(boolean every, Set<Long> pairs) {
        this.every = every;
        this.pairs = pairs;
    }

    /** Reads a value; throws IllegalArgumentException, saying why, when it is neither of the above. */
    public static ThrottledReplicas parse(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        if (value.strip().equals("*")) {
            return new ThrottledReplicas(true, Set.of());
        }
        Set<Long> pairs = new HashSet<>();
        for (String entry : value.split(",")) {
            String e = entry.strip();
            int colon = e.indexOf(':');
            if (colon <= 0 || colon == e.length() - 1) {
                throw new IllegalArgumentException("'" + e + "' is not partition:node (the value is '*' or a list of partition:node)");
            }
            try {
                int partition = Integer.parseInt(e.substring(0, colon).strip());
                int node = Integer.parseInt(e.substring(colon + 1).strip());
                if (partition < 0 || node < 0) {
                    throw new NumberFormatException();
                }
                pairs.add(key(partition, node));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("'" + e + "' is not partition:node with two non-negative numbers");
            }
        }
        return new ThrottledReplicas(false, Set.copyOf(pairs));
    }

    /** Whether the replica of {@code partition} on {@code node} is throttled. */
    public boolean contains(int partition, int node) {
        return every || pairs.contains(key(partition, node));
    }

    private static long key(int partition, int node) {
        return ((long) partition << 32) | (node & 0xffffffffL);
    }
}
