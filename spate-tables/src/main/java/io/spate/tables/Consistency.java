package io.spate.tables;

/** How many of a key's N replicas must answer before a request succeeds. */
public enum Consistency {
    ONE,
    QUORUM,
    ALL;

    /** Replicas that must answer, for a replication factor of {@code n}. */
    public int required(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("replication factor " + n);
        }
        return switch (this) {
            case ONE -> 1;
            case QUORUM -> n / 2 + 1;
            case ALL -> n;
        };
    }
}
