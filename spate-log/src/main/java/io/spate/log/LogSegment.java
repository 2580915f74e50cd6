package io.spate.log;

import io.spate.record.InvalidRecordBatchException;
import io.spate.record.RecordBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One file of a partition log: record batches laid end to end exactly as producers sent them,
 * named after the offset of its first batch ({@code 00000000000000000042.log}).
 *
 * <p>Threading: one appender at a time (the partition's append lock); any number of readers.
 * Readers only look below {@link #size()}, which moves after the bytes are written. The file is
 * reference-counted so that a read in flight (a file region on its way to a socket) keeps it
 * open while retention deletes it.
 */
public final class LogSegment {
    private static final ThreadLocal<ByteBuffer> HEADER = ThreadLocal.withInitial(() -> ByteBuffer.allocate(RecordBatch.HEADER_SIZE));

    private final long baseOffset;
    private volatile Path file;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex = new OffsetIndex();
    private final TimeIndex timeIndex = new TimeIndex();
    private final AbortedTxnIndex abortedTxns = new AbortedTxnIndex();
    private final RecentBatches recent = new RecentBatches();
    private final int indexIntervalBytes;
    private final AtomicInteger references = new AtomicInteger(1);

    private volatile int size;
    private volatile long nextOffset;
    private volatile long maxTimestamp = RecordBatch.NO_TIMESTAMP;
    private volatile long offsetOfMaxTimestamp = -1;
    private volatile boolean flushed = true;
    /** The size the last fsync covered. */
    private volatile int syncedBytes;
    private int bytesSinceIndexEntry;
    private long firstAppendMs = -1;
    private volatile boolean deleteOnRelease;
    /** Set by a cut that left the next offset past the end of the last batch (a cut inside a gap), or may have. */
    private volatile boolean endsInGap;

    private LogSegment(Path file, long baseOffset, FileChannel channel, int indexIntervalBytes) {
        this.file = file;
        this.baseOffset = baseOffset;
        this.channel = channel;
        this.indexIntervalBytes = indexIntervalBytes;
        this.nextOffset = baseOffset;
    }

    public static String fileName(long baseOffset) {
        return String.format("%020d.log", baseOffset);
    }

    static LogSegment create(Path dir, long baseOffset, int indexIntervalBytes) throws IOException {
        Path file = dir.resolve(fileName(baseOffset));
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.truncate(0);
        return new LogSegment(file, baseOffset, channel, indexIntervalBytes);
    }

    static LogSegment open(Path file, int indexIntervalBytes) throws IOException {
        String name = file.getFileName().toString();
        long base = Long.parseLong(name.substring(0, name.length() - ".log".length()));
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long fileSize = channel.size();
        if (fileSize > Integer.MAX_VALUE) {
            channel.close();
            // Positions inside a segment are ints; Spate never writes a larger one (rolls and
            // compaction both cap segments at segment.bytes <= 2 GiB - 1).
            throw new IOException(file + " is " + fileSize + " bytes, larger than a segment can be (2 GiB - 1)");
        }
        LogSegment segment = new LogSegment(file, base, channel, indexIntervalBytes);
        segment.size = (int) fileSize;
        segment.syncedBytes = segment.size;
        return segment;
    }

    public long baseOffset() {
        return baseOffset;
    }

    public int size() {
        return size;
    }

    /** Offset after the last batch of this segment. */
    public long nextOffset() {
        return nextOffset;
    }

    /**
     * Whether a cut since this segment was opened may have left its batches ending before
     * {@link #nextOffset()}: a load, which knows only the batches, would see a gap there.
     */
    boolean mayEndInGap() {
        return endsInGap;
    }

    public long maxTimestamp() {
        return maxTimestamp;
    }

    long offsetOfMaxTimestamp() {
        return offsetOfMaxTimestamp;
    }

    long firstAppendMs() {
        return firstAppendMs;
    }

    public FileChannel channel() {
        return channel;
    }

    /** The file's modification time, -1 when it cannot be read. */
    long lastModifiedMs() {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    Path file() {
        return file;
    }

    /** The transactions aborted by a marker in this segment. */
    AbortedTxnIndex abortedTxns() {
        return abortedTxns;
    }

    /**
     * Appends already validated and numbered batches in one write. On an I/O error (a full
     * disk) the file is cut back to where it was, so the segment stays a sequence of whole
     * batches.
     */
    void append(ByteBuffer batches, long nowMs) throws IOException {
        int startSize = size;
        int length = batches.remaining();
        int from = batches.position();
        try {
            long position = startSize;
            while (batches.hasRemaining()) {
                position += channel.write(batches, position);
            }
        } catch (IOException e) {
            try {
                channel.truncate(startSize);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            batches.position(from);
            throw e;
        }
        indexAppended(batches, from, from + length, startSize);
        if (firstAppendMs < 0) {
            firstAppendMs = nowMs;
        }
        flushed = false;
        size = startSize + length;
    }

    private void indexAppended(ByteBuffer buffer, int from, int to, int filePosition) {
        RecordBatch batch = new RecordBatch();
        int position = from;
        while (position < to) {
            batch.wrap(buffer, position);
            int batchSize = batch.sizeInBytes();
            onBatch(batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp(), filePosition + (position - from), batchSize);
            position += batchSize;
        }
    }

    private void onBatch(long base, long last, long batchMaxTimestamp, int filePosition, int batchSize) {
        if (bytesSinceIndexEntry >= indexIntervalBytes || offsetIndex.entries() == 0) {
            offsetIndex.append((int) (base - baseOffset), filePosition);
            bytesSinceIndexEntry = 0;
        }
        bytesSinceIndexEntry += batchSize;
        if (batchMaxTimestamp > maxTimestamp) {
            maxTimestamp = batchMaxTimestamp;
            offsetOfMaxTimestamp = last;
            timeIndex.maybeAppend(batchMaxTimestamp, (int) (base - baseOffset));
        }
        recent.add((int) (last - baseOffset), filePosition);
        nextOffset = last + 1;
        endsInGap = false;
    }

    boolean isFlushed() {
        return flushed;
    }

    /** Bytes written since the last fsync began (all of them, for a segment a crashed process left). */
    int unsyncedBytes() {
        return size - syncedBytes;
    }

    /**
     * What this process did not write may still be only in the page cache: a segment opened
     * after a crash, past the recovery point, is synced by the next flush like one it appended to.
     */
    void markUnflushed() {
        flushed = false;
        syncedBytes = 0;
    }

    /**
     * Fsyncs the segment unless nothing was written since the last fsync began. Callers on
     * different threads (a log's flush under its flush lock, a compacted log's roll under its
     * append lock) wait for each other: the flag is set before the fsync, so that a write during
     * it is synced by the next one, and a second caller that found it set while the first one's
     * fsync was still running would have returned with the bytes not yet on disk.
     */
    void flush() throws IOException {
        synchronized (fsyncLock) {
            if (!flushed) {
                flushed = true;
                int sizeNow = size;
                try {
                    channel.force(false);
                    syncedBytes = sizeNow;
                } catch (IOException e) {
                    flushed = false;
                    throw e;
                }
            }
        }
    }

    /** Held through an fsync; taken under no other lock of this segment (appends never take it). */
    private final Object fsyncLock = new Object();

    /**
     * What a scan of the file found: the bytes that hold whole, valid batches from the start
     * of the file, and, when something else follows them, what it is.
     *
     * @param validBytes   bytes from the start of the file that are whole valid batches
     * @param problem      null when the whole file is valid; else what is wrong at {@code validBytes}
     * @param tornTail     the bad bytes are what a write cut short by a crash leaves behind: they
     *                     run to the end of the file and hold no whole batch after the bad one
     * @param lastEpoch    the leader epoch of the last batch believed, or the one the scan was
     *                     given when it believed none
     * @param tornBase     the base offset the torn batch's header gives, read the same twice, or
     *                     -1 when none was
     * @param shortTail    fewer bytes than a batch header follow the valid ones: no synced batch
     *                     can be there (each is whole and longer), unless the file's size is damaged
     */
    record LoadOutcome(int validBytes, String problem, boolean tornTail, int lastEpoch, long tornBase, boolean shortTail) {
        boolean clean() {
            return problem == null;
        }
    }

    /**
     * Scans the file, rebuilding the indexes and what the segment knows of its batches. With
     * {@code validate} every batch is read whole and its CRC checked; without it only headers
     * are read (data below the recovery point, known to have been fsynced), except for control
     * batches: a transaction marker is read whole and checked even then, since one wrong bit in
     * its record would turn a commit into an abort. The visitor sees a control batch whole and
     * any other batch as its header alone unless {@code validate}. The scan stops at
     * the first bad batch and reports it; it never changes the file: whether the rest is a torn
     * tail to cut or corruption to keep is the log's decision, not the segment's.
     *
     * <p>The size of a stored batch is never judged against today's {@code max.message.bytes}:
     * the limit applies to what producers send, and may have been lowered since the batch was
     * written.
     */
    LoadOutcome load(boolean validate, BatchVisitor visitor) throws IOException {
        return load(validate, visitor, Integer.MIN_VALUE);
    }

    /** As {@link #load(boolean, BatchVisitor)}, knowing the leader epoch of the last batch before this segment ({@code Integer.MIN_VALUE}: none known). */
    LoadOutcome load(boolean validate, BatchVisitor visitor, int epochBefore) throws IOException {
        long fileSize = channel.size();
        int position = 0;
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        ByteBuffer secondRead = validate ? null : ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        RecordBatch view = new RecordBatch();
        ByteBuffer whole = null;
        String problem = null;
        boolean tornTail = false;
        long tornBase = -1;
        boolean shortTail = false;
        PendingJump jump = null;
        int lastEpoch = epochBefore;
        scan:
        while (position < fileSize) {
            long remaining = fileSize - position;
            if (remaining < RecordBatch.HEADER_SIZE) {
                problem = remaining + " byte(s) at the end of the file are less than a batch header";
                tornTail = true;
                shortTail = true;
                break;
            }
            // A problem is read twice before it counts: a read that returns a wrong bit once (the
            // platter intact) must not make recovery cut or set aside data that is good.
            long firstReadBase = -1;
            for (int read = 1; ; read++) {
                boolean confirmed = read == 2;
                if (validate) {
                    header.clear();
                    readFully(header, position);
                } else {
                    // Only the header is read (no CRC covers what is used of it): it must read the same twice.
                    readHeaderTwice(header, secondRead, position);
                }
                view.wrap(header, 0);
                int batchSize = view.sizeInBytes();
                if (batchSize < RecordBatch.HEADER_SIZE || view.magic() != RecordBatch.MAGIC_V2) {
                    if (!confirmed) {
                        continue;
                    }
                    // Without a length there is no telling where a next batch would start: treat it as
                    // the end of what was written (zeros or garbage a crash leaves past the last write).
                    problem = "no batch header here (length " + batchSize + ", magic " + view.magic() + ")";
                    tornTail = true;
                    break scan;
                }
                if (batchSize > remaining) {
                    if (!confirmed) {
                        firstReadBase = view.baseOffset();
                        continue;
                    }
                    problem = "a batch of " + batchSize + " bytes runs past the end of the file (" + remaining + " bytes left)";
                    tornTail = true;
                    tornBase = view.baseOffset() == firstReadBase ? firstReadBase : -1;
                    break scan;
                }
                if (validate || view.isControl()) {
                    if (whole == null || whole.capacity() < batchSize) {
                        whole = ByteBuffer.allocate(Math.max(batchSize, 64 * 1024));
                    }
                    whole.clear().limit(batchSize);
                    readFully(whole, position);
                    whole.flip();
                    long headerBase = view.baseOffset();
                    int headerEpoch = view.partitionLeaderEpoch();
                    try {
                        view.wrap(whole, 0).validate(batchSize);
                        // Length and base offset lie outside the CRC: the two reads must agree on them.
                        if (view.sizeInBytes() != batchSize || view.baseOffset() != headerBase || view.partitionLeaderEpoch() != headerEpoch) {
                            throw new InvalidRecordBatchException("the batch reads back as " + view.sizeInBytes() + " bytes from offset "
                                    + view.baseOffset() + " at epoch " + view.partitionLeaderEpoch() + ", its header as " + batchSize
                                    + " bytes from offset " + headerBase + " at epoch " + headerEpoch);
                        }
                    } catch (InvalidRecordBatchException e) {
                        if (!confirmed) {
                            firstReadBase = headerBase;
                            continue;
                        }
                        problem = e.getMessage();
                        // A whole valid batch after the bad one means the bad one was damaged in
                        // place (a bit flip, a torn page), not cut short by a crash.
                        tornTail = !validBatchAfter(position + (long) batchSize, fileSize);
                        tornBase = headerBase == firstReadBase ? headerBase : -1;
                        break scan;
                    }
                }
                long expected = jump != null ? jump.lastOffset() + 1 : nextOffset;
                int epoch = view.partitionLeaderEpoch();
                boolean offsetBack = view.baseOffset() < expected && (position > 0 || jump != null) || view.baseOffset() < baseOffset;
                boolean epochBack = epoch < (jump != null ? jump.epoch() : lastEpoch);
                if (offsetBack || epochBack) {
                    if (!confirmed) {
                        continue;
                    }
                    if (jump != null && view.baseOffset() >= nextOffset && epoch >= lastEpoch) {
                        // This batch follows the one before the jump: the jump is what is wrong.
                        // The base offset and the leader epoch lie outside the CRC, so one changed
                        // bit there passes every check of its own batch (found by the replication
                        // simulation with bits rotting on the platter: the bad batch was kept, and
                        // the log ended 2^36 offsets too far).
                        problem = "the batch at offset " + jump.baseOffset() + " (leader epoch " + jump.epoch() + ") jumps ahead of offset "
                                + (nextOffset - 1) + (lastEpoch == Integer.MIN_VALUE ? "" : " (leader epoch " + lastEpoch + ")")
                                + ", and the next batch, at offset " + view.baseOffset() + " (leader epoch " + epoch
                                + "), follows the one before: a damaged " + (offsetBack ? "base offset" : "leader epoch");
                        position = jump.position();
                        jump = null;
                        tornTail = false;
                        break scan;
                    }
                    if (jump != null) {
                        lastEpoch = jump.epoch();
                        jump = commit(jump, visitor);
                    }
                    problem = offsetBack ? "batch offset " + view.baseOffset() + " does not follow offset " + (nextOffset - 1)
                            : "the batch at offset " + view.baseOffset() + " has leader epoch " + epoch + ", below the " + lastEpoch
                            + " of the batch before it";
                    tornTail = !validBatchAfter(position + (long) batchSize, fileSize);
                    break scan;
                }
                if (jump != null) {
                    lastEpoch = jump.epoch();
                    jump = commit(jump, visitor);
                }
                boolean offsetAhead = view.baseOffset() > nextOffset && (position > 0 || view.baseOffset() > baseOffset);
                boolean epochAhead = lastEpoch != Integer.MIN_VALUE && epoch > lastEpoch;
                if (offsetAhead || epochAhead || position == 0) {
                    // A jump ahead (compaction leaves offset gaps, a new leader a higher epoch, and
                    // damage may do either), or a segment's first batch, whose epoch the batch
                    // before may not tell: believed once the next batch, if any, follows it.
                    jump = PendingJump.of(view, position, batchSize, validate || view.isControl() ? whole : header);
                } else {
                    onBatch(view.baseOffset(), view.lastOffset(), view.maxTimestamp(), position, batchSize);
                    if (visitor != null) {
                        visitor.onBatch(view);
                    }
                    lastEpoch = epoch;
                }
                position += batchSize;
                break;
            }
        }
        if (jump != null) {
            lastEpoch = jump.epoch();
            commit(jump, visitor);
        }
        size = position;
        syncedBytes = Math.min(syncedBytes, size);
        return new LoadOutcome(position, problem, tornTail, lastEpoch, tornTail ? tornBase : -1, tornTail && shortTail);
    }

    /**
     * A batch whose base offset or leader epoch jumps ahead of the batch before, held back until
     * the next batch says whether to believe it.
     */
    private record PendingJump(long baseOffset, long lastOffset, int epoch, long maxTimestamp, int position, int size, ByteBuffer bytes) {
        static PendingJump of(RecordBatch view, int position, int size, ByteBuffer read) {
            ByteBuffer copy = ByteBuffer.allocate(read.limit());
            copy.put(read.duplicate().position(0)).flip();
            return new PendingJump(view.baseOffset(), view.lastOffset(), view.partitionLeaderEpoch(), view.maxTimestamp(), position, size, copy);
        }
    }

    /** Indexes {@code jump} (and shows it to the visitor) now that it is believed; returns null. */
    private PendingJump commit(PendingJump jump, BatchVisitor visitor) {
        if (jump != null) {
            onBatch(jump.baseOffset(), jump.lastOffset(), jump.maxTimestamp(), jump.position(), jump.size());
            if (visitor != null) {
                visitor.onBatch(new RecordBatch().wrap(jump.bytes(), 0));
            }
        }
        return null;
    }

    /**
     * Reads the header at {@code position} until two reads in a row agree (at most four reads):
     * a read that returns a wrong bit once must not put a wrong offset or length into the index.
     */
    private void readHeaderTwice(ByteBuffer header, ByteBuffer secondHeaderRead, long position) throws IOException {
        header.clear();
        readFully(header, position);
        for (int read = 2; read <= 4; read++) {
            secondHeaderRead.clear();
            readFully(secondHeaderRead, position);
            if (secondHeaderRead.flip().equals(header.duplicate().flip())) {
                return;
            }
            header.clear();
            header.put(secondHeaderRead);
        }
        throw new IOException("the batch header at byte " + position + " of " + file + " reads back differently each time");
    }

    /** Cuts the file back to {@code validBytes} (a torn tail after a crash) and makes the cut durable. */
    void cutTail(int validBytes) throws IOException {
        recent.truncateToPosition(validBytes);
        channel.truncate(validBytes);
        channel.force(true);
        size = validBytes;
        syncedBytes = Math.min(syncedBytes, size);
    }

    /** Whether a whole valid batch starts at {@code position}; a "no" is read twice (see {@link #load}). */
    private boolean validBatchAfter(long position, long fileSize) throws IOException {
        return validBatchAt(position, fileSize) || validBatchAt(position, fileSize);
    }

    private boolean validBatchAt(long position, long fileSize) throws IOException {
        if (position + RecordBatch.HEADER_SIZE > fileSize) {
            return false;
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD);
        readFully(header, position);
        int size = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        if (size < RecordBatch.HEADER_SIZE || position + size > fileSize) {
            return false;
        }
        ByteBuffer batch = ByteBuffer.allocate(size);
        readFully(batch, position);
        batch.flip();
        try {
            new RecordBatch().wrap(batch, 0).validate(size);
            return true;
        } catch (InvalidRecordBatchException e) {
            return false;
        }
    }

    private int readFully(ByteBuffer into, long position) throws IOException {
        int total = 0;
        while (into.hasRemaining()) {
            int n = channel.read(into, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /**
     * File position of the first batch whose last offset is at or after {@code offset}, or -1
     * when every batch below {@code limit} ends before it.
     */
    int positionOf(long offset, int limit) {
        if (offset >= baseOffset && offset - baseOffset <= Integer.MAX_VALUE) {
            int known = recent.positionOf((int) (offset - baseOffset), limit);
            if (known != RecentBatches.UNKNOWN) {
                return known;
            }
        }
        return walkedPositionOf(offset, limit);
    }

    /** {@link #positionOf} found by reading the batch headers from the nearest offset-index entry on. */
    int walkedPositionOf(long offset, int limit) {
        ByteBuffer header = HEADER.get();
        int start = offsetIndex.floorPosition((int) Math.max(0, offset - baseOffset));
        try {
            String wrong = null;
            walks:
            for (int walk = 1; walk <= 2; walk++) {
                int position = start;
                while (position + RecordBatch.LOG_OVERHEAD <= limit) {
                    header.clear().limit(RecordBatch.LAST_OFFSET_DELTA_OFFSET + 4);
                    readFully(header, position);
                    long base = header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
                    int batchSize = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
                    long last = base + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
                    if (batchSize < RecordBatch.HEADER_SIZE || position + (long) batchSize > limit || base < baseOffset || last < base) {
                        // Loaded batches were whole and in order: a header that is not was read wrong,
                        // here or (a wrong length) in the header before it, so the walk starts over once;
                        // then the read fails rather than serve from a wrong place.
                        wrong = "the batch header at byte " + position + " of " + file + " reads back wrong (length "
                                + batchSize + ", offsets " + base + ".." + last + ")";
                        continue walks;
                    }
                    if (last >= offset) {
                        return position;
                    }
                    position += batchSize;
                }
                return -1;
            }
            throw new IOException(wrong);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first batch that ends at or after {@code fromOffset} and whose max timestamp is at or
     * after {@code timestamp}, or null.
     */
    ByteBuffer batchForTimestamp(long timestamp, long fromOffset) throws IOException {
        int limit = size;
        int position = positionOf(Math.max(baseOffset + timeIndex.startOffsetFor(timestamp), fromOffset), limit);
        if (position < 0) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
        while (position + RecordBatch.HEADER_SIZE <= limit) {
            header.clear();
            readFully(header, position);
            if (header.getLong(RecordBatch.MAX_TIMESTAMP_OFFSET) >= timestamp) {
                return readBatch(position);
            }
            position += RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        }
        return null;
    }

    /** The whole batch that holds {@code offset}, or null when no batch of this segment reaches it. */
    ByteBuffer batchHolding(long offset) throws IOException {
        int position = positionOf(offset, size);
        return position < 0 ? null : readBatch(position);
    }

    /** Reads the whole batch that starts at {@code position}. */
    ByteBuffer readBatch(int position) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(RecordBatch.LOG_OVERHEAD);
        readFully(header, position);
        int batchSize = RecordBatch.LOG_OVERHEAD + header.getInt(RecordBatch.LENGTH_OFFSET);
        ByteBuffer batch = ByteBuffer.allocate(batchSize);
        readFully(batch, position);
        return batch.flip();
    }

    /** Reads {@code length} bytes at {@code position} into a new heap buffer. */
    public ByteBuffer readBytes(int position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        readFully(buffer, position);
        return buffer.flip();
    }

    /** Cuts the segment so that it ends before {@code offset}; returns the new size. */
    int truncateTo(long offset) throws IOException {
        int position = cutPositionFor(offset);
        return position < 0 ? size : cutAt(position, offset);
    }

    /**
     * Where a cut that makes the segment end before {@code offset} goes, or -1 when no batch of it
     * reaches that far. A cut destroys what lies past it: where it goes is read twice, and a batch
     * that seems to hold the cut is looked for once more, so that one wrong read neither cuts a
     * good batch nor stops a follower.
     */
    int cutPositionFor(long offset) throws IOException {
        int position = agreedPositionOf(offset);
        if (position >= 0 && baseOffsetAt(position) < offset) {
            position = agreedPositionOf(offset);
            if (position >= 0 && baseOffsetAt(position) < offset) {
                throw new IllegalStateException("cannot truncate " + file + " to " + offset + ": it falls inside a batch");
            }
        }
        return position;
    }

    /** Cuts the segment at {@code position}, found by {@link #cutPositionFor} for {@code offset}. */
    int cutAt(int position, long offset) throws IOException {
        channel.truncate(position);
        flushed = false; // the cut is not durable until the next flush
        size = position;
        syncedBytes = Math.min(syncedBytes, size);
        nextOffset = offset;
        offsetIndex.truncateToPosition(position);
        recent.truncateToPosition(position);
        int end = recent.newestEnd();
        endsInGap |= end == RecentBatches.UNKNOWN || baseOffset + end < offset;
        timeIndex.truncateToRelativeOffset((int) (offset - baseOffset));
        abortedTxns.cutFrom(offset);
        // The newest timestamp may have been cut away: kept, it answered ListOffsets' MAX_TIMESTAMP
        // with an offset no longer there (or refilled by other records), kept later batches out
        // of the time index and held time retention back. The surviving index says what is left.
        long[] newest = timeIndex.lastEntry();
        long newestOffset;
        try {
            newestOffset = newest == null ? -1 : lastOffsetOfBatchAt(positionOf(baseOffset + newest[1], size));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        offsetOfMaxTimestamp = newestOffset;
        maxTimestamp = newest == null ? RecordBatch.NO_TIMESTAMP : newest[0];
        bytesSinceIndexEntry = 0;
        if (size == 0) {
            firstAppendMs = -1;
        }
        return position;
    }

    /** The last offset of the batch at {@code position}. */
    private long lastOffsetOfBatchAt(int position) throws IOException {
        ByteBuffer header = HEADER.get();
        header.clear().limit(RecordBatch.LAST_OFFSET_DELTA_OFFSET + 4);
        readFully(header, position);
        return header.getLong(RecordBatch.BASE_OFFSET_OFFSET) + header.getInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET);
    }

    /**
     * An offset that no batch starting before {@code position} reaches: the base offset of the
     * first indexed batch at or after it, else the segment's next offset. Found in the offset
     * index, without reading the file (a read ending at {@code position} may end inside a batch).
     */
    long offsetBoundAfter(int position) {
        int relative = offsetIndex.relativeOffsetAtOrAfterPosition(position);
        return relative >= 0 ? baseOffset + relative : nextOffset;
    }

    /** {@link #positionOf} as two walks of the headers agree on it (a third and fourth when they differ). */
    private int agreedPositionOf(long offset) throws IOException {
        for (int attempt = 0; attempt < 2; attempt++) {
            int first;
            try {
                first = walkedPositionOf(offset, size);
                if (first == walkedPositionOf(offset, size)) {
                    return first;
                }
            } catch (UncheckedIOException e) {
                if (attempt == 1) {
                    throw e.getCause();
                }
            }
        }
        throw new IOException("reads of " + file + " disagree about where offset " + offset + " is");
    }

    private long baseOffsetAt(int position) throws IOException {
        ByteBuffer header = HEADER.get();
        header.clear().limit(RecordBatch.LOG_OVERHEAD);
        readFully(header, position);
        return header.getLong(RecordBatch.BASE_OFFSET_OFFSET);
    }

    public boolean retain() {
        while (true) {
            int refs = references.get();
            if (refs <= 0) {
                return false;
            }
            if (references.compareAndSet(refs, refs + 1)) {
                return true;
            }
        }
    }

    public void release() {
        if (references.decrementAndGet() == 0) {
            closeChannel();
            if (deleteOnRelease) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the directory sweep at start-up removes what is left
                }
            }
        }
    }

    /**
     * The segment's directory was renamed (for deletion): a release deletes the file there, never
     * one a new log of the same name has since created under the old path.
     */
    void directoryMovedTo(Path newDir) {
        file = newDir.resolve(file.getFileName());
    }

    /**
     * Deletes the file once the last reader is done with it. The file is first renamed to
     * {@code .deleted}, so that a new segment with the same base offset (after a truncation)
     * gets a file of its own instead of the one a reader still holds.
     */
    void markDeleted() {
        if (!renamedForDeletion()) {
            Path renamed = file.resolveSibling(file.getFileName() + ".deleted");
            try {
                Files.move(file, renamed, StandardCopyOption.REPLACE_EXISTING);
                file = renamed;
            } catch (IOException e) {
                // keep the old name; the file is deleted by name on release
            }
        }
        deleteOnRelease = true;
        release();
    }

    /**
     * Renames the file to {@code NAME.deleted} and keeps it open, readable and in the log until
     * {@link #markDeleted()}: a compaction's output takes the name while readers of the range
     * still read this copy (the same data, not yet compacted). Throws when the rename fails: the
     * output must not take a name that a later deletion by name would remove.
     */
    void renameForDeletion() throws IOException {
        if (!renamedForDeletion()) {
            Path renamed = file.resolveSibling(file.getFileName() + ".deleted");
            Files.move(file, renamed, StandardCopyOption.REPLACE_EXISTING);
            file = renamed;
        }
    }

    private boolean renamedForDeletion() {
        return file.getFileName().toString().endsWith(".deleted");
    }

    void close() {
        release();
    }

    /** Marked for deletion (retention, DeleteRecords, compaction, truncation): its data is not wanted any more. */
    boolean deleted() {
        return deleteOnRelease;
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do for a channel we are discarding
        }
    }

    @FunctionalInterface
    public interface BatchVisitor {
        void onBatch(RecordBatch batch);
    }

    @Override
    public String toString() {
        return file.toString() + "[" + baseOffset + ".." + nextOffset + ", " + size + " B]";
    }
}
