package io.spate.cluster.ratis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The last metadata log entries a voter applied, in order, bounded by count and bytes, so that a
 * node that is not a voter can be brought from the image it holds to the newest by the entries
 * it missed instead of the whole image: one partition's in-sync set change is tens of bytes, the
 * image of a cluster with thousands of partitions hundreds of kilobytes, and every change is
 * fetched by every such node.
 *
 * <p>Every entry applied after {@link #floor()} is held: an image of version {@code v >= floor}
 * becomes the newest by applying, in order, the entries {@link #since(long) since(v)} (a version
 * is the index of the last entry that changed the image, and entries that changed nothing are
 * held too, so applying one again changes nothing). Not thread-safe: the state machine guards it
 * together with its image.
 */
final class RecentEntries {
    record Entry(long index, long term, byte[] data) {
    }

    private final int maxEntries;
    private final long maxBytes;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long bytes;
    private long floor;

    RecentEntries(int maxEntries, long maxBytes) {
        if (maxEntries < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("at least one entry and one byte: " + maxEntries + ", " + maxBytes);
        }
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    /** Forgets every entry: the image was replaced by one of {@code version} (a snapshot loaded). */
    void reset(long version) {
        entries.clear();
        bytes = 0;
        floor = version;
    }

    /**
     * An entry applied after every one held; the oldest ones go once a bound is passed. One that
     * is not past them (the state machine applied an index again) makes every older entry
     * unusable: the floor moves past them.
     */
    void add(long index, long term, byte[] data) {
        Entry last = entries.peekLast();
        long held = last == null ? floor : last.index();
        if (index <= held) {
            reset(held);
            return;
        }
        entries.addLast(new Entry(index, term, data));
        bytes += data.length;
        while (entries.size() > 1 && (entries.size() > maxEntries || bytes > maxBytes)) {
            Entry dropped = entries.removeFirst();
            bytes -= dropped.data().length;
            floor = dropped.index();
        }
    }

    /** Below this version an image cannot be brought up to date from the entries held. */
    long floor() {
        return floor;
    }

    /**
     * The entries past {@code version}, in order, or null when some of them are no longer held
     * ({@code version} below the floor).
     */
    List<Entry> since(long version) {
        if (version < floor) {
            return null;
        }
        List<Entry> after = new ArrayList<>();
        for (var it = entries.descendingIterator(); it.hasNext(); ) {
            Entry entry = it.next();
            if (entry.index() <= version) {
                break;
            }
            after.add(entry);
        }
        java.util.Collections.reverse(after);
        return after;
    }

    int size() {
        return entries.size();
    }
}
