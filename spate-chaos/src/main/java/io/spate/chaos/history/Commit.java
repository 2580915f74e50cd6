package io.spate.chaos.history;

/**
 * A synchronous offset commit of a group consumer for one partition: {@code offset} is the next
 * offset to read (Kafka's convention). {@code ok} is true only when the coordinator acknowledged it.
 */
public record Commit(String consumer, int incarnation, int partition, long offset, long sentUs, long doneUs,
                     boolean ok, String error) {
}
