package io.spate.tables;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * How a key and a cell are laid out in a store.
 *
 * <pre>
 * stored key:   [token: 8 bytes, big-endian, sign bit flipped][key bytes]
 * stored value: [hlc: 8 bytes, big-endian][flags: 1 byte, bit 0 = tombstone][value bytes]
 * </pre>
 * Flipping the sign bit makes unsigned byte order (RocksDB's default comparator) follow signed
 * token order, so a token range is one contiguous run of keys.
 */
final class StoreKey implements Comparable<StoreKey> {
    final long token;
    final byte[] key;

    StoreKey(byte[] key) {
        this(TokenRing.token(key), key);
    }

    private StoreKey(long token, byte[] key) {
        this.token = token;
        this.key = key;
    }

    /** Sorts before every key with this token (no key is shorter than the empty one). */
    static StoreKey first(long token) {
        return new StoreKey(token, new byte[0]);
    }

    static byte[] encodeKey(byte[] key) {
        return ByteBuffer.allocate(8 + key.length).putLong(TokenRing.token(key) ^ Long.MIN_VALUE).put(key).array();
    }

    /** The smallest stored key with this token: where a range scan seeks. */
    static byte[] seekKey(long token) {
        return ByteBuffer.allocate(8).putLong(token ^ Long.MIN_VALUE).array();
    }

    static long tokenOf(byte[] storedKey) {
        return ByteBuffer.wrap(storedKey, 0, 8).getLong() ^ Long.MIN_VALUE;
    }

    static byte[] keyOf(byte[] storedKey) {
        return Arrays.copyOfRange(storedKey, 8, storedKey.length);
    }

    static byte[] encodeCell(Cell cell) {
        return ByteBuffer.allocate(9 + cell.value().length).putLong(cell.hlc())
                .put((byte) (cell.tombstone() ? 1 : 0)).put(cell.value()).array();
    }

    static Cell decodeCell(byte[] stored) {
        if (stored.length < 9) {
            throw new IllegalStateException("a stored cell of " + stored.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(stored);
        long hlc = b.getLong();
        boolean tombstone = (b.get() & 1) != 0;
        return tombstone ? Cell.tombstone(hlc) : Cell.value(hlc, Arrays.copyOfRange(stored, 9, stored.length));
    }

    @Override
    public int compareTo(StoreKey o) {
        int byToken = Long.compare(token, o.token);
        return byToken != 0 ? byToken : Arrays.compareUnsigned(key, o.key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoreKey k && token == k.token && Arrays.equals(key, k.key);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(token);
    }
}
