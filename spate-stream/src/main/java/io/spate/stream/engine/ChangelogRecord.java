package io.spate.stream.engine;

/**
 * A record of a store's changelog, replayed by {@link Task#restore}; a null value deletes. Its
 * timestamp is the stream time the change was made at or before (a window's close is logged at
 * the stream time that closed it), so a restore brings the task's stream time at least that far.
 */
public record ChangelogRecord(byte[] key, byte[] value, long timestamp) {
}
