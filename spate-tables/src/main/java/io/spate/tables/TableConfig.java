package io.spate.tables;

/**
 * A table's settings, the same on every node (they come with the cluster metadata in the next slice).
 *
 * @param replicationFactor N: how many nodes hold each key
 * @param defaultWrite      W when a request names none
 * @param defaultRead       R when a request names none
 * @param tombstoneGraceMs  how long a deletion's tombstone is kept before it may be collected; every
 *                          replica must hear of the deletion within it (hints, read repair, anti-entropy),
 *                          or the deleted value can come back
 * @param sloppyQuorum      whether a write to a stand-in node (holding a hint for a down replica) counts
 *                          toward W. It keeps writes available when replicas are down, at the price of
 *                          W+R>N no longer meaning that a read meets the write until the hints are delivered
 */
public record TableConfig(String name, int replicationFactor, Consistency defaultWrite, Consistency defaultRead,
                          Durability durability, long tombstoneGraceMs, boolean sloppyQuorum) {
    public TableConfig {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a table needs a name");
        }
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor " + replicationFactor);
        }
        if (tombstoneGraceMs <= 0) {
            throw new IllegalArgumentException("tombstone grace " + tombstoneGraceMs);
        }
    }

    public static TableConfig of(String name, int replicationFactor) {
        return new TableConfig(name, replicationFactor, Consistency.QUORUM, Consistency.QUORUM,
                Durability.batched(5), 10L * 24 * 3600 * 1000, false);
    }
}
