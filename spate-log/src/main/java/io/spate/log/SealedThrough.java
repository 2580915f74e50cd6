package io.spate.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How far a log's segments are known to be sealed, in {@value #FILE_NAME} beside them: every
 * segment that begins at or below the stored offset was created only after all the segments
 * before it were fsynced. A gap between the end of one segment and the base of the next is then
 * deliberate (compaction's output, a compacted leader's gaps copied by a follower) wherever the
 * next one begins at or below it, and a tear (a power loss that kept the later segment and lost
 * the unsynced tail of the earlier one) anywhere past it.
 *
 * <p>The load used to tell the two apart by the topic's current cleanup policy, which says
 * nothing about the policy the segments were written under: a topic switched from {@code compact}
 * to {@code delete} had its compaction gaps cut as tears after a crash (acknowledged records
 * lost when every replica crashed), and one switched the other way kept real tears. The offset is
 * raised, durably, before the segment it covers exists, so a crash never leaves a deliberate gap
 * past it; it is lowered, durably, before a truncation's appends can roll past the cut.
 *
 * <p>One line with the offset and a CRC-32C line, written as the data directory's checkpoints
 * are ({@link LogManager#writeAtomically}): a crash leaves the old file or the new one.
 */
final class SealedThrough {
    static final String FILE_NAME = "sealed-through";
    /** Nothing is known sealed: every gap between segments past the recovery point is a tear. */
    static final long NONE = -1;

    private SealedThrough() {
    }

    /**
     * The stored offset, or null when the log has no such file (one written before it existed,
     * or one whose file is damaged: the caller falls back to what the load did before).
     */
    static Long read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return null;
        }
        List<String> lines;
        try {
            lines = StableRead.lines(file);
        } catch (StableRead.ChecksumMismatch e) {
            return null;
        }
        if (lines.isEmpty()) {
            return null;
        }
        try {
            return Long.parseLong(lines.get(0).strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Stores {@code offset} in {@code dir} durably: the file's content and its name. */
    static void write(Path dir, long offset) throws IOException {
        LogManager.writeAtomically(dir.resolve(FILE_NAME), StableRead.withChecksum(offset + "\n"));
    }
}
