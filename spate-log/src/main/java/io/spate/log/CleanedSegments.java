package io.spate.log;

import io.spate.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The output of one compaction of the sealed segments covering {@code [from, to)}: new segment
 * files, each at most {@code segment.bytes}, written into a folder of their own and swapped
 * into the log in one step.
 *
 * <p>Crash safety: the files are written and fsynced in {@code FROM-TO.cleaning/}, a manifest
 * names them, and renaming the folder to {@code FROM-TO.swap} is the commit point. A
 * {@code .cleaning} folder found at start-up is discarded (the old segments are intact); a
 * {@code .swap} folder is completed (see {@link PartitionLog}), which is idempotent, so a crash
 * during the completion itself is harmless too.
 */
public final class CleanedSegments implements AutoCloseable {
    static final String CLEANING_SUFFIX = ".cleaning";
    static final String SWAP_SUFFIX = ".swap";
    static final String MANIFEST = "manifest";

    private final PartitionLog log;
    private final long from;
    private final long to;
    private final long maxSegmentBytes;
    private final Path folder;
    private final List<Path> files = new ArrayList<>();
    private FileChannel current;
    private long currentSize;
    private long currentBase;
    /** Where the next batch kept may start: batches go in offset order, within [from, to). */
    private long nextOffset;
    private boolean committed;

    CleanedSegments(PartitionLog log, long from, long to, long maxSegmentBytes) throws IOException {
        this.log = log;
        this.from = from;
        this.to = to;
        this.maxSegmentBytes = Math.min(maxSegmentBytes, Integer.MAX_VALUE);
        this.folder = log.dir().resolve(from + "-" + to + CLEANING_SUFFIX);
        this.nextOffset = from;
        deleteFolder(folder);
        // Not createDirectories: a log deleted meanwhile has no directory, and making it again
        // would leave an empty one, taken for a stored log.
        Files.createDirectory(folder);
    }

    public long from() {
        return from;
    }

    public long to() {
        return to;
    }

    /** Files written so far. */
    public int segmentCount() {
        return files.size();
    }

    /**
     * Appends whole, valid batches in offset order. A new file starts when the next batch would
     * take the current one past {@code segment.bytes}, or end more than 2^31 offsets past its base
     * (a segment's indexes hold offsets relative to it as ints: sparse keys, compacted, can spread
     * a few records over billions of offsets); the first file is named after {@code from} so that
     * the log start does not move, the others after their first batch.
     */
    public void append(ByteBuffer batches) throws IOException {
        RecordBatch view = new RecordBatch();
        int position = batches.position();
        while (position < batches.limit()) {
            view.wrap(batches, position);
            int size = view.sizeInBytes();
            // The base offset lies outside the CRC: one read wrong would be written down as the
            // batch's offset for good (found by the replication simulation with compaction and
            // wrong reads, where a log's end jumped by 2^53). Such a pass fails; the log is unchanged.
            if (view.baseOffset() < nextOffset || view.lastOffset() < view.baseOffset() || view.lastOffset() >= to) {
                throw new IOException("a batch to keep reads back at offsets " + view.baseOffset() + ".." + view.lastOffset()
                        + ", outside [" + nextOffset + ", " + to + ") of " + log.topicPartition() + "'s compaction: read wrong");
            }
            nextOffset = view.lastOffset() + 1;
            if (current == null) {
                startFile(from);
            }
            if (currentSize > 0 && currentSize + size > maxSegmentBytes || view.lastOffset() - currentBase > Integer.MAX_VALUE) {
                startFile(view.baseOffset());
            }
            ByteBuffer one = batches.duplicate().limit(position + size).position(position);
            while (one.hasRemaining()) {
                current.write(one);
            }
            currentSize += size;
            position += size;
        }
    }

    private void startFile(long baseOffset) throws IOException {
        finishFile();
        Path file = folder.resolve(LogSegment.fileName(baseOffset));
        current = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        currentSize = 0;
        currentBase = baseOffset;
        files.add(file);
    }

    private void finishFile() throws IOException {
        if (current != null) {
            current.force(true);
            current.close();
            current = null;
        }
    }

    /**
     * Makes the output durable, commits it and swaps it into the log.
     *
     * @return false when the log changed meanwhile (retention, truncation): nothing was replaced
     */
    public boolean commit() throws IOException {
        prepare();
        committed = log.swapIn(folder, from, to);
        return committed;
    }

    /** Fsyncs the files and writes the manifest: everything but the commit itself. */
    Path prepare() throws IOException {
        if (files.isEmpty()) {
            startFile(from); // everything was removed: an empty segment keeps the log start in place
        }
        finishFile();
        StringBuilder manifest = new StringBuilder();
        for (Path file : files) {
            manifest.append(file.getFileName()).append('\n');
        }
        LogManager.writeAtomically(folder.resolve(MANIFEST), manifest.toString());
        return folder;
    }

    /** Discards the output unless it was committed. */
    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
        if (!committed) {
            deleteFolder(folder);
        }
    }

    static void deleteFolder(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
