package io.spate.processing;

import java.util.Locale;

/** What a pipeline promises about its results when a task fails or moves: the {@code processing.guarantee} setting. */
public enum Guarantee {
    /**
     * Outputs are acknowledged before the input positions that produced them are committed: after a
     * failure a task reprocesses from its last commit, so nothing is lost and some results repeat.
     */
    AT_LEAST_ONCE,
    /**
     * Outputs, changelog writes and input positions of a task commit in one Kafka transaction:
     * read_committed readers see each result once.
     */
    EXACTLY_ONCE;

    public static Guarantee parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "at_least_once", "at-least-once", "alos" -> AT_LEAST_ONCE;
            case "exactly_once", "exactly-once", "exactly_once_v2", "eos" -> EXACTLY_ONCE;
            default -> throw new IllegalArgumentException("processing.guarantee must be at_least_once or exactly_once, not '" + text + "'");
        };
    }
}
