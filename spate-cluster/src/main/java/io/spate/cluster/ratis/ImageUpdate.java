package io.spate.cluster.ratis;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataCodec;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The leader's answer to a node that asks for the metadata past the version it holds: either the
 * whole newest image, or the log entries it missed, which it applies to its own image exactly as
 * a voter's state machine applied them (same transitions, same term check), reaching the
 * leader's image of {@link #version()}.
 *
 * <p>Wire form: a kind byte; kind 0 is followed by the encoded image; kind 1 by the version the
 * entries lead to, their count, and each entry's index, term, length and bytes.
 */
record ImageUpdate(ClusterImage image, long version, List<RecentEntries.Entry> entries) {
    private static final byte WHOLE_IMAGE = 0;
    private static final byte ENTRIES = 1;
    /** Past this many bytes of entries the whole image is sent instead (it is then about as small, or smaller). */
    static final int MAX_ENTRY_BYTES = 512 * 1024;

    static ImageUpdate whole(ClusterImage image) {
        return new ImageUpdate(image, image.version(), null);
    }

    boolean isWholeImage() {
        return image != null;
    }

    /** What to answer to a node at {@code current} with {@code missed} (null when not all of it is held). */
    static ByteString encode(ClusterImage current, List<RecentEntries.Entry> missed) {
        long entryBytes = 0;
        if (missed != null) {
            for (RecentEntries.Entry entry : missed) {
                entryBytes += entry.data().length;
            }
        }
        if (missed == null || entryBytes > MAX_ENTRY_BYTES) {
            byte[] image = MetadataCodec.encode(current);
            return ByteString.copyFrom(ByteBuffer.allocate(1 + image.length).put(WHOLE_IMAGE).put(image).flip());
        }
        ByteBuffer out = ByteBuffer.allocate((int) (1 + 8 + 4 + missed.size() * 20L + entryBytes));
        out.put(ENTRIES).putLong(current.version()).putInt(missed.size());
        for (RecentEntries.Entry entry : missed) {
            out.putLong(entry.index()).putLong(entry.term()).putInt(entry.data().length).put(entry.data());
        }
        return ByteString.copyFrom(out.flip());
    }

    static ImageUpdate decode(ByteBuffer in) {
        byte kind = in.get();
        if (kind == WHOLE_IMAGE) {
            byte[] image = new byte[in.remaining()];
            in.get(image);
            return whole(MetadataCodec.decodeImage(image));
        }
        if (kind != ENTRIES) {
            throw new IllegalArgumentException("unknown image update kind " + kind);
        }
        long version = in.getLong();
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / 20) {
            throw new IllegalArgumentException("image update with " + count + " entries in " + in.remaining() + " bytes");
        }
        List<RecentEntries.Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long index = in.getLong();
            long term = in.getLong();
            byte[] data = new byte[in.getInt()];
            in.get(data);
            entries.add(new RecentEntries.Entry(index, term, data));
        }
        return new ImageUpdate(null, version, entries);
    }

    /**
     * {@code current} brought forward by the entries past its version. The entries must start at
     * or before it: they are every entry past the version the request named, and an image only
     * moves forward.
     */
    ClusterImage applyTo(ClusterImage current) {
        ClusterImage next = current;
        for (RecentEntries.Entry entry : entries) {
            if (entry.index() > next.version()) {
                next = MetadataStateMachine.applyEntry(next, entry.data(), entry.term(), entry.index()).image();
            }
        }
        return next;
    }
}
