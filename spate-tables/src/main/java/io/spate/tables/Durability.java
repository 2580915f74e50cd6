package io.spate.tables;

/**
 * When a replica's write is on disk before the replica acknowledges it.
 *
 * <ul>
 *   <li>{@link Mode#SYNC_EACH}: every write is fsynced before its acknowledgement;</li>
 *   <li>{@link Mode#BATCHED}: writes are acknowledged once the next group fsync has run, at most
 *       {@code batchMs} after the first write of the group (a group commit: the acknowledgement
 *       still means "on disk", the fsync cost is shared);</li>
 *   <li>{@link Mode#NONE}: acknowledged at once; a crash of the machine loses what the OS had
 *       not written (a kill -9 of the process alone loses nothing: RocksDB's WAL is in the page cache).</li>
 * </ul>
 */
public record Durability(Mode mode, long batchMs) {
    public enum Mode { SYNC_EACH, BATCHED, NONE }

    public static final Durability SYNC_EACH = new Durability(Mode.SYNC_EACH, 0);
    public static final Durability NONE = new Durability(Mode.NONE, 0);

    public Durability {
        if (mode == Mode.BATCHED && batchMs <= 0) {
            throw new IllegalArgumentException("a batched durability needs a positive batchMs");
        }
    }

    public static Durability batched(long batchMs) {
        return new Durability(Mode.BATCHED, batchMs);
    }

    @Override
    public String toString() {
        return mode == Mode.BATCHED ? "BATCHED(" + batchMs + "ms)" : mode.name();
    }
}
