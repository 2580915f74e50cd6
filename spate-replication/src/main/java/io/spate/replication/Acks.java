package io.spate.replication;

/** How much of a write must be safe before it is acknowledged: the Kafka producer's {@code acks}. */
public enum Acks {
    /** Nothing: the writer is not answered ({@code acks=0}). */
    NONE,
    /** On the leader, and durable there as the topic's flush policy asks ({@code acks=1}). */
    LEADER,
    /** As LEADER, and held by every in-sync replica, at least {@code min.insync.replicas} of them ({@code acks=all}). */
    ALL;

    /** The Kafka wire value (0, 1, -1); null for anything else. */
    public static Acks fromKafka(short acks) {
        return switch (acks) {
            case 0 -> NONE;
            case 1 -> LEADER;
            case -1 -> ALL;
            default -> null;
        };
    }
}
