package io.spate.log;

import io.spate.record.RecordBatch;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * What an idempotent producer has written to one partition: its epoch and the sequence ranges
 * of its last five batches (the most a Kafka producer keeps in flight per partition), so that a
 * retried batch is recognised and acknowledged with the offsets it got the first time.
 *
 * <p>Guarded by the partition's append lock. Rebuilt from the batch headers when the log loads.
 */
public final class ProducerStateTable {
    static final int BATCHES_KEPT = 5;

    /** Offsets and sequences of one stored batch. */
    public record BatchMetadata(int firstSequence, int lastSequence, long firstOffset, long lastOffset, long timestamp) {
    }

    private static final class ProducerEntry {
        short epoch;
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
        if (epoch > entry.epoch) {
            return firstSequence == 0 ? Check.ACCEPT
                    : new Reject(LogError.OUT_OF_ORDER_SEQUENCE, "new epoch " + epoch + " of producer " + producerId + " must start at sequence 0, not " + firstSequence);
        }
        for (BatchMetadata stored : entry.batches) {
            if (stored.firstSequence() == firstSequence && stored.lastSequence() == batch.lastSequence()) {
                return new Duplicate(stored);
            }
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
        if (entry.contiguousSince == RecordBatch.NO_SEQUENCE) {
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
        int expected = batch.producerEpoch() > previous.producerEpoch() ? 0 : nextSequence(previous.lastSequence());
        if (batch.baseSequence() != expected) {
            return new Reject(LogError.OUT_OF_ORDER_SEQUENCE, "producer " + producerId + " sent sequence " + batch.baseSequence() + ", expected " + expected);
        }
        return Check.ACCEPT;
    }

    /** Records a batch that was appended (or found in the log at load). */
    public void update(RecordBatch batch) {
        long producerId = batch.producerId();
        if (producerId < 0 || batch.baseSequence() == RecordBatch.NO_SEQUENCE) {
            return;
        }
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> new ProducerEntry());
        if (batch.producerEpoch() != entry.epoch) {
            entry.epoch = batch.producerEpoch();
            entry.batches.clear();
            entry.contiguousSince = RecordBatch.NO_SEQUENCE;
        }
        if (entry.contiguousSince == RecordBatch.NO_SEQUENCE) {
            entry.contiguousSince = batch.baseSequence();
        }
        if (entry.batches.size() == BATCHES_KEPT) {
            entry.batches.removeFirst();
        }
        entry.batches.addLast(new BatchMetadata(batch.baseSequence(), batch.lastSequence(), batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp()));
    }

    /** Forgets batches at or after {@code offset}, after the log was truncated. */
    void truncateFrom(long offset) {
        producers.values().forEach(e -> e.batches.removeIf(b -> b.lastOffset() >= offset));
        producers.values().removeIf(e -> e.batches.isEmpty());
    }

    /** One producer's state as a snapshot holds it. */
    record SnapshotEntry(long producerId, short epoch, java.util.List<BatchMetadata> batches) {
    }

    /** Every producer's state, oldest batch first, for a snapshot. */
    java.util.List<SnapshotEntry> snapshot() {
        java.util.List<SnapshotEntry> entries = new java.util.ArrayList<>(producers.size());
        producers.forEach((id, entry) -> entries.add(new SnapshotEntry(id, entry.epoch, java.util.List.copyOf(entry.batches))));
        return entries;
    }

    /** Puts back a producer read from a snapshot, replacing what the table had for it. */
    void restore(SnapshotEntry snapshot) {
        ProducerEntry entry = new ProducerEntry();
        entry.epoch = snapshot.epoch();
        entry.batches.addAll(snapshot.batches());
        entry.contiguousSince = snapshot.batches().isEmpty() ? RecordBatch.NO_SEQUENCE : snapshot.batches().get(0).firstSequence();
        producers.put(snapshot.producerId(), entry);
    }

    /**
     * Forgets producers whose last batch is older than {@code expirationMs} (Kafka's producer.id.expiration.ms, judged
     * by the batch's timestamp as Kafka does), so that short-lived producers do not accumulate for ever. A forgotten
     * producer that comes back is accepted at any sequence (KIP-360).
     *
     * @return how many were removed
     */
    public int removeExpired(long nowMs, long expirationMs) {
        int before = producers.size();
        producers.values().removeIf(e -> e.batches.isEmpty() || nowMs - e.batches.peekLast().timestamp() >= expirationMs);
        return before - producers.size();
    }

    public int producerCount() {
        return producers.size();
    }

    private static int nextSequence(int sequence) {
        return sequence == Integer.MAX_VALUE ? 0 : sequence + 1;
    }
}
