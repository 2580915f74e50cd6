package io.spate.processing.store;

import java.nio.ByteBuffer;

/**
 * How the RocksDB stores lay out their keys. RocksDB orders keys by their unsigned bytes, so a
 * time is written big-endian with its sign bit flipped ({@code t ^ Long.MIN_VALUE}): byte order
 * is then numeric order, negative times first. A serialized key that other fields follow is
 * prefixed with its length, so that one key's entries are contiguous (without it, the entries of
 * key {@code a} and of key {@code ab} would interleave).
 *
 * <pre>
 *   time(t)            t ^ MIN (8)
 *   timeFirst(t, k)    t ^ MIN (8) | k
 *   keyFirst(k, t)     length(k) (4) | k | t ^ MIN (8)
 *   endFirst(e, k, s)  e ^ MIN (8) | length(k) (4) | k | s ^ MIN (8)
 * </pre>
 */
final class KeyLayout {
    static final byte[] EMPTY = new byte[0];
    static final int TIME_BYTES = Long.BYTES;
    static final int LENGTH_BYTES = Integer.BYTES;

    private KeyLayout() {
    }

    static byte[] time(long t) {
        return ByteBuffer.allocate(TIME_BYTES).putLong(t ^ Long.MIN_VALUE).array();
    }

    static long readTime(byte[] b, int offset) {
        return ByteBuffer.wrap(b, offset, TIME_BYTES).getLong() ^ Long.MIN_VALUE;
    }

    static byte[] timeFirst(long t, byte[] key) {
        return ByteBuffer.allocate(TIME_BYTES + key.length).putLong(t ^ Long.MIN_VALUE).put(key).array();
    }

    static byte[] keyPrefix(byte[] key) {
        return ByteBuffer.allocate(LENGTH_BYTES + key.length).putInt(key.length).put(key).array();
    }

    static byte[] keyFirst(byte[] key, long t) {
        return ByteBuffer.allocate(LENGTH_BYTES + key.length + TIME_BYTES).putInt(key.length).put(key).putLong(t ^ Long.MIN_VALUE).array();
    }

    /** The time of a {@link #keyFirst} key. */
    static long keyFirstTime(byte[] keyFirst) {
        return readTime(keyFirst, keyFirst.length - TIME_BYTES);
    }

    static byte[] endFirst(long end, byte[] key, long start) {
        return ByteBuffer.allocate(TIME_BYTES + LENGTH_BYTES + key.length + TIME_BYTES)
                .putLong(end ^ Long.MIN_VALUE).putInt(key.length).put(key).putLong(start ^ Long.MIN_VALUE).array();
    }

    /** The serialized key inside an {@link #endFirst} key. */
    static byte[] endFirstKey(byte[] endFirst) {
        int length = ByteBuffer.wrap(endFirst, TIME_BYTES, LENGTH_BYTES).getInt();
        byte[] key = new byte[length];
        System.arraycopy(endFirst, TIME_BYTES + LENGTH_BYTES, key, 0, length);
        return key;
    }

    /** The key right after {@code b} in byte order ({@code b | 0x00}): as an exclusive upper bound, it lets {@code b} in. */
    static byte[] justAfter(byte[] b) {
        byte[] after = new byte[b.length + 1];
        System.arraycopy(b, 0, after, 0, b.length);
        return after;
    }
}
