package io.spate.processing;

import io.spate.log.AbortedTxn;
import io.spate.log.LogError;
import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import io.spate.record.ControlBatches;
import io.spate.record.Record;
import io.spate.record.RecordBatch;
import io.spate.record.RecordReader;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import io.spate.stream.engine.InputRecord;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An input partition this node holds a replica of, read in place from its log: no fetch request,
 * no socket, no copy beyond the one read into the heap. It reads what consumers could read
 * (up to the high watermark; exactly-once: up to the last stable offset, skipping aborted
 * transactions as a read_committed consumer does), so a task never sees data that a leader
 * change could take back.
 */
final class LocalInput implements TaskInput {
    private final Partition partition;
    private final TopicPartition topicPartition;
    private final ReadBound bound;
    private final RecordReader reader = new RecordReader(PartitionLog.decompressor());
    private final RecordBatch batch = new RecordBatch();
    /** The leader epoch of the batch the last {@link #poll} read last, -1 before any. */
    private int lastEpoch = -1;

    LocalInput(Partition partition, boolean readCommitted) {
        this.partition = partition;
        this.topicPartition = new TopicPartition(partition.topicPartition().topic(), partition.topicPartition().partition());
        this.bound = readCommitted ? ReadBound.LAST_STABLE : ReadBound.HIGH_WATERMARK;
    }

    Partition partition() {
        return partition;
    }

    ReadBound bound() {
        return bound;
    }

    /**
     * The partition leader epoch of the batch that holds the record just below the position the
     * last {@link #poll} returned (when that poll moved it), or -1 before any. With that position,
     * what tells whether the log still holds those records or an unclean election replaced them.
     */
    int lastEpoch() {
        return lastEpoch;
    }

    @Override
    public TopicPartition topicPartition() {
        return topicPartition;
    }

    @Override
    public long poll(long position, int maxRecords, int maxBytes, List<InputRecord> into) throws IOException {
        return poll(position, maxRecords, maxBytes, into, Long.MAX_VALUE);
    }

    /**
     * As {@link #poll(long, int, int, List)}, taking no record at or past {@code until}: having
     * passed every offset below it, it returns {@code until}, and {@link #lastEpoch} is then that
     * of the batch holding the offset just below it.
     */
    long poll(long position, int maxRecords, int maxBytes, List<InputRecord> into, long until) throws IOException {
        if (position >= until || position >= partition.readLimit(bound)) {
            return position;
        }
        LogReadResult read = TaskInterrupts.shielded(() -> partition.read(position, maxBytes, bound, true));
        if (read.error() == LogError.OFFSET_OUT_OF_RANGE) {
            if (position >= read.logStartOffset()) {
                // Past this replica's end: a copy still catching up on what the task already took.
                return position;
            }
            throw new PositionOutOfRangeException(topicPartition, position, read.logStartOffset(), read.logEndOffset());
        }
        if (read.error() != LogError.NONE) {
            throw new IOException("cannot read " + topicPartition + " at " + position + ": " + read.error());
        }
        if (read.sizeInBytes() == 0) {
            return position;
        }
        ByteBuffer bytes;
        try {
            bytes = TaskInterrupts.shielded(() -> read.slice().readIntoHeap());
        } finally {
            read.slice().release();
        }
        List<AbortedTxn> aborted = new ArrayList<>(read.abortedTransactions());
        aborted.sort((a, b) -> Long.compare(a.firstOffset(), b.firstOffset()));
        int nextAborted = 0;
        Set<Long> abortedProducers = new HashSet<>();
        long next = position;
        int taken = 0;
        int at = 0;
        String topic = topicPartition.topic();
        int p = topicPartition.partition();
        while (at + RecordBatch.LOG_OVERHEAD <= bytes.limit()) {
            batch.wrap(bytes, at);
            int size = batch.sizeInBytes();
            if (at + size > bytes.limit()) {
                break;
            }
            if (batch.baseOffset() >= until) {
                return until; // batches hold no offsets between them: everything below until is passed
            }
            at += size;
            lastEpoch = batch.partitionLeaderEpoch();
            while (nextAborted < aborted.size() && aborted.get(nextAborted).firstOffset() <= batch.lastOffset()) {
                abortedProducers.add(aborted.get(nextAborted++).producerId());
            }
            if (batch.isControl()) {
                ControlBatches.EndTxnMarker marker = ControlBatches.readMarker(batch);
                if (marker != null && !marker.commit()) {
                    abortedProducers.remove(batch.producerId());
                }
                next = batch.lastOffset() + 1;
                continue;
            }
            if (batch.isTransactional() && abortedProducers.contains(batch.producerId())) {
                next = batch.lastOffset() + 1;
                continue;
            }
            reader.open(batch);
            while (reader.hasNext()) {
                Record record = reader.next();
                if (record.offset() < position) {
                    continue;
                }
                if (record.offset() >= until) {
                    return until;
                }
                into.add(new InputRecord(topic, p, record.offset(), record.timestamp(), bytesOf(record.hasKey() ? record.key() : null),
                        bytesOf(record.hasValue() ? record.value() : null), batch.isLogAppendTime()));
                next = record.offset() + 1;
                if (++taken >= maxRecords) {
                    return next;
                }
            }
            next = Math.max(next, batch.lastOffset() + 1);
        }
        return Math.min(next, until); // a skipped batch may run past until
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    @Override
    public long lag(long position) {
        return Math.max(0, partition.readLimit(bound) - position);
    }

    @Override
    public long end() {
        return partition.readLimit(bound);
    }

    @Override
    public long earliest() {
        return partition.log().logStartOffset();
    }

    @Override
    public void close() {
    }
}
