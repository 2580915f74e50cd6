package io.spate.tables;

import java.nio.charset.StandardCharsets;

/**
 * The hashes the ring and the Merkle trees use. Written out here rather than taken from
 * {@code hashCode} or a library, because every node and every version of Spate must place a key
 * on the same token: a change here moves every key.
 */
final class Hashing {
    private Hashing() {
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /** FNV-1a over the bytes, then {@link #mix}: FNV alone clusters short similar keys. */
    static long hash64(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h ^ bytes.length);
    }

    static long hash64(String s) {
        return hash64(s.getBytes(StandardCharsets.UTF_8));
    }
}
