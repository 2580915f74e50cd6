package io.spate.processing;

import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import io.spate.stream.engine.Output;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Utils;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Where a task's micro-batch results go. It partitions by key as Kafka's default partitioner
 * does, so a re-keyed record lands where a Kafka client would have put it, and remembers the
 * first failed write: the task must not commit past it.
 *
 * <p>At-least-once, a result for a partition this node leads is appended to that partition in
 * place, one record batch per partition and micro-batch, as a produce with acks=all would be
 * (the data locality of the reads, kept for the writes: no socket, no request, no copy). Every
 * other result goes through the producer the task writes with (the node's shared idempotent one
 * at-least-once, the task's transactional one exactly-once: a transaction's writes must carry
 * its producer's id, epoch and sequence, which only its producer has).
 */
final class TaskOutput implements Output {
    /** Below the default max.message.bytes (1 MiB): a batch the log would refuse is never built. */
    private static final int LOCAL_BATCH_BYTES = 512 * 1024;
    static final long REPLICATION_WAIT_MS = 30_000;
    /**
     * Bounds of a new batch buffer, sized from the partition's last batch: a 64 KiB buffer per
     * output partition and micro-batch was a quarter of a node's allocation at 10k events/s in
     * millisecond batches, holding a few hundred bytes each.
     */
    private static final int MIN_BATCH_BUFFER_BYTES = 1024;
    /** A v2 batch header, and a record's worst-case framing (varints, attributes, header count). */
    private static final int BATCH_OVERHEAD = 61;
    private static final int RECORD_OVERHEAD = 32;
    /** Per task: below a table coordinator's own bound on pending requests (10,000) with several tasks on a node. */
    static final int MAX_TABLE_WRITES_IN_FLIGHT = 1_000;
    private static final long TABLE_WRITE_WAIT_MS = 120_000;

    private final Producer<byte[], byte[]> producer;
    /** The replica this node holds of a partition, or null; null when every write goes through the producer. */
    private final Function<TopicPartition, Partition> localReplicas;
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private final Map<TopicPartition, MemoryRecordsBuilder> buffered = new LinkedHashMap<>();
    private final Map<TopicPartition, Partition> bufferedFor = new HashMap<>();
    /** Partitions written through the producer since its last flush: an append in place must not overtake them. */
    private final Set<TopicPartition> sentSinceFlush = new HashSet<>();
    /** Appends in place since the last flush, in the order they were made. */
    private final List<Pending> appending = new ArrayList<>();
    /** Retries an append in place that failed for a passing reason; null: none is retried. */
    private final AppendRetry retry;
    /** Partitions appended to in place since the last flush: until acknowledged, nothing for them may overtake. */
    private final Set<TopicPartition> appendedSinceFlush = new HashSet<>();
    /**
     * Partitions with a batch appended in place that was refused before it went into the log, not
     * yet appended again by a flush: later batches of theirs wait for it (a campaign found an
     * at-least-once mirror whose result for one input came after those of the next 68, seed 513).
     */
    private final Set<TopicPartition> refusedUnsettled = new HashSet<>();
    /** Appends in place settled (acknowledged, or retried by a flush) since the start: {@link #appending} follows them. */
    private long settledAppends;
    /** Something went through the producer since its last flush. */
    private boolean producerSendsSinceFlush;
    private final Map<String, TopicPartition[]> topicPartitions = new HashMap<>();
    /** Per output partition appended to in place: the size of its last batch (one int, updated in place). */
    private final Map<TopicPartition, int[]> lastBatchBytes = new HashMap<>();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Callback onSent = (metadata, exception) -> {
        if (exception != null) {
            failure.compareAndSet(null, exception);
        }
    };

    private final LongAdder inPlace;
    private final LongAdder sent;

    /**
     * At-least-once with stores: a changelog deletion waits until the results sent before it are
     * acknowledged ({@link #sendChangelog}); exactly-once commits both atomically.
     */
    private final boolean holdDeletions;
    /** Changelog writes held back, in the order they were made: deletions, and what followed one on its partition. */
    private final List<HeldWrite> held = new ArrayList<>();
    /** The changelog partitions with a write in {@link #held}: their later writes queue behind it. */
    private final Set<TopicPartition> heldFor = new HashSet<>();
    /** How many of {@link #held} came before the last {@link #inPlaceMark()}: released once it is acknowledged. */
    private int heldAtMark;

    private final TableWrites tables;
    /** Table writes not yet known acknowledged, oldest first. */
    private final java.util.ArrayDeque<CompletableFuture<Void>> tableWrites = new java.util.ArrayDeque<>();

    TaskOutput(Producer<byte[], byte[]> producer) {
        this(producer, null, new LongAdder(), new LongAdder(), TableWrites.NONE, null);
    }

    /**
     * Counts the results written in place and those sent into {@code inPlace} and {@code sent};
     * {@code retry} retries the appends in place that fail for a passing reason (null: none).
     */
    TaskOutput(Producer<byte[], byte[]> producer, Function<TopicPartition, Partition> localReplicas, LongAdder inPlace, LongAdder sent,
               TableWrites tables, AppendRetry retry) {
        this(producer, localReplicas, inPlace, sent, tables, retry, false);
    }

    /** As above; with {@code holdDeletions}, a changelog deletion waits for the results sent before it ({@link #sendChangelog}). */
    TaskOutput(Producer<byte[], byte[]> producer, Function<TopicPartition, Partition> localReplicas, LongAdder inPlace, LongAdder sent,
               TableWrites tables, AppendRetry retry, boolean holdDeletions) {
        this.holdDeletions = holdDeletions;
        this.producer = producer;
        this.localReplicas = localReplicas;
        this.inPlace = inPlace;
        this.sent = sent;
        this.tables = tables;
        this.retry = retry;
    }

    /**
     * A {@code toTable} write, sent at once; acknowledged before the task commits past it. At most
     * {@link #MAX_TABLE_WRITES_IN_FLIGHT} wait at a time: beyond that the task waits for the oldest,
     * so a slow table slows the pipeline instead of filling the heap.
     */
    @Override
    public void writeTable(String table, byte[] key, byte[] value, long timestamp) {
        while (tableWrites.size() >= MAX_TABLE_WRITES_IN_FLIGHT) {
            awaitOne(tableWrites.pollFirst());
        }
        CompletableFuture<Void> write;
        try {
            write = TaskInterrupts.shielded(() -> tables.write(table, key, value)); // this node's replica may be written on this thread
        } catch (RuntimeException e) {
            write = CompletableFuture.failedFuture(e);
        }
        tableWrites.addLast(write.whenComplete((ok, e) -> {
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                failure.compareAndSet(null, new TableWriteException(table, cause));
            }
        }));
        sent.increment();
    }

    /** Waits until every table write sent has been acknowledged or has failed (failures in {@link #takeFailure()}). */
    void awaitTableWrites() {
        while (!tableWrites.isEmpty()) {
            awaitOne(tableWrites.pollFirst());
        }
    }

    private void awaitOne(CompletableFuture<Void> write) {
        try {
            // The table's request timeout answers every write it sends; this bound is for one that a
            // closing table service dropped unanswered.
            write.get(TABLE_WRITE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.CancellationException e) {
            // recorded in failure by the write's own callback
        } catch (TimeoutException e) {
            failure.compareAndSet(null, new TimeoutException("a table write had no answer in " + TABLE_WRITE_WAIT_MS + " ms"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
        }
    }

    /** A table write that did not reach its consistency level. */
    static final class TableWriteException extends Exception {
        TableWriteException(String table, Throwable cause) {
            super("table " + table + ": " + cause.getMessage(), cause);
        }
    }

    @Override
    public void send(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        Integer target = partition;
        if (partition == BY_KEY) {
            target = key == null ? null : Utils.toPositive(Utils.murmur2(key)) % partitions(topic);
        }
        TopicPartition tp = null;
        if (target != null && localReplicas != null) {
            tp = topicPartition(topic, target);
            if (bufferInPlace(tp, key, value, timestamp)) {
                inPlace.increment();
                return;
            }
            if (appendedSinceFlush.contains(tp)) {
                // Leadership left this node while earlier results were being appended here: sent now,
                // these could be read before those (should those fail). Back to the last commit.
                throw new OutputMovedException(tp + " is no longer led here while results appended"
                        + " in place are unacknowledged; the task goes back to its last commit");
            }
        }
        try {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, target, timestamp, key, value);
            TaskInterrupts.shielded(() -> producer.send(record, onSent));
            producerSendsSinceFlush = true;
            sent.increment();
            if (tp != null) {
                sentSinceFlush.add(tp);
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new OutputFailedException(e);
        }
    }

    /**
     * At-least-once, a store's deletion is held back until the results sent before it are
     * acknowledged, and the later changes of its changelog partition queue behind it. A window
     * closes by deleting its state and emitting its result; were the deletion durable and the
     * result lost (a kill before the result's acknowledgement), the restarted task would restore
     * a store without the window and a stream time past its close, and the replayed records
     * would be late: the result lost for good. Held, the deletion is written at the next commit,
     * acknowledged before the position passes its input, as every store change is.
     */
    @Override
    public void sendChangelog(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        if (holdDeletions) {
            TopicPartition tp = topicPartition(topic, partition);
            if (value == null || heldFor.contains(tp)) {
                held.add(new HeldWrite(tp, key, value, timestamp));
                heldFor.add(tp);
                return;
            }
        }
        send(topic, partition, key, value, timestamp);
    }

    private record HeldWrite(TopicPartition tp, byte[] key, byte[] value, long timestamp) {
    }

    /** Sends the first {@code count} writes held back, in order; the rest stay held. */
    private void releaseHeld(int count) {
        List<HeldWrite> going = held.subList(0, count);
        for (HeldWrite write : going) {
            send(write.tp().topic(), write.tp().partition(), write.key(), write.value(), write.timestamp());
        }
        going.clear();
        heldFor.clear();
        for (HeldWrite write : held) {
            heldFor.add(write.tp());
        }
        heldAtMark = Math.min(heldAtMark, held.size());
        appendBuffered();
    }

    /** Whether changelog writes are held back ({@link #sendChangelog}). */
    boolean holdsChangelogWrites() {
        return !held.isEmpty();
    }

    /**
     * Once {@link #acknowledgedUpTo} the last mark is true: sends the changelog writes held back
     * before that mark (the results they waited for are acknowledged) and returns a mark to wait
     * for before the position passes their inputs; -1 when none were held. When one went
     * through the producer, flushes instead and returns -1: everything sent is then settled.
     * The writes held after the mark wait for the next commit, so a steady flow of deletions
     * never postpones a commit by more than this one round.
     */
    long releaseHeldAtMark() throws Exception {
        if (heldAtMark == 0) {
            return -1;
        }
        releaseHeld(heldAtMark);
        heldAtMark = 0;
        if (producerSendsSinceFlush || !tableWrites.isEmpty()) {
            flush();
            return -1;
        }
        return settledAppends + appending.size();
    }

    private TopicPartition topicPartition(String topic, int partition) {
        TopicPartition[] known = topicPartitions.get(topic);
        if (known == null || partition >= known.length) {
            known = known == null ? new TopicPartition[partition + 1] : java.util.Arrays.copyOf(known, partition + 1);
            topicPartitions.put(topic, known);
        }
        TopicPartition tp = known[partition];
        if (tp == null) {
            tp = new TopicPartition(topic, partition);
            known[partition] = tp;
        }
        return tp;
    }

    private boolean bufferInPlace(TopicPartition tp, byte[] key, byte[] value, long timestamp) {
        if (sentSinceFlush.contains(tp)) {
            // Results for it are on their way through the producer (its leadership arrived since):
            // it stays there until the next commit has flushed them, so the order holds without
            // waiting here, inside the task's micro-batch.
            return false;
        }
        MemoryRecordsBuilder builder = buffered.get(tp);
        Partition replica;
        if (builder == null) {
            replica = localReplicas.apply(tp);
            if (replica == null || !replica.isLeader()) {
                return false;
            }
        } else {
            replica = bufferedFor.get(tp);
        }
        // Never a batch the log refuses: under the topic's max.message.bytes (and our own bound),
        // with room for the batch header and the record's own framing.
        int limit = Math.min(LOCAL_BATCH_BYTES, replica.log().config().maxMessageBytes()) - BATCH_OVERHEAD;
        int size = RECORD_OVERHEAD + (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
        if (size > limit) {
            return false; // alone too large for one batch here: the producer says why, as it would for any client
        }
        if (builder != null && builder.estimatedSizeInBytes() + size > limit) {
            appendInPlace(tp, buffered.remove(tp), bufferedFor.remove(tp));
            builder = null;
        }
        if (builder == null) {
            builder = MemoryRecords.builder(ByteBuffer.allocate(initialBufferBytes(tp, size)), Compression.NONE, TimestampType.CREATE_TIME, 0L);
            buffered.put(tp, builder);
            bufferedFor.put(tp, replica);
        }
        builder.append(timestamp, key, value);
        return true;
    }

    /** Room for the partition's last batch and a quarter more (the builder grows the buffer past it if it must). */
    private int initialBufferBytes(TopicPartition tp, int firstRecordBytes) {
        int[] last = lastBatchBytes.get(tp);
        int wanted = BATCH_OVERHEAD + Math.max(firstRecordBytes, last == null ? 0 : last[0] + last[0] / 4);
        return Math.max(MIN_BATCH_BUFFER_BYTES, Math.min(LOCAL_BATCH_BYTES, wanted));
    }

    /** Appends what the micro-batch left buffered for the partitions this node leads. */
    void appendBuffered() {
        if (buffered.isEmpty()) {
            return;
        }
        for (Map.Entry<TopicPartition, MemoryRecordsBuilder> e : buffered.entrySet()) {
            appendInPlace(e.getKey(), e.getValue(), bufferedFor.get(e.getKey()));
        }
        buffered.clear();
        bufferedFor.clear();
    }

    /** One batch appended in place: kept until the flush knows it acknowledged, to be appended again if it must. */
    private record Pending(TopicPartition tp, Partition replica, ByteBuffer batch, int epoch, CompletableFuture<Written> written) {
    }

    private void appendInPlace(TopicPartition tp, MemoryRecordsBuilder builder, Partition replica) {
        appendedSinceFlush.add(tp);
        ByteBuffer records = builder.build().buffer();
        lastBatchBytes.computeIfAbsent(tp, k -> new int[1])[0] = records.remaining();
        int epoch = replica.leaderEpoch(); // read before the append: what a wait for its replication is tied to
        if (refusedUnsettled.contains(tp)) {
            // An earlier batch of this partition was refused before it was appended (the lease
            // lapsed for a moment, say): appending this one now would put it ahead of that one's
            // retry. It waits for the flush, which appends them all again in order.
            appending.add(new Pending(tp, replica, records.duplicate(), epoch, CompletableFuture.completedFuture(WAITING_FOR_AN_EARLIER_BATCH)));
            return;
        }
        long waitMs = retry != null ? retry.replicationWaitMs() : REPLICATION_WAIT_MS;
        CompletableFuture<Written> written = TaskInterrupts.shielded(() -> replica.append(records, Acks.ALL, waitMs, System.currentTimeMillis()));
        if (written.isDone() && !written.isCompletedExceptionally() && !written.join().ok()
                && AppendRetry.classify(written.join()) == AppendRetry.Failure.NOT_APPENDED) {
            refusedUnsettled.add(tp);
        }
        appending.add(new Pending(tp, replica, records.duplicate(), epoch, written));
    }

    /** What a batch held back behind an earlier refused one stands for until the flush appends it (nothing of it is in the log). */
    private static final Written WAITING_FOR_AN_EARLIER_BATCH = new Written(io.spate.replication.WriteError.NOT_LEADER, io.spate.log.LogError.NONE,
            "held back behind an earlier batch of its partition that was refused", -1, -1, -1);

    /**
     * Waits until everything sent is as safe as acks=all makes it: the producer's sends and the
     * appends in place, those that failed for a passing reason retried ({@link AppendRetry}).
     * Failures are then in {@link #takeFailure()}.
     *
     * <p>The appends of one partition are looked at in the order they were made. Once one had to
     * be appended again (nothing of it was appended the first time), every later one of that
     * partition is appended again after it, whatever became of it the first time: the partition's
     * results then end in the order they were produced, as after a restart from the last commit
     * (the earlier copies of those that had made it are the duplicates at-least-once allows).
     * The changelog writes held back ({@link #sendChangelog}) are then sent and waited for too.
     */
    void flush() throws Exception {
        settle();
        if (!held.isEmpty()) {
            if (failure.get() != null) {
                // The task goes back to its last commit and restores its stores from the changelogs, without these.
                held.clear();
                heldFor.clear();
                heldAtMark = 0;
                return;
            }
            // What they waited for is acknowledged: now the deletions, and what followed them.
            releaseHeld(held.size());
            settle();
        }
    }

    private void settle() throws Exception {
        appendBuffered();
        awaitTableWrites();
        producer.flush();
        producerSendsSinceFlush = false;
        sentSinceFlush.clear();
        appendedSinceFlush.clear();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos((retry != null ? retry.replicationWaitMs() : REPLICATION_WAIT_MS) + 5_000);
        Set<TopicPartition> appendAgain = null;
        try {
            for (Pending write : appending) {
                if (retry == null || failure.get() != null) {
                    // The task goes back to its last commit anyway: nothing is retried.
                    awaitUnretried(write, deadline);
                    continue;
                }
                boolean again = appendAgain != null && appendAgain.contains(write.tp());
                try {
                    if (retry.await(write.tp(), write.replica(), write.batch(), write.epoch(), again ? null : write.written(), null)) {
                        if (appendAgain == null) {
                            appendAgain = new HashSet<>();
                        }
                        appendAgain.add(write.tp());
                    }
                } catch (LocalAppendException | OutputMovedException e) {
                    failure.compareAndSet(null, e);
                }
            }
        } finally {
            settledAppends += appending.size();
            appending.clear();
            refusedUnsettled.clear();
        }
    }

    /**
     * A mark for {@link #acknowledgedUpTo}: everything sent so far went in place (nothing through
     * the producer, no table write outstanding), so whether it is acknowledged can be looked at
     * without waiting. -1 when not: then only {@link #flush()} settles it.
     */
    long inPlaceMark() {
        appendBuffered();
        if (producerSendsSinceFlush || !tableWrites.isEmpty()) {
            return -1;
        }
        heldAtMark = held.size();
        return settledAppends + appending.size();
    }

    /**
     * Whether the appends in place made before {@code mark} are acknowledged, looked at without
     * waiting: an at-least-once task commits its position past their inputs once they are, and
     * goes on with its micro-batches meanwhile, where a flush would hold them up for a replication
     * round at every commit. Those acknowledged are settled; if one of them failed, everything
     * sent is settled by a {@link #flush()} instead (its retries, its failures in
     * {@link #takeFailure()}), and the answer is true.
     */
    boolean acknowledgedUpTo(long mark) throws Exception {
        int count = (int) Math.min(appending.size(), mark - settledAppends);
        for (int i = 0; i < count; i++) {
            CompletableFuture<Written> written = appending.get(i).written();
            if (!written.isDone()) {
                return false;
            }
            if (written.isCompletedExceptionally() || !written.join().ok()) {
                flush();
                return true;
            }
        }
        if (count > 0) {
            appending.subList(0, count).clear();
            settledAppends += count;
            // Only what is still unacknowledged holds back a send that would overtake it.
            appendedSinceFlush.clear();
            for (Pending write : appending) {
                appendedSinceFlush.add(write.tp());
            }
        }
        return true;
    }

    private void awaitUnretried(Pending write, long deadlineNanos) throws InterruptedException, TimeoutException {
        try {
            Written written = write.written().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (!written.ok()) {
                failure.compareAndSet(null, new LocalAppendException(write.tp(), written));
            }
        } catch (ExecutionException e) {
            failure.compareAndSet(null, e);
        }
    }

    /** An append in place the partition did not acknowledge (not leader any more, too few in-sync replicas, ...). */
    static final class LocalAppendException extends Exception {
        LocalAppendException(TopicPartition tp, Written written) {
            super(tp + ": " + written.error() + (written.message() == null ? "" : " (" + written.message() + ")"));
        }

        LocalAppendException(TopicPartition tp, Written written, String why) {
            super(tp + ": " + written.error() + (written.message() == null ? "" : " (" + written.message() + ")") + "; " + why);
        }
    }

    /**
     * The partition results were appended to in place is no longer led by this node: a passing
     * failure (a leadership moved), not the task's. The task starts again from its last commit
     * (exactly-once in place, settling what it anchored from the new leader first), and it is
     * not counted as a failure.
     */
    static final class OutputMovedException extends org.apache.kafka.common.KafkaException {
        OutputMovedException(String message) {
            super(message);
        }

        static OutputMovedException findIn(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof OutputMovedException moved) {
                    return moved;
                }
            }
            return null;
        }
    }

    private int partitions(String topic) {
        Integer count = partitionCounts.get(topic);
        if (count == null) {
            try {
                count = TaskInterrupts.shielded(() -> producer.partitionsFor(topic)).size();
            } catch (org.apache.kafka.common.KafkaException e) {
                throw new OutputFailedException(e);
            }
            partitionCounts.put(topic, count);
        }
        return count;
    }

    /** A send the producer refused at once: the task's fault is its node's, not its code's. */
    static final class OutputFailedException extends RuntimeException {
        OutputFailedException(Throwable cause) {
            super(cause.toString(), cause);
        }
    }

    /** The first send that failed since the last look, cleared. */
    Exception takeFailure() {
        return failure.getAndSet(null);
    }
}
