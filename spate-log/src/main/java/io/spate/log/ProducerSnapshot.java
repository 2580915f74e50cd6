package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The idempotent producers' state of one partition as of an offset, kept in a file next to the
 * segments. Without it the state would be rebuilt from the batches alone, and a producer whose
 * last batches were in segments that retention, DeleteRecords or compaction removed would be
 * forgotten: its next retry would be stored twice. It is written before segments are removed
 * and at a clean close; at load, the batches at or after its offset are replayed on top of it.
 *
 * <p>Format (text, written atomically): {@code 1}, the offset, the number of producers, then a
 * line per producer: id, epoch, and for each kept batch its first and last sequence, first and
 * last offset and timestamp.
 */
final class ProducerSnapshot {
    private static final Logger log = LoggerFactory.getLogger(ProducerSnapshot.class);
    static final String FILE_NAME = "producer-state-snapshot";

    /** What a snapshot file held: the state of every batch below {@code offset}. */
    record Contents(long offset, List<ProducerStateTable.SnapshotEntry> entries) {
        static final Contents NONE = new Contents(0, List.of());
    }

    private ProducerSnapshot() {
    }

    static void write(Path dir, long offset, ProducerStateTable table) throws IOException {
        List<ProducerStateTable.SnapshotEntry> entries = table.snapshot();
        StringBuilder text = new StringBuilder(64 + entries.size() * 64);
        text.append("1\n").append(offset).append('\n').append(entries.size()).append('\n');
        for (ProducerStateTable.SnapshotEntry entry : entries) {
            text.append(entry.producerId()).append(' ').append(entry.epoch());
            for (ProducerStateTable.BatchMetadata batch : entry.batches()) {
                text.append(' ').append(batch.firstSequence()).append(' ').append(batch.lastSequence())
                        .append(' ').append(batch.firstOffset()).append(' ').append(batch.lastOffset())
                        .append(' ').append(batch.timestamp());
            }
            text.append('\n');
        }
        LogManager.writeAtomically(dir.resolve(FILE_NAME), text.toString());
    }

    /** The snapshot in {@code dir}, or {@link Contents#NONE} (rebuild from offset 0) when there is no readable one. */
    static Contents read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return Contents.NONE;
        }
        try {
            List<String> lines = StableRead.lines(file);
            if (!lines.get(0).trim().equals("1")) {
                throw new IOException("unknown producer snapshot version " + lines.get(0));
            }
            long offset = Long.parseLong(lines.get(1).trim());
            int count = Integer.parseInt(lines.get(2).trim());
            List<ProducerStateTable.SnapshotEntry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String[] f = lines.get(3 + i).trim().split(" ");
                List<ProducerStateTable.BatchMetadata> batches = new ArrayList<>();
                for (int b = 2; b + 4 < f.length; b += 5) {
                    batches.add(new ProducerStateTable.BatchMetadata(Integer.parseInt(f[b]), Integer.parseInt(f[b + 1]),
                            Long.parseLong(f[b + 2]), Long.parseLong(f[b + 3]), Long.parseLong(f[b + 4])));
                }
                entries.add(new ProducerStateTable.SnapshotEntry(Long.parseLong(f[0]), Short.parseShort(f[1]), batches));
            }
            return new Contents(offset, entries);
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring unreadable {}: producer state is rebuilt from the batches still stored", file, e);
            return Contents.NONE;
        }
    }

    static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE_NAME));
    }
}
