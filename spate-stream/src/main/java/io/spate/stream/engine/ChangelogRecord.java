package io.spate.stream.engine;

/** A record of a store's changelog, replayed by {@link Task#restore}; a null value deletes. */
public record ChangelogRecord(byte[] key, byte[] value) {
}
