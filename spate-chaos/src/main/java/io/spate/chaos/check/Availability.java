package io.spate.chaos.check;

import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * How each partition's writes fared: its longest stall while a quorum was up, and how long it
 * took to accept a write after the last fault healed.
 */
public record Availability(Map<Integer, PartitionAvailability> partitions) {

    /**
     * The longest time with no acknowledged write while the partition was healthy: {@code startUs}
     * to {@code endUs} is the healthy part that counted, inside the gap between two acks
     * {@code gapStartUs}..{@code gapEndUs}. All zero when it never stalled while healthy.
     */
    public record Stall(long startUs, long endUs, long gapStartUs, long gapEndUs) {
        public static final Stall NONE = new Stall(0, 0, 0, 0);

        public long lengthUs() {
            return endUs - startUs;
        }
    }

    /**
     * @param longestStall       the longest stall with a quorum and a replica that may lead up (bounded)
     * @param longestQuorumStall the longest stall with a quorum up, whether or not any replica up
     *                           could lead (not bounded: reported so that no waiting hides)
     * @param recoveryUs         time from the heal to the first acknowledged write (if never: to the end)
     * @param recovered          false when no write was acknowledged after the heal
     */
    public record PartitionAvailability(int partition, Stall longestStall, Stall longestQuorumStall, long recoveryUs,
                                        boolean recovered, long acks) {
    }

    public long longestStallUs(int partition) {
        PartitionAvailability a = partitions.get(partition);
        return a == null ? 0 : a.longestStall().lengthUs();
    }

    public long recoveryUs(int partition) {
        PartitionAvailability a = partitions.get(partition);
        return a == null ? 0 : a.recoveryUs();
    }

    /** The partition with the longest stall while healthy. */
    public Optional<PartitionAvailability> worstStall() {
        return partitions.values().stream().max(Comparator.comparingLong(a -> a.longestStall().lengthUs()));
    }

    public long worstStallUs() {
        return worstStall().map(a -> a.longestStall().lengthUs()).orElse(0L);
    }

    /** The longest stall with a quorum up, eligible replica or not. */
    public long worstQuorumStallUs() {
        return partitions.values().stream().mapToLong(a -> a.longestQuorumStall().lengthUs()).max().orElse(0L);
    }

    /** The partition slowest to recover (one that never recovered counts as slowest). */
    public Optional<PartitionAvailability> worstRecovery() {
        return partitions.values().stream().max(Comparator
                .comparing((PartitionAvailability a) -> !a.recovered())
                .thenComparingLong(PartitionAvailability::recoveryUs));
    }

    public long worstRecoveryUs() {
        return worstRecovery().map(PartitionAvailability::recoveryUs).orElse(0L);
    }

    public boolean allRecovered() {
        return partitions.values().stream().allMatch(PartitionAvailability::recovered);
    }
}
