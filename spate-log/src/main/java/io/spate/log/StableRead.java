package io.spate.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Reads of the small files the log keeps as text (checkpoints, snapshots, the epoch file): a
 * file is read until two reads in a row agree, so that one read returning a wrong bit (the
 * platter intact) does not become a wrong recovery point, high watermark or epoch boundary,
 * which would cut good data or move a high watermark back; and a file written with a checksum
 * line is checked against it, so that a bit changed on the platter is not either.
 */
final class StableRead {
    private static final int MAX_READS = 4;

    private StableRead() {
    }

    static byte[] bytes(Path file) throws IOException {
        byte[] previous = Files.readAllBytes(file);
        for (int read = 2; read <= MAX_READS; read++) {
            byte[] next = Files.readAllBytes(file);
            if (Arrays.equals(previous, next)) {
                return next;
            }
            previous = next;
        }
        throw new IOException(file + " reads back differently each time (" + MAX_READS + " reads)");
    }

    /**
     * The file's lines. A file written by {@link #withChecksum} ends with its checksum line, which
     * is checked and left out; a file without one (written before checksums) is taken as it is.
     *
     * @throws IOException when the checksum does not match: the file was damaged on disk
     */
    static List<String> lines(Path file) throws IOException {
        String text = new String(bytes(file), StandardCharsets.UTF_8);
        int last = text.lastIndexOf(CHECKSUM_PREFIX);
        if (last > 0 && text.charAt(last - 1) != '\n') {
            // The line break before it rotted: the last line of the content would end in the checksum.
            throw new ChecksumMismatch(file + ": its checksum line does not start a line: damaged on disk");
        }
        if (last >= 0) {
            String content = text.substring(0, last);
            String stored = text.substring(last + CHECKSUM_PREFIX.length()).trim();
            String computed = checksum(content);
            if (!computed.equals(stored)) {
                throw new ChecksumMismatch(file + " fails its checksum (stored " + stored + ", computed " + computed + "): damaged on disk");
            }
            return content.lines().toList();
        }
        return text.lines().toList();
    }

    /**
     * {@code content} (whole lines) with a last line holding its CRC-32C. The small files the log
     * keeps are text; a digit changed on the platter used to be read as another number (a log
     * start that deleted acknowledged records, an epoch boundary that cut good data: found by the
     * replication simulation with bits rotting on disk). Readers written before the line skip it.
     */
    static String withChecksum(String content) {
        return content + CHECKSUM_PREFIX + checksum(content) + "\n";
    }

    private static final String CHECKSUM_PREFIX = "#crc32c ";

    /** A file whose checksum line does not match what it holds: damaged on disk. */
    static final class ChecksumMismatch extends IOException {
        ChecksumMismatch(String message) {
            super(message);
        }
    }

    private static String checksum(String content) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(content.getBytes(StandardCharsets.UTF_8));
        return Long.toHexString(crc.getValue());
    }
}
