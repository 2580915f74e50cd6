package io.spate.chaos.history;

/**
 * One produce attempt as the client saw it. Times are microseconds since the run started.
 * {@code value} is unique in the run ({@code w-PRODUCER-PARTITION-SEQ}); {@code seq} grows by one
 * per send of a producer to a partition, so the order a producer sent in is known.
 *
 * @param offset the offset the broker acknowledged, or -1 unless {@code outcome} is {@link Outcome#OK}
 * @param error  the client's exception for a failed or indeterminate write, else empty
 */
public record Write(int producer, int partition, long seq, String value, long sentUs, long doneUs,
                    Outcome outcome, long offset, String error) {

    public enum Outcome {
        /** Acknowledged: must be in the log, at {@code offset}. */
        OK,
        /** The broker said it was not written (a non-retriable error before any attempt could land). */
        FAIL,
        /** Unknown: timed out or the connection dropped; it may or may not be in the log. */
        INDETERMINATE
    }

    public boolean acknowledged() {
        return outcome == Outcome.OK;
    }
}
