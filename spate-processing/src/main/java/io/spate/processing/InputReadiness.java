package io.spate.processing;

import java.util.Arrays;

/**
 * Whether a task with several inputs may merge what its micro-batch read, or must first wait
 * for an input that read nothing, by Kafka Streams' rules (KIP-695, {@code max.task.idle.ms}):
 *
 * <ul>
 *   <li>an input that read nothing and is not known to be caught up (its records are known to be
 *       there, or its reader has not yet learned where the partition ends: a consumer before its
 *       first fetch answer) is always waited for: merging without it would take the other inputs'
 *       records ahead of older ones of its own, a join missing its matches;</li>
 *   <li>one caught up and empty is waited for up to {@code max.task.idle.ms} from when it was
 *       first found so (0: not at all), then no more until it brings records again: a quiet
 *       table costs its task one wait, not one per micro-batch.</li>
 * </ul>
 *
 * A decision of the inputs' states and the clock alone, so that any sequence of them replays.
 */
final class InputReadiness {
    private static final long NONE = Long.MIN_VALUE;

    private final long maxTaskIdleMs;
    /** Per input: until when a caught-up empty input is waited for, or {@link #NONE}. */
    private final long[] idleDeadlines;

    InputReadiness(int inputs, long maxTaskIdleMs) {
        this.maxTaskIdleMs = maxTaskIdleMs;
        this.idleDeadlines = new long[inputs];
        Arrays.fill(idleDeadlines, NONE);
    }

    /**
     * Which inputs to wait for ({@code waitFor[i]} set), given which read records this time and
     * which of those that read none are caught up; true when there is any. Nothing is waited for
     * when no input read anything: there is nothing to merge.
     */
    boolean waitFor(boolean[] read, boolean[] caughtUp, long nowMs, boolean[] waitFor) {
        boolean anyRead = false;
        for (int i = 0; i < read.length; i++) {
            if (read[i]) {
                anyRead = true;
                idleDeadlines[i] = NONE; // it brought records: the next time it is quiet it is waited for again
            }
        }
        boolean any = false;
        for (int i = 0; i < read.length; i++) {
            boolean wait = false;
            if (anyRead && !read[i]) {
                if (!caughtUp[i]) {
                    wait = true;
                } else if (maxTaskIdleMs > 0) {
                    if (idleDeadlines[i] == NONE) {
                        idleDeadlines[i] = nowMs + maxTaskIdleMs;
                    }
                    wait = nowMs < idleDeadlines[i];
                }
            }
            waitFor[i] = wait;
            any |= wait;
        }
        return any;
    }

    /** How long until the nearest idle wait of {@code waitFor}'s inputs ends, at least 1 ms; Long.MAX_VALUE when none runs. */
    long untilNextDeadline(boolean[] waitFor, long nowMs) {
        long until = Long.MAX_VALUE;
        for (int i = 0; i < waitFor.length; i++) {
            if (waitFor[i] && idleDeadlines[i] != NONE) {
                until = Math.min(until, Math.max(1, idleDeadlines[i] - nowMs));
            }
        }
        return until;
    }
}
