package io.spate.chaos.check;

import java.util.Set;

/**
 * One thing the checker found wrong. {@code check} is one of the stable names below (scripts and
 * the campaign summary group by it); {@code offset} is -1 when the violation is not about one
 * offset (stalls, recovery, commit regressions are reported at the committed offset).
 */
public record Violation(String check, int partition, long offset, String detail) {

    public static final String LOST_WRITE = "lost-write";
    public static final String DUPLICATE = "duplicate";
    public static final String UNEXPECTED_VALUE = "unexpected-value";
    public static final String OUT_OF_ORDER = "out-of-order";
    public static final String INCONSISTENT_READ = "inconsistent-read";
    public static final String SKIPPED = "skipped";
    public static final String COMMIT_REGRESSED = "commit-regressed";
    /** Two controller voters' Raft logs break log matching (offset: the Raft index). */
    public static final String METADATA_DIVERGED = "metadata-diverged";
    public static final String STALL = "stall";
    /** A controller voter no fault touched stopped keeping up with the quorum (partition: the voter's node id). */
    public static final String VOTER_STUCK = "voter-stuck";
    public static final String RECOVERY = "recovery";

    /** Availability checks: a bound was exceeded, but nothing acknowledged was lost or corrupted. */
    public static final Set<String> AVAILABILITY_CHECKS = Set.of(STALL, RECOVERY, VOTER_STUCK);

    public boolean safety() {
        return !AVAILABILITY_CHECKS.contains(check);
    }

    /** Where, for one line of output: {@code p3@1207}, {@code p3}, {@code metadata@52} (a Raft index) or {@code voter 2}. */
    public String where() {
        if (check.equals(METADATA_DIVERGED)) {
            return "metadata@" + offset;
        }
        if (check.equals(VOTER_STUCK)) {
            return "voter " + partition;
        }
        return offset >= 0 ? "p" + partition + "@" + offset : "p" + partition;
    }

    @Override
    public String toString() {
        return check + " " + where() + ": " + detail;
    }
}
