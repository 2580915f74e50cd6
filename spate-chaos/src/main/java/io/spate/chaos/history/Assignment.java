package io.spate.chaos.history;

/**
 * A partition given to (or taken from) a group consumer. On assignment {@code position} is the
 * offset the consumer will read next, which it took from the group's committed offset (or from
 * the log start when nothing was committed: then {@code fromCommit} is false). On revocation
 * {@code position} is -1.
 */
public record Assignment(String consumer, int incarnation, int partition, boolean assigned, long position,
                         boolean fromCommit, long atUs) {
}
