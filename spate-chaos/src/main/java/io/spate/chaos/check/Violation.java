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

    // The exactly-once pipeline's (ExactlyOnceCheck). Partition and offset are the output's unless
    // the offset is -1: then the partition is the input's, and the detail names the input or transaction.
    /** An input record has more than one result in the committed output. */
    public static final String TXN_DUPLICATE = "txn-duplicate";
    /** An input below the committed offset, or a transaction seen committed, has no result in the committed output. */
    public static final String TXN_MISSING = "txn-missing";
    /** A result of a transaction its client saw aborted (or never asked to commit) is read committed. */
    public static final String TXN_ABORTED_READ = "txn-aborted-read";
    /** A zombie's commit was acknowledged after a successor with its transactional id had initialized. */
    public static final String TXN_ZOMBIE = "txn-zombie";
    /** Some but not all results of one transaction are read committed. */
    public static final String TXN_PARTIAL = "txn-partial";
    /** A result no transaction wrote, of an input that is not there, in the wrong partition, or past the committed offset. */
    public static final String TXN_UNEXPECTED = "txn-unexpected";
    /** The results of one input partition are not in input order. */
    public static final String TXN_OUT_OF_ORDER = "txn-out-of-order";
    /** read_committed read a record read_uncommitted did not read at that offset. */
    public static final String TXN_SUPERSET = "txn-superset";
    /** A transaction is still open at the end (the last stable offset below the high watermark). */
    public static final String TXN_HANGING = "txn-hanging";
    /** The pipeline did not consume the whole input by the end. */
    public static final String TXN_UNDRAINED = "txn-undrained";

    // The mirror pipelines deployed at the data (MirrorCheck): partition and offset are the input's
    // (the record a result is of, or should be); the detail names the pipeline.
    /** An input record before the last one mirrored has no result in the output. */
    public static final String MIRROR_MISSING = "mirror-missing";
    /** An input record has more than one result in an exactly-once mirror's output. */
    public static final String MIRROR_DUPLICATE = "mirror-duplicate";
    /** A result that is no record of the input partition it is the output of. */
    public static final String MIRROR_UNEXPECTED = "mirror-unexpected";
    /** Results of one input partition not in input order (first results, at-least-once). */
    public static final String MIRROR_OUT_OF_ORDER = "mirror-out-of-order";
    /** A mirror had not processed its whole input by the end. */
    public static final String MIRROR_UNDRAINED = "mirror-undrained";
    /** At the end a task was not running on the node leading its input partition. */
    public static final String MIRROR_MISPLACED = "mirror-misplaced";

    // The exactly-once count per writer at the data (CountCheck): partition -1, the detail names the writer.
    /** A writer's results are not 1, 2, 3 ... (a record counted twice or not at all, a store that went back), or not of the input. */
    public static final String COUNT_WRONG = "count-wrong";
    /** A writer's count had not reached its number of input records by the end. */
    public static final String COUNT_UNDRAINED = "count-undrained";

    /**
     * Availability checks: a bound was exceeded, but nothing acknowledged was lost or corrupted. A
     * hanging transaction and an undrained pipeline hold readers back without losing anything.
     */
    public static final Set<String> AVAILABILITY_CHECKS = Set.of(STALL, RECOVERY, VOTER_STUCK, TXN_HANGING, TXN_UNDRAINED,
            MIRROR_UNDRAINED, MIRROR_MISPLACED, COUNT_UNDRAINED);

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
        if (check.equals(COUNT_WRONG) || check.equals(COUNT_UNDRAINED)) {
            return "count";
        }
        return offset >= 0 ? "p" + partition + "@" + offset : "p" + partition;
    }

    @Override
    public String toString() {
        return check + " " + where() + ": " + detail;
    }
}
