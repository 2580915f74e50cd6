package io.spate.processing;

import io.spate.log.AppendOrigin;
import io.spate.log.LogScanner;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import io.spate.replication.Written;
import io.spate.stream.engine.Output;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.Utils;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Exactly-once without a transaction, for a task whose results all go to one partition its node
 * leads (a stateless task writing its co-located output: a filter, a map). The results of one
 * micro-batch become one record batch, appended in place with acks=all, whose first record
 * carries the input position the micro-batch reached (header {@value #POSITION_HEADER}). The log
 * appends a batch whole or not at all, so the results and the position that produced them commit
 * together, in one write; a task that starts again resumes from the last position it finds in its
 * output. Read_committed readers see the results once the high watermark passes them, as
 * at-least-once results, instead of at the next transaction commit.
 *
 * <p>The group's committed position stays the lower bound (and what lag monitors read): it is
 * committed every commit interval with the output partition and the offset from which a restart
 * looks for later batches ({@link Anchor}), and before the first batch that partition gets.
 *
 * <p>A stateful task's store changes go in the same batch ({@link StateDelta}, in a header of its
 * last record): the batch commits results, position and state together. The changelogs are
 * written afterwards, in place; a restart restores them and then applies the changes its output
 * holds past the anchor, which does not move past a batch whose changes are not yet acknowledged
 * in the changelogs. A micro-batch that changed state without a result to carry it is held: its
 * changes go with the next batch, and its position is not committed before then.
 *
 * <p>A result that does not fit (for a second partition, for one led elsewhere, without a key, a
 * table write, more than one batch holds) is {@link NotAnchorable}: nothing of the micro-batch
 * was appended, and the task goes on with a transaction per interval.
 */
final class AnchoredOutput implements Output, AppendRetry.Lookup {
    static final String POSITION_HEADER = "spate.position";
    /** As TaskOutput's batches in place: under the default max.message.bytes (1 MiB). */
    private static final int MAX_BATCH_BYTES = 512 * 1024;
    private static final int BATCH_OVERHEAD = 61;
    private static final int RECORD_OVERHEAD = 32;

    private final String taskKey;
    private final Function<TopicPartition, Partition> localReplicas;
    private final ToIntFunction<String> partitionCount;
    /** The changelogs of the task's stores: what is sent to them is state, carried by the batch. */
    private final java.util.Set<String> changelogTopics;
    private final StateDelta delta = new StateDelta();
    /** A stateful task's last result so far: appended last, with the state header. */
    private byte[] heldKey;
    private byte[] heldValue;
    private long heldTimestamp;
    private boolean holding;
    private TopicPartition target;
    private Partition replica;
    private MemoryRecordsBuilder builder;
    private Header[] position;
    /** The input position the current micro-batch reached: what its batch records. */
    private long nextInput;
    /** The log end before the current batch was appended: the batch lies at or after it. */
    private long appendedFrom;
    private int limit;
    private int records;

    /** The task producer's id and epoch, stamped on each batch so that a newer instance fences it; null: unstamped. */
    private final ProducerIdentity stamp;

    AnchoredOutput(String taskKey, Function<TopicPartition, Partition> localReplicas, ToIntFunction<String> partitionCount,
                   java.util.Set<String> changelogTopics) {
        this(taskKey, localReplicas, partitionCount, changelogTopics, null);
    }

    AnchoredOutput(String taskKey, Function<TopicPartition, Partition> localReplicas, ToIntFunction<String> partitionCount,
                   java.util.Set<String> changelogTopics, ProducerIdentity stamp) {
        this.stamp = stamp;
        this.taskKey = taskKey;
        this.localReplicas = localReplicas;
        this.partitionCount = partitionCount;
        this.changelogTopics = changelogTopics;
    }

    /** The partition the results go to, once the first result chose it. */
    TopicPartition target() {
        return target;
    }

    /** Starts a micro-batch whose input ends before {@code nextInput} (state held from earlier ones stays). */
    void begin(long nextInput) {
        builder = null;
        holding = false;
        records = 0;
        this.nextInput = nextInput;
        position = new Header[] {new RecordHeader(POSITION_HEADER, (taskKey + "@" + nextInput).getBytes(StandardCharsets.UTF_8))};
    }

    @Override
    public void send(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        if (changelogTopics.contains(topic)) {
            delta.add(topic, key, value, timestamp);
            checkStateFits();
            return;
        }
        int target = partition;
        if (partition == BY_KEY) {
            if (key == null) {
                throw new NotAnchorable("a result without a key may go to any partition of " + topic, false);
            }
            target = Utils.toPositive(Utils.murmur2(key)) % partitionCount.applyAsInt(topic);
        }
        TopicPartition tp = new TopicPartition(topic, target);
        if (this.target != null && !this.target.equals(tp)) {
            throw new NotAnchorable("results for " + this.target + " and " + tp, false);
        }
        if (replica == null) {
            Partition local = localReplicas.apply(tp);
            if (local == null || !local.isLeader()) {
                throw new NotAnchorable(tp + " is not led by this node", false, tp);
            }
            if (local.log().config().compact()) {
                // Compaction rewrites batches and drops a key's older records, the first record of a
                // batch among them, which carries its position: a restart would not find that batch,
                // and would process its input again (found by a review).
                throw new NotAnchorable(tp + " is compacted: compaction would drop the positions its batches carry", false);
            }
            this.target = tp;
            replica = local;
        }
        if (builder == null && !holding) {
            // The micro-batch's first result: the bound is read once per batch, not per result.
            limit = Math.min(MAX_BATCH_BYTES, replica.log().config().maxMessageBytes()) - BATCH_OVERHEAD;
        }
        if (changelogTopics.isEmpty()) {
            append(timestamp, key, value, recordSize(key, value), null);
            return;
        }
        // Stateful: the last result carries the state, so each one waits for the next before it is appended.
        if (holding) {
            append(heldTimestamp, heldKey, heldValue, recordSize(heldKey, heldValue), null);
        }
        heldKey = key;
        heldValue = value;
        heldTimestamp = timestamp;
        holding = true;
        records++;
        checkStateFits();
    }

    private void append(long timestamp, byte[] key, byte[] value, int size, Header state) {
        if (builder == null) {
            if (size + position[0].value().length + POSITION_HEADER.length() > limit) {
                throw new NotAnchorable("a result of " + size + " bytes is larger than one batch in place", false);
            }
            builder = MemoryRecords.builder(ByteBuffer.allocate(Math.min(limit, 64 * 1024)), Compression.NONE, TimestampType.CREATE_TIME, 0L);
            builder.append(timestamp, key, value, state == null ? position : new Header[] {position[0], state});
            if (changelogTopics.isEmpty()) {
                records++;
            }
            return;
        }
        if (builder.estimatedSizeInBytes() + size > limit) {
            throw new NotAnchorable("one micro-batch's results are larger than one batch in place", true);
        }
        builder.append(timestamp, key, value, state == null ? Record.EMPTY_HEADERS : new Header[] {state});
        if (changelogTopics.isEmpty()) {
            records++;
        }
    }

    private static int recordSize(byte[] key, byte[] value) {
        return RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
    }

    /** Whether the results so far, the result held and the state changes still fit one batch. */
    private void checkStateFits() {
        int held = !holding ? 0 : recordSize(heldKey, heldValue);
        int carried = (builder == null ? 0 : builder.estimatedSizeInBytes()) + held + delta.estimatedBytes()
                + position[0].value().length + POSITION_HEADER.length() + taskKey.length() * 3 + 32;
        if (carried > (limit > 0 ? limit : MAX_BATCH_BYTES - BATCH_OVERHEAD)) {
            throw new NotAnchorable("one micro-batch's results and store changes are larger than one batch in place", true);
        }
    }

    /** The store changes not yet committed by a batch: written to the changelogs once their batch is acknowledged. */
    StateDelta delta() {
        return delta;
    }

    /** Whether store changes wait for a result to carry them (a micro-batch that changed state and sent nothing). */
    boolean holdsState() {
        return !delta.isEmpty();
    }

    /** The results of the current micro-batch so far. */
    int records() {
        return records;
    }

    @Override
    public void writeTable(String table, byte[] key, byte[] value, long timestamp) {
        throw new NotAnchorable("a table write (table " + table + ") is not part of the output's log", false);
    }

    /**
     * Appends the micro-batch's results, with its position, in one batch, and returns once it is
     * acknowledged (acks=all), a passing failure retried by {@code retry}: before a batch that may
     * have been appended is appended again, its position is looked for in the log
     * ({@link #batchEnd}), so that a reader never sees two batches of one position. False when
     * the micro-batch had no results. Throws {@link TaskOutput.LocalAppendException} when the
     * batch is not acknowledged (a failure that is not passing, or the retries' deadline),
     * {@link TaskOutput.OutputMovedException} when this node no longer leads the partition.
     */
    boolean appendAcknowledged(AppendRetry retry, long nowMs, long streamTimeMs) throws Exception {
        if (holding) {
            Header state = new RecordHeader(StateDelta.HEADER, delta.encode(taskKey, streamTimeMs));
            append(heldTimestamp, heldKey, heldValue, recordSize(heldKey, heldValue) + state.value().length + StateDelta.HEADER.length(), state);
            holding = false;
            heldKey = null;
            heldValue = null;
        }
        if (builder == null) {
            return false;
        }
        ByteBuffer records = builder.build().buffer();
        builder = null;
        if (stamp != null) {
            // Not transactional and without a sequence (kafka-clients' builder refuses that): the log
            // checks only the epoch of such a batch, from a task on the node (AppendOrigin.TASK_IN_PLACE).
            new io.spate.record.RecordBatch().wrap(records, records.position()).stampProducer(stamp.producerId(), stamp.epoch());
        }
        appendedFrom = replica.readLimit(ReadBound.LOG_END);
        int epoch = replica.leaderEpoch();
        CompletableFuture<Written> first = TaskInterrupts.shielded(
                () -> replica.append(records.duplicate(), Acks.ALL, retry.replicationWaitMs(), nowMs, AppendOrigin.TASK_IN_PLACE));
        retry.await(target, replica, records, epoch, first, this, AppendOrigin.TASK_IN_PLACE);
        return true;
    }

    /**
     * Where the current micro-batch's batch ends in {@code output}'s log, read from the log end
     * before it was appended to the log end now, or {@link AppendRetry#NOT_THERE}. Every earlier
     * batch of this task was acknowledged before that log end, so a batch of this task found past
     * it is this one (one other position there means the log is not what this task wrote: it
     * fails, and its next start settles from the output).
     */
    /**
     * Appended again from the log's end now, which a cut under another leadership may have moved
     * below where the first append began: the search starts there too, or it would miss that copy
     * and a third would follow (found by a review). Every earlier batch of this task is committed,
     * so still below it.
     */
    @Override
    public void appendingAgain(Partition output) {
        appendedFrom = Math.min(appendedFrom, output.readLimit(ReadBound.LOG_END));
    }

    @Override
    public long batchEnd(Partition output) throws IOException {
        Found found = lastPosition(output, appendedFrom, taskKey, () -> false, null);
        if (found == null) {
            return AppendRetry.NOT_THERE;
        }
        if (found.position() != nextInput) {
            throw new IOException(output.topicPartition() + " holds position " + found.position() + " of " + taskKey
                    + " past offset " + appendedFrom + " where this task's batch of position " + nextInput + " was appended");
        }
        return found.batchEnd();
    }

    /** The last input position found in a task's output, and the offset just past the batch that records it. */
    record Found(long position, long batchEnd) {
    }

    /**
     * The last input position a batch of this task records in {@code output} from {@code from} on,
     * or null; the store changes of those batches, in order, to {@code states} (when not null).
     * Read to the log's end, not the high watermark: a batch this node appended whose replication
     * was not yet confirmed may still become committed, and must not be written twice (the caller
     * waits for it to be committed before it goes on from it).
     */
    static Found lastPosition(Partition output, long from, String taskKey, java.util.function.BooleanSupplier stopped,
                              java.util.function.Consumer<StateDelta.Decoded> states) throws IOException {
        byte[] prefix = (taskKey + "@").getBytes(StandardCharsets.UTF_8);
        long start = Math.max(from, output.log().logStartOffset());
        long end = output.readLimit(ReadBound.LOG_END); // once: other writers appending meanwhile are not chased
        Found[] found = new Found[1];
        TaskInterrupts.shielded(() -> scan(output, start, end, prefix, taskKey, stopped, states, found));
        return found[0];
    }

    private static Void scan(Partition output, long start, long end, byte[] prefix, String taskKey, java.util.function.BooleanSupplier stopped,
                             java.util.function.Consumer<StateDelta.Decoded> states, Found[] found) throws IOException {
        LogScanner.forEachChunk(output.log(), start, end, chunk -> {
            if (stopped.getAsBoolean()) {
                throw new IOException("stopped while looking for the task's last position in " + output.topicPartition());
            }
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(chunk).batches()) {
                Iterator<Record> records = batch.isControlBatch() ? null : batch.iterator();
                if (records == null || !records.hasNext()) {
                    continue;
                }
                Record first = records.next();
                boolean ours = false;
                for (Header header : first.headers()) {
                    long offset = positionIn(header.key(), header.value(), prefix);
                    if (offset >= 0) {
                        found[0] = new Found(offset, batch.lastOffset() + 1);
                        ours = true;
                    }
                }
                if (ours && states != null) {
                    // A stateful task's changes ride on the batch's last record.
                    Record last = first;
                    while (records.hasNext()) {
                        last = records.next();
                    }
                    for (Header header : last.headers()) {
                        if (StateDelta.HEADER.equals(header.key())) {
                            StateDelta.Decoded decoded = StateDelta.decode(header.value(), taskKey);
                            if (decoded != null) {
                                states.accept(decoded);
                            }
                        }
                    }
                }
            }
        });
        return null;
    }

    /** The position a record header {@code key}={@code value} names for the task of {@code prefix} ("KEY@"), or -1. */
    static long positionIn(String key, byte[] value, String taskKey) {
        return positionIn(key, value, (taskKey + "@").getBytes(StandardCharsets.UTF_8));
    }

    private static long positionIn(String key, byte[] value, byte[] prefix) {
        if (!POSITION_HEADER.equals(key) || value == null || value.length <= prefix.length) {
            return -1;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (value[i] != prefix[i]) {
                return -1;
            }
        }
        try {
            return Long.parseLong(new String(value, prefix.length, value.length - prefix.length, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Where a task's positions live in its output: the partition, and the offset from which batches
     * may be the task's later ones. Kept in the metadata of the group's committed position, after
     * the stream time: {@code out=TOPIC/PARTITION@OFFSET}.
     */
    record Anchor(TopicPartition output, long scanFrom) {
        static final String PREFIX = "out=";

        String metadata() {
            return PREFIX + output.topic() + "/" + output.partition() + "@" + scanFrom;
        }

        /** The anchor in a committed position's metadata ({@code ...;out=...}), or null. */
        static Anchor parse(String metadata) {
            if (metadata == null) {
                return null;
            }
            for (String part : metadata.split(";")) {
                if (!part.startsWith(PREFIX)) {
                    continue;
                }
                int slash = part.lastIndexOf('/');
                int at = part.lastIndexOf('@');
                if (slash < PREFIX.length() || at < slash) {
                    return null;
                }
                try {
                    return new Anchor(new TopicPartition(part.substring(PREFIX.length(), slash), Integer.parseInt(part.substring(slash + 1, at))),
                            Long.parseLong(part.substring(at + 1)));
                } catch (NumberFormatException e) {
                    return null;
                }
            }
            return null;
        }
    }

    /** A result this way of committing cannot take; {@code fewerRecords}: a smaller micro-batch may fit. */
    static final class NotAnchorable extends RuntimeException {
        final boolean fewerRecords;
        /** The output partition another node leads, when that is the reason: once led here, results go in place again. */
        final TopicPartition notLedHere;

        NotAnchorable(String why, boolean fewerRecords) {
            this(why, fewerRecords, null);
        }

        NotAnchorable(String why, boolean fewerRecords, TopicPartition notLedHere) {
            super(why);
            this.fewerRecords = fewerRecords;
            this.notLedHere = notLedHere;
        }

        static NotAnchorable findIn(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof NotAnchorable n) {
                    return n;
                }
            }
            return null;
        }
    }
}
