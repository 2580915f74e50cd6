package io.spate.stream.store;

import java.util.Arrays;

/** A serialized key as a map key: equality and hash by content. The array is not copied: do not change it. */
public final class Bytes implements Comparable<Bytes> {
    private final byte[] bytes;
    private final int hash;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public static Bytes wrap(byte[] bytes) {
        if (bytes == null) {
            throw new NullPointerException("a store key is never null");
        }
        return new Bytes(bytes);
    }

    public byte[] get() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && other.hash == hash && Arrays.equals(other.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(Bytes o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return Arrays.toString(bytes);
    }
}
