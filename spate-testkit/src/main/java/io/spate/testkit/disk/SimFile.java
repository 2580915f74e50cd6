package io.spate.testkit.disk;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A regular file's bytes twice over: what the process sees (the page cache) and what is on the
 * platter. Changes not yet fsynced wait in order; a power loss keeps a random prefix of them, and
 * may tear the first one it does not keep.
 */
final class SimFile extends SimInode {
    private sealed interface Change permits Write, Truncate { }

    private record Write(int position, byte[] bytes) implements Change { }

    private record Truncate(int size) implements Change { }

    private byte[] data = new byte[0];
    private int size;
    private byte[] durableData = new byte[0];
    private int durableSize;
    private final List<Change> pending = new ArrayList<>();
    /** The channel holding this file's lock, or null. */
    SimFileChannel lockHolder;

    int size() {
        return size;
    }

    /** Copies up to {@code length} bytes from {@code position} into {@code into}; returns how many. */
    int read(int position, byte[] into, int offset, int length) {
        int n = Math.max(0, Math.min(length, size - position));
        System.arraycopy(data, position, into, offset, n);
        return n;
    }

    void write(int position, byte[] bytes) {
        if (bytes.length == 0) {
            return; // writes nothing and, as write(2) of zero bytes, does not extend the file
        }
        data = apply(data, size, position, bytes, bytes.length);
        size = Math.max(size, position + bytes.length);
        pending.add(new Write(position, bytes));
    }

    void truncate(int newSize) {
        if (newSize < size) {
            Arrays.fill(data, newSize, size, (byte) 0);
            size = newSize;
            pending.add(new Truncate(newSize));
        }
    }

    /** fsync: everything written so far is on the platter. */
    void sync() {
        for (Change change : pending) {
            applyDurably(change, Integer.MAX_VALUE);
        }
        pending.clear();
    }

    boolean dirty() {
        return !pending.isEmpty();
    }

    /**
     * Power loss: a random prefix of the unsynced changes reached the platter, the first change
     * after it perhaps only in part; the page cache is gone. Returns whether anything was lost.
     */
    boolean loseUnsynced(Random random) {
        if (pending.isEmpty()) {
            data = Arrays.copyOf(durableData, durableData.length);
            size = durableSize;
            return false;
        }
        int kept = random.nextInt(pending.size() + 1);
        for (int i = 0; i < kept; i++) {
            applyDurably(pending.get(i), Integer.MAX_VALUE);
        }
        if (kept < pending.size() && pending.get(kept) instanceof Write w && random.nextBoolean()) {
            applyDurably(w, random.nextInt(w.bytes().length)); // a torn write: only its first bytes got there
        }
        pending.clear();
        data = Arrays.copyOf(durableData, durableData.length);
        size = durableSize;
        return true;
    }

    /** Damage on the platter: bit {@code bit} of byte {@code position} changes, in what is durable and in the page cache alike. */
    void rot(int position, int bit) {
        if (position < durableSize) {
            durableData[position] ^= (byte) (1 << bit);
        }
        if (position < size) {
            data[position] ^= (byte) (1 << bit);
        }
    }

    /** How many bytes are on the platter. */
    int durableSize() {
        return durableSize;
    }

    /** The content as the process sees it (for a copy, which lands in the page cache, unsynced). */
    byte[] contents() {
        return Arrays.copyOf(data, size);
    }

    private void applyDurably(Change change, int limit) {
        switch (change) {
            case Write w -> {
                int length = Math.min(limit, w.bytes().length);
                durableData = apply(durableData, durableSize, w.position(), w.bytes(), length);
                durableSize = Math.max(durableSize, w.position() + length);
            }
            case Truncate t -> {
                if (t.size() < durableSize) {
                    Arrays.fill(durableData, t.size(), durableSize, (byte) 0);
                    durableSize = t.size();
                }
            }
        }
    }

    /** Writes {@code length} bytes of {@code bytes} at {@code position} of an array whose content ends at {@code size}. */
    private static byte[] apply(byte[] array, int size, int position, byte[] bytes, int length) {
        int end = position + length;
        byte[] target = array;
        if (end > array.length) {
            target = Arrays.copyOf(array, Math.max(end, Math.min(Integer.MAX_VALUE - 8, array.length * 2)));
        }
        if (position > size) {
            Arrays.fill(target, size, position, (byte) 0); // a hole reads as zeros
        }
        System.arraycopy(bytes, 0, target, position, length);
        return target;
    }
}
