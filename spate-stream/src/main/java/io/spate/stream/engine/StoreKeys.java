package io.spate.stream.engine;

import io.spate.stream.Serde;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Changelog key layouts. Window stores: the key's bytes, then the window start (8 bytes,
 * big-endian). Sessions: the key's bytes, then end and start. Join buffers use the window layout
 * with the record timestamp as start.
 */
final class StoreKeys {
    private StoreKeys() {
    }

    static byte[] windowKey(byte[] key, long start) {
        return ByteBuffer.allocate(key.length + Long.BYTES).put(key).putLong(start).array();
    }

    static byte[] windowKeyBytes(byte[] changelogKey) {
        byte[] k = new byte[changelogKey.length - Long.BYTES];
        System.arraycopy(changelogKey, 0, k, 0, k.length);
        return k;
    }

    static long windowStart(byte[] changelogKey) {
        return ByteBuffer.wrap(changelogKey, changelogKey.length - Long.BYTES, Long.BYTES).getLong();
    }

    static byte[] sessionKey(byte[] key, long start, long end) {
        return ByteBuffer.allocate(key.length + 2 * Long.BYTES).put(key).putLong(end).putLong(start).array();
    }

    static byte[] sessionKeyBytes(byte[] changelogKey) {
        byte[] k = new byte[changelogKey.length - 2 * Long.BYTES];
        System.arraycopy(changelogKey, 0, k, 0, k.length);
        return k;
    }

    static long sessionEnd(byte[] changelogKey) {
        return ByteBuffer.wrap(changelogKey, changelogKey.length - 2 * Long.BYTES, Long.BYTES).getLong();
    }

    static long sessionStart(byte[] changelogKey) {
        return ByteBuffer.wrap(changelogKey, changelogKey.length - Long.BYTES, Long.BYTES).getLong();
    }

    /** A list of values: count, then each value's length and bytes (-1 for null). */
    static <V> Serde<List<V>> listSerde(Serde<V> inner) {
        return Serde.of(list -> {
            byte[][] parts = new byte[list.size()][];
            int size = Integer.BYTES;
            for (int i = 0; i < parts.length; i++) {
                parts[i] = inner.serialize(list.get(i));
                size += Integer.BYTES + (parts[i] == null ? 0 : parts[i].length);
            }
            ByteBuffer buf = ByteBuffer.allocate(size).putInt(parts.length);
            for (byte[] p : parts) {
                if (p == null) {
                    buf.putInt(-1);
                } else {
                    buf.putInt(p.length).put(p);
                }
            }
            return buf.array();
        }, bytes -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            int n = buf.getInt();
            List<V> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int len = buf.getInt();
                if (len < 0) {
                    list.add(null);
                } else {
                    byte[] p = new byte[len];
                    buf.get(p);
                    list.add(inner.deserialize(p));
                }
            }
            return list;
        });
    }
}
