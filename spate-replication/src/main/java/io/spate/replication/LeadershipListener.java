package io.spate.replication;

/**
 * Told when this node starts or stops leading a partition: what a tier that keeps state next to
 * a partition (the group coordinator today; transactions, processing tasks and tables later)
 * loads and drops its state on. {@link #onBecameLeader} comes when this node starts leading, and
 * again when its epoch moves while it keeps leading (its log was never truncated in between);
 * {@link #onResigned} comes exactly once when it stops leading. A listener that handles the calls
 * in order therefore always knows which partitions it leads, even when a leadership ends and a new
 * one begins between two looks. Runs on the thread that changed the role (the metadata thread), in
 * order; must not block.
 */
public interface LeadershipListener {
    /** This node now leads {@code partition} at {@code leaderEpoch} (also when it led already and only the epoch moved). */
    void onBecameLeader(Partition partition, int leaderEpoch);

    /** This node no longer leads {@code partition}; it had led it at {@code leaderEpoch}. */
    void onResigned(Partition partition, int leaderEpoch);

    /**
     * Every role a metadata image gives this node has been taken: a tier that needs several
     * partitions led here together (a processing task and the outputs placed with its input,
     * which a fail-over moves in one image) decides now rather than on the first of them.
     */
    default void onRolesApplied() {
    }

    LeadershipListener NONE = new LeadershipListener() {
        @Override
        public void onBecameLeader(Partition partition, int leaderEpoch) {
        }

        @Override
        public void onResigned(Partition partition, int leaderEpoch) {
        }
    };
}
