package io.spate.coordinator;

import java.nio.ByteBuffer;

/** How a coordinator's records are laid out as the keys and values of its (compacted) log. */
public interface RecordSerde<R> {
    byte[] key(R record);

    /** Null for a tombstone: compaction then removes the key. */
    byte[] value(R record);

    /**
     * The record a key and value hold, or null for one this coordinator does not know (written by
     * a newer release, say), which replay skips. {@code value} is null for a tombstone.
     */
    R read(ByteBuffer key, ByteBuffer value);
}
