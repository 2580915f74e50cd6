package io.spate.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Reads of the small files the log trusts without a checksum (checkpoints, snapshots, the
 * epoch file): a file is read until two reads in a row agree, so that one read returning a
 * wrong bit (the platter intact) does not become a wrong recovery point, high watermark or
 * epoch boundary, which would cut good data or move a high watermark back.
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

    static List<String> lines(Path file) throws IOException {
        return new String(bytes(file), StandardCharsets.UTF_8).lines().toList();
    }
}
