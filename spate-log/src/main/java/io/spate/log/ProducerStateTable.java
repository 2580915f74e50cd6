package io.spate.log;

import io.spate.record.RecordBatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each producer has written to one partition: its epoch and the sequence ranges of its
 * last five batches (the most a Kafka producer keeps in flight per partition), so that a
 * retried batch is recognised and acknowledged with the offsets it got the first time; and,
 * for transactional producers (KIP-98), where its open transaction began, the coordinator epoch
 * of its last marker and the time of its last batch or marker.
 *
 * <p>The table also knows the transactions that hold back the last stable offset: those still
 * open, by first offset, and those whose marker the high watermark has not passed yet (a marker
 * that is not replicated may still be cut, and its transaction would then be open again). A
 * truncation that cuts such a marker reopens its transaction from what the table holds; one
 * that cuts below what it holds ({@link #truncateFrom} answers false) needs a replay of the log.
 * So does one that takes every kept batch of a producer that wrote before the cut: the batches
 * it wrote there are no longer known, and a retry of them would be stored twice.
 *
 * <p>Guarded by the partition's append lock. Rebuilt from the batch headers (and the markers)
 * when the log loads.
 */
public final class ProducerStateTable {
    static final int BATCHES_KEPT = 5;

    /** Offsets and sequences of one stored batch. */
    public record BatchMetadata(int firstSequence, int lastSequence, long firstOffset, long lastOffset, long timestamp) {
    }

    /** A transaction ended by the marker at {@code markerOffset}, which the high watermark has not passed yet. */
    record CompletedTxn(long producerId, short producerEpoch, long firstOffset, long markerOffset) {
    }

    private static final class ProducerEntry {
        short epoch;
        int coordinatorEpoch = -1;
        long lastTimestamp = RecordBatch.NO_TIMESTAMP;
        /** First offset of the open transaction, -1 when none is open. */
        long txnFirstOffset = -1;
        /** Offset of the last batch or marker that changed this entry: a cut below it may leave nothing of it. */
        long lastOffset = -1;
        /**
         * Last offset of the newest data batch of the current epoch, sequenced or not (a group
         * coordinator writes a transaction's offsets without a sequence); -1 when none is known.
         */
        long lastDataOffset = -1;
        /**
         * Offset of the first batch or marker this table recorded for the producer, -1 for one
         * read from a snapshot (it wrote somewhere before). A cut at or below it takes all it wrote.
         */
        long firstOffset = -1;
        final ArrayDeque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_KEPT);
        /**
         * Every sequence of this epoch from here to the last batch was written here, in order. It
         * is the first sequence this table saw for the epoch: 0 for a producer seen from its start,
         * later for one taken up mid-stream (KIP-360, a log or snapshot loaded), so that a sequence
         * before it may never have been written.
         */
        int contiguousSince = RecordBatch.NO_SEQUENCE;

        int lastSequence() {
            return batches.isEmpty() ? RecordBatch.NO_SEQUENCE : batches.peekLast().lastSequence();
        }

        /** A new epoch starts afresh: its sequences begin at 0 again. */
        void moveToEpoch(short newEpoch) {
            epoch = newEpoch;
            batches.clear();
            lastDataOffset = -1;
            contiguousSince = RecordBatch.NO_SEQUENCE;
        }
    }

    /**
     * What compaction keeps of a producer it still knows (Kafka's cleaner does the same): the data
     * batch at {@code lastDataOffset}, which holds its last sequence, even once every record in it
     * has a later version; with no data batch in its current epoch ({@code lastDataOffset} -1),
     * its last marker, at {@code lastOffset} (-1 when the table does not know where it is: a
     * producer restored from a snapshot), which carries the epoch that fences older instances. A
     * replica that replays the log then knows the producer as the one that wrote it did.
     */
    public record LastRecord(long lastDataOffset, long lastOffset, short epoch) {
    }

    /** {@link LastRecord} of every producer this table knows, by producer id. */
    public Map<Long, LastRecord> lastRecords() {
        Map<Long, LastRecord> lastRecords = new HashMap<>();
        producers.forEach((producerId, entry) -> lastRecords.put(producerId,
                new LastRecord(entry.lastDataOffset, entry.lastOffset, entry.epoch)));
        return lastRecords;
    }

    /** The outcome of checking a batch against a producer's state. */
    public sealed interface Check {
        Check ACCEPT = new Accept();
    }

    public record Accept() implements Check {
    }

    public record Duplicate(BatchMetadata original) implements Check {
    }

    public record Reject(LogError error, String message) implements Check {
    }

    /**
     * A retry of a batch written before the batches kept: it lies somewhere before {@code before},
     * the first offset of the oldest kept batch, at an offset no longer known.
     */
    public record OldDuplicate(long before, String message) implements Check {
    }

    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    /** The open transactions: first offset to producer id. */
    private final TreeMap<Long, Long> openTxns = new TreeMap<>();
    /** Transactions whose marker the high watermark has not passed, in marker order. */
    private final ArrayDeque<CompletedTxn> unreplicatedTxns = new ArrayDeque<>();
    /** Every transaction whose marker is at or after this offset and not past the high watermark is in {@link #unreplicatedTxns}. */
    private long completedKnownFrom;

    public Check check(RecordBatch batch) {
        long producerId = batch.producerId();
        if (producerId < 0) {
            return Check.ACCEPT;
        }
        short epoch = batch.producerEpoch();
        int firstSequence = batch.baseSequence();
        ProducerEntry entry = producers.get(producerId);
        if (entry == null) {
            // KIP-360 (Kafka 2.5+): with no state for this producer id (never seen here, or its batches were removed by
            // retention, DeleteRecords or state expiry) any sequence starts it; rejecting would strand a live producer.
            return Check.ACCEPT;
        }
        if (epoch < entry.epoch) {
            return new Reject(LogError.INVALID_PRODUCER_EPOCH, "producer " + producerId + " epoch " + epoch + " is older than the current epoch " + entry.epoch);
        }
        if (epoch == entry.epoch && firstSequence != RecordBatch.NO_SEQUENCE) {
            for (BatchMetadata stored : entry.batches) {
                if (stored.firstSequence() == firstSequence && stored.lastSequence() == batch.lastSequence()) {
                    return new Duplicate(stored);
                }
            }
        }
        if (!batch.isTransactional() && entry.txnFirstOffset >= 0) {
            return new Reject(LogError.INVALID_TXN_STATE, "producer " + producerId + " sent non-transactional data while its transaction from offset "
                    + entry.txnFirstOffset + " is open");
        }
        if (firstSequence == RecordBatch.NO_SEQUENCE) {
            // A transactional write of the group coordinator (offsets of a transaction), which Kafka
            // writes with the producer's id and epoch and no sequence: only the epoch is checked.
            return Check.ACCEPT;
        }
        if (epoch > entry.epoch) {
            return firstSequence == 0 ? Check.ACCEPT
                    : new Reject(LogError.OUT_OF_ORDER_SEQUENCE, "new epoch " + epoch + " of producer " + producerId + " must start at sequence 0, not " + firstSequence);
        }
        int expected = nextSequence(entry.lastSequence());
        if (firstSequence != expected) {
            if (writtenBeforeTheKeptBatches(entry, firstSequence, batch.lastSequence())) {
                // After a leader change a producer may retry a batch the old leader wrote while it
                // had already sent later ones to the new leader: the retry is older than the
                // batches kept here. Answering out-of-order would make the client think the batch
                // was lost, bump its epoch and write everything again.
                return new OldDuplicate(entry.batches.getFirst().firstOffset(), "producer " + producerId + " sent sequence " + firstSequence
                        + ".." + batch.lastSequence() + ", written before the last " + entry.batches.size() + " batches kept");
            }
            return new Reject(LogError.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " sent sequence " + firstSequence + ", expected " + expected);
        }
        return Check.ACCEPT;
    }

    /**
     * The range lies just before the oldest kept batch: by less than a quarter of the sequence
     * space, read with wrap-around, so that a sequence from the far side of a wrap is not taken
     * for an old one.
     */
    private static boolean writtenBeforeTheKeptBatches(ProducerEntry entry, int firstSequence, int lastSequence) {
        // Sequences of one epoch are accepted only in order, so a range after the first sequence
        // this table saw and before the oldest kept batch was written here.
        if (entry.contiguousSince == RecordBatch.NO_SEQUENCE || entry.batches.isEmpty()) {
            return false;
        }
        int oldest = entry.batches.getFirst().firstSequence();
        long behind = distance(lastSequence, oldest);
        long span = distance(firstSequence, lastSequence);
        long sinceToFirst = distance(entry.contiguousSince, firstSequence);
        long sinceToOldest = distance(entry.contiguousSince, oldest);
        return behind > 0 && behind < (1L << 29) && span < (1L << 29) && sinceToFirst < sinceToOldest;
    }

    /** How far {@code to} is after {@code from}, with sequences wrapping at 2^31. */
    private static long distance(int from, int to) {
        return ((long) to - from + (1L << 31)) % (1L << 31);
    }

    /** Checks {@code batch} against {@code previous}, an earlier batch of the same producer in the same request. */
    static Check checkFollowing(RecordBatch previous, RecordBatch batch) {
        long producerId = batch.producerId();
        if (batch.producerEpoch() < previous.producerEpoch()) {
            return new Reject(LogError.INVALID_PRODUCER_EPOCH, "producer " + producerId + " epoch " + batch.producerEpoch() + " is older than the current epoch " + previous.producerEpoch());
        }
        if (previous.isTransactional() && !batch.isTransactional()) {
            return new Reject(LogError.INVALID_TXN_STATE, "producer " + producerId + " sent non-transactional data after transactional data");
        }
        if (batch.baseSequence() == RecordBatch.NO_SEQUENCE) {
            return Check.ACCEPT;
        }
        int expected = batch.producerEpoch() > previous.producerEpoch() ? 0 : nextSequence(previous.lastSequence());
        if (batch.baseSequence() != expected) {
            return new Reject(LogError.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " sent sequence " + batch.baseSequence() + ", expected " + expected);
        }
        return Check.ACCEPT;
    }

    /**
     * Records a data batch that was appended (or found in the log at load, or copied from the
     * leader). A transactional batch opens its producer's transaction unless one is open.
     */
    public void update(RecordBatch batch) {
        long producerId = batch.producerId();
        if (producerId < 0) {
            return;
        }
        boolean transactional = batch.isTransactional();
        int baseSequence = batch.baseSequence();
        if (baseSequence == RecordBatch.NO_SEQUENCE && !transactional) {
            return;
        }
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> newEntry(batch.baseOffset()));
        if (batch.producerEpoch() != entry.epoch) {
            entry.moveToEpoch(batch.producerEpoch());
        }
        if (baseSequence != RecordBatch.NO_SEQUENCE) {
            if (entry.contiguousSince == RecordBatch.NO_SEQUENCE) {
                entry.contiguousSince = baseSequence;
            }
            if (entry.batches.size() == BATCHES_KEPT) {
                entry.batches.removeFirst();
            }
            entry.batches.addLast(new BatchMetadata(baseSequence, batch.lastSequence(), batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp()));
        }
        entry.lastTimestamp = batch.maxTimestamp();
        entry.lastOffset = batch.lastOffset();
        entry.lastDataOffset = batch.lastOffset();
        if (transactional && entry.txnFirstOffset < 0) {
            entry.txnFirstOffset = batch.baseOffset();
            openTxns.put(batch.baseOffset(), producerId);
        }
    }

    /**
     * Whether an end marker from the coordinator may be written for {@code producerId}: not with
     * an older producer epoch than this partition has seen (a newer one is how the coordinator
     * aborts a zombie's transaction after fencing it), nor from an older coordinator.
     */
    public Check checkMarker(long producerId, short producerEpoch, int coordinatorEpoch) {
        ProducerEntry entry = producers.get(producerId);
        if (entry == null) {
            return Check.ACCEPT;
        }
        if (producerEpoch < entry.epoch) {
            return new Reject(LogError.INVALID_PRODUCER_EPOCH, "a marker for producer " + producerId + " at epoch " + producerEpoch
                    + ", older than its current epoch " + entry.epoch);
        }
        if (coordinatorEpoch < entry.coordinatorEpoch) {
            return new Reject(LogError.TRANSACTION_COORDINATOR_FENCED, "a marker for producer " + producerId + " from coordinator epoch "
                    + coordinatorEpoch + ", older than the " + entry.coordinatorEpoch + " of its last marker");
        }
        return Check.ACCEPT;
    }

    /**
     * Records an end marker written at {@code markerOffset}: the producer's open transaction (if
     * any: a retried marker finds none, and changes only the epochs and the time) is decided.
     *
     * @return the aborted transaction for the segment's index, or null for a commit
     */
    public AbortedTxn completeTxn(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit, long markerOffset, long timestamp) {
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> newEntry(markerOffset));
        if (producerEpoch != entry.epoch) {
            entry.moveToEpoch(producerEpoch);
        }
        entry.coordinatorEpoch = coordinatorEpoch;
        entry.lastTimestamp = timestamp;
        entry.lastOffset = markerOffset;
        long firstOffset = entry.txnFirstOffset;
        if (firstOffset >= 0) {
            openTxns.remove(firstOffset);
            entry.txnFirstOffset = -1;
            unreplicatedTxns.addLast(new CompletedTxn(producerId, producerEpoch, firstOffset, markerOffset));
        } else {
            firstOffset = markerOffset; // as Kafka: an empty transaction, covering the marker alone
        }
        if (commit) {
            return null;
        }
        // Kafka's last stable offset at the abort: the first transaction still open, else past the marker.
        long lastStable = openTxns.isEmpty() ? markerOffset + 1 : openTxns.firstKey();
        return new AbortedTxn(producerId, firstOffset, markerOffset, lastStable);
    }

    /** The high watermark reached {@code highWatermark}: the transactions decided below it stay decided. */
    void onHighWatermark(long highWatermark) {
        while (!unreplicatedTxns.isEmpty() && unreplicatedTxns.peekFirst().markerOffset() < highWatermark) {
            unreplicatedTxns.removeFirst();
        }
        completedKnownFrom = Math.max(completedKnownFrom, highWatermark);
    }

    /**
     * The first offset of a transaction not decided for readers at {@code highWatermark}: open,
     * or ended by a marker at or past it; {@link Long#MAX_VALUE} when there is none.
     */
    long firstUnstableOffset(long highWatermark) {
        long first = openTxns.isEmpty() ? Long.MAX_VALUE : openTxns.firstKey();
        for (CompletedTxn txn : unreplicatedTxns) {
            if (txn.markerOffset() >= highWatermark && txn.firstOffset() < first) {
                first = txn.firstOffset();
            }
        }
        return first;
    }

    private static ProducerEntry newEntry(long firstOffset) {
        ProducerEntry entry = new ProducerEntry();
        entry.firstOffset = firstOffset;
        return entry;
    }

    /**
     * Forgets what lies at or after {@code offset}, after the log was cut there: batches,
     * transactions that began there, and the markers there (their transactions are open again).
     * The epochs and times a cut marker or batch set stay (an epoch only fences older writers).
     *
     * @return false when the cut may have taken a marker this table no longer holds (below the
     *         high watermark it was told), or took every kept batch of a producer that wrote
     *         before it (its batches there were dropped from the five kept and only the log
     *         knows them): the state is then only as good as this table could make it, and the
     *         log replays its batches to rebuild it
     */
    boolean truncateFrom(long offset) {
        boolean exact = offset >= completedKnownFrom;
        var begunAfterCut = openTxns.tailMap(offset, true);
        for (long producerId : begunAfterCut.values()) {
            producers.get(producerId).txnFirstOffset = -1;
        }
        begunAfterCut.clear();
        while (!unreplicatedTxns.isEmpty() && unreplicatedTxns.peekLast().markerOffset() >= offset) {
            CompletedTxn txn = unreplicatedTxns.removeLast();
            if (txn.firstOffset() < offset) {
                ProducerEntry entry = producers.get(txn.producerId());
                if (entry == null) { // expired since its marker
                    entry = newEntry(txn.firstOffset());
                    entry.epoch = txn.producerEpoch();
                    producers.put(txn.producerId(), entry);
                }
                entry.txnFirstOffset = txn.firstOffset();
                openTxns.put(txn.firstOffset(), txn.producerId());
            }
        }
        for (ProducerEntry entry : producers.values()) {
            if (entry.lastDataOffset >= offset) {
                entry.lastDataOffset = -1; // set again below when a sequenced batch before the cut is kept
            }
            if (entry.batches.isEmpty() || entry.batches.peekLast().lastOffset() < offset) {
                if (entry.lastDataOffset < 0 && !entry.batches.isEmpty()) {
                    entry.lastDataOffset = entry.batches.peekLast().lastOffset();
                }
                continue;
            }
            entry.batches.removeIf(b -> b.lastOffset() >= offset);
            if (!entry.batches.isEmpty()) {
                entry.lastDataOffset = entry.batches.peekLast().lastOffset();
            }
            if (entry.batches.isEmpty()) {
                // Nothing is left to say where the sequences it wrote before the cut end: a
                // retry of one would be stored again, so only a replay brings them back.
                entry.contiguousSince = RecordBatch.NO_SEQUENCE;
                exact &= entry.firstOffset >= offset;
            }
        }
        producers.values().removeIf(e -> e.batches.isEmpty() && e.txnFirstOffset < 0 && e.lastOffset >= offset);
        return exact;
    }

    /** Forgets everything (the log was emptied). */
    void clear() {
        producers.clear();
        openTxns.clear();
        unreplicatedTxns.clear();
        completedKnownFrom = 0;
    }

    /** One producer's state as a snapshot holds it. */
    record SnapshotEntry(long producerId, short epoch, List<BatchMetadata> batches, int coordinatorEpoch, long txnFirstOffset,
                         long lastTimestamp) {
        /** As a version 1 snapshot held it (written before transactions were taken): no transaction, times from the batches. */
        static SnapshotEntry withoutTransactions(long producerId, short epoch, List<BatchMetadata> batches) {
            return new SnapshotEntry(producerId, epoch, batches, -1, -1,
                    batches.isEmpty() ? RecordBatch.NO_TIMESTAMP : batches.get(batches.size() - 1).timestamp());
        }
    }

    /** Every producer's state, oldest batch first, for a snapshot. */
    List<SnapshotEntry> snapshot() {
        List<SnapshotEntry> entries = new ArrayList<>(producers.size());
        producers.forEach((id, entry) -> entries.add(new SnapshotEntry(id, entry.epoch, List.copyOf(entry.batches), entry.coordinatorEpoch,
                entry.txnFirstOffset, entry.lastTimestamp)));
        return entries;
    }

    /** The transactions whose marker the high watermark has not passed, for a snapshot. */
    List<CompletedTxn> unreplicatedTxns() {
        return List.copyOf(unreplicatedTxns);
    }

    long completedKnownFrom() {
        return completedKnownFrom;
    }

    /** Puts back a producer read from a snapshot, replacing what the table had for it. */
    void restore(SnapshotEntry snapshot) {
        ProducerEntry entry = new ProducerEntry();
        entry.epoch = snapshot.epoch();
        entry.batches.addAll(snapshot.batches());
        entry.contiguousSince = snapshot.batches().isEmpty() ? RecordBatch.NO_SEQUENCE : snapshot.batches().get(0).firstSequence();
        entry.coordinatorEpoch = snapshot.coordinatorEpoch();
        entry.lastTimestamp = snapshot.lastTimestamp();
        entry.lastOffset = snapshot.batches().isEmpty() ? -1 : snapshot.batches().get(snapshot.batches().size() - 1).lastOffset();
        entry.lastDataOffset = entry.lastOffset;
        ProducerEntry replaced = producers.put(snapshot.producerId(), entry);
        if (replaced != null && replaced.txnFirstOffset >= 0) {
            openTxns.remove(replaced.txnFirstOffset);
        }
        if (snapshot.txnFirstOffset() >= 0) {
            entry.txnFirstOffset = snapshot.txnFirstOffset();
            entry.lastOffset = Math.max(entry.lastOffset, snapshot.txnFirstOffset());
            openTxns.put(snapshot.txnFirstOffset(), snapshot.producerId());
        }
    }

    /** Puts back the undecided-for-readers transactions a snapshot held, and from where it held them all. */
    void restoreUnreplicated(List<CompletedTxn> txns, long knownFrom) {
        unreplicatedTxns.clear();
        unreplicatedTxns.addAll(txns);
        completedKnownFrom = knownFrom;
    }

    /**
     * Forgets producers whose last batch or marker is older than {@code expirationMs} (Kafka's producer.id.expiration.ms,
     * judged by the batch's timestamp as Kafka does), so that short-lived producers do not accumulate for ever. A
     * producer with an open transaction is kept however old (its transaction still holds back the last stable offset,
     * and the coordinator will end it). A forgotten producer that comes back is accepted at any sequence (KIP-360).
     *
     * @return how many were removed
     */
    public int removeExpired(long nowMs, long expirationMs) {
        int before = producers.size();
        producers.values().removeIf(e -> e.txnFirstOffset < 0 && nowMs - e.lastTimestamp >= expirationMs);
        return before - producers.size();
    }

    /** Whether {@code producerId} at {@code epoch} has a transaction open here. */
    boolean hasOpenTransaction(long producerId, short epoch) {
        ProducerEntry entry = producers.get(producerId);
        return entry != null && entry.epoch == epoch && entry.txnFirstOffset >= 0;
    }

    /** Every producer's state, as DescribeProducers shows it. */
    List<ProducerView> views() {
        List<ProducerView> views = new ArrayList<>(producers.size());
        producers.forEach((id, e) -> views.add(new ProducerView(id, e.epoch, e.lastSequence(), e.lastTimestamp, e.coordinatorEpoch,
                e.txnFirstOffset)));
        return views;
    }

    public int producerCount() {
        return producers.size();
    }

    private static int nextSequence(int sequence) {
        return sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
    }
}
