package io.spate.chaos.history;

import java.util.List;

/**
 * One transaction of the exactly-once pipeline as its client saw it: which input records it read
 * (its outputs, one per input, carry {@link #label()}), and how it ended. Times are microseconds
 * since the run started.
 *
 * @param member      the pipeline member ({@code t1}, {@code t2}, ...): its transactional id is stable
 * @param incarnation counts the member's consumer and producer pairs (a member leaves and rejoins)
 * @param number      counts the member incarnation's transactions, from 1
 * @param inputs      the input offsets the transaction read, as ranges (one output per input offset)
 * @param error       the client's exception when it did not commit as planned, else empty
 */
public record Txn(String member, int incarnation, int number, Outcome outcome, long beginUs, long endUs,
                  List<InputRange> inputs, String error) {

    public enum Outcome {
        /** {@code commitTransaction} returned: every output must be read committed, once. */
        COMMITTED,
        /** {@code abortTransaction} returned after an error: no output may be read committed. */
        ABORTED,
        /** Aborted by choice after its outputs and offsets were sent (and flushed): no output may be read committed. */
        ABORTED_ON_PURPOSE,
        /**
         * The producer failed (fenced, or could not abort) before the client asked to commit, and
         * was replaced by one with the same transactional id, which aborts what it left open: no
         * output may be read committed, since only the client can ask for a commit.
         */
        ABANDONED,
        /** The client asked to commit and did not learn the outcome: all of its outputs or none. */
        UNKNOWN,
        /**
         * A zombie's: its member left as if it crashed mid-transaction (outputs and offsets sent,
         * no commit), and the producer asked to commit only after a successor with the same
         * transactional id had initialized, which fences it; the commit was refused. No output may
         * be read committed.
         */
        FENCED,
        /** As {@link #FENCED}, but the zombie's commit returned: fencing failed. No output may be read committed. */
        ZOMBIE_COMMITTED;

        /** True when the outputs must not be visible to read_committed consumers. */
        public boolean mustBeInvisible() {
            return this != COMMITTED && this != UNKNOWN;
        }
    }

    /** Input offsets {@code first..last} (inclusive) of one input partition. */
    public record InputRange(int partition, long first, long last) {
        public long size() {
            return last - first + 1;
        }
    }

    public Txn {
        inputs = List.copyOf(inputs);
    }

    /** What each of the transaction's outputs carries: {@code MEMBER.INCARNATION.NUMBER}. */
    public String label() {
        return label(member, incarnation, number);
    }

    public static String label(String member, int incarnation, int number) {
        return member + "." + incarnation + "." + number;
    }

    public long inputCount() {
        return inputs.stream().mapToLong(InputRange::size).sum();
    }
}
