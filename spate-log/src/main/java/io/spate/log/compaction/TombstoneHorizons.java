package io.spate.log.compaction;

import java.util.ArrayDeque;

/**
 * When a compacted log's tombstones may go: {@code delete.retention.ms} after the first pass
 * that kept them (KIP-534's rule: a consumer that read the log's older value has that long,
 * from the moment the value was compacted away, to read the tombstone too). Not their
 * timestamps, which the producer chose: a tombstone mirrored or replayed with an old time went
 * at the first pass, and a consumer between it and the value it deletes never learned the key
 * was gone. Kafka stamps the horizon into the batch; here each log remembers, in memory, up to
 * where each pass kept tombstones and when. A restart forgets, and the tombstones then stay
 * {@code delete.retention.ms} past the first pass after it: longer, never shorter. So does a
 * truncation of the log (the offsets it cut are filled again with batches no pass has seen).
 */
final class TombstoneHorizons {
    private record Pass(long upTo, long atMs) {
    }

    /** Passes whose tombstones are not yet due, oldest first; their offsets grow with them. */
    private final ArrayDeque<Pass> waiting = new ArrayDeque<>();
    /** Tombstones below this offset have been kept for a whole delete.retention.ms. */
    private long dueBelow;
    private long truncations = -1;

    /**
     * The offset below which a pass at {@code nowMs} may remove tombstones; {@code truncations}
     * is the log's count of truncations, any change forgetting what earlier passes kept.
     */
    long removableBelow(long nowMs, long retentionMs, long truncations) {
        if (truncations != this.truncations) {
            waiting.clear();
            dueBelow = 0;
            this.truncations = truncations;
        }
        while (!waiting.isEmpty() && dueAt(waiting.peekFirst(), retentionMs) <= nowMs) {
            dueBelow = Math.max(dueBelow, waiting.pollFirst().upTo());
        }
        return dueBelow;
    }

    /** A pass at {@code nowMs} kept tombstones below {@code upTo}. */
    void kept(long upTo, long nowMs) {
        Pass last = waiting.peekLast();
        if (upTo <= dueBelow || last != null && last.upTo() >= upTo) {
            return; // an earlier pass already kept everything below upTo, and comes due sooner
        }
        waiting.addLast(new Pass(upTo, nowMs));
    }

    /** When the next tombstones come due, {@link Long#MAX_VALUE} when none wait. */
    long nextDueMs(long retentionMs) {
        return waiting.isEmpty() ? Long.MAX_VALUE : dueAt(waiting.peekFirst(), retentionMs);
    }

    private static long dueAt(Pass pass, long retentionMs) {
        return saturatedPlus(pass.atMs(), retentionMs);
    }

    static long saturatedPlus(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? (b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : sum;
    }
}
