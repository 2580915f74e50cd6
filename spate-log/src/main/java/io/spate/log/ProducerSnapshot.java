package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The idempotent producers' state of one partition as of an offset, kept in files next to the
 * segments, one per offset it was taken at ({@code <offset, 20 digits>.snapshot}, as Kafka names
 * them). Without them the state would be rebuilt from the batches alone, and a producer whose
 * last batches were in segments that retention, DeleteRecords or compaction removed would be
 * forgotten: its next retry would be stored twice. One is written at every roll, before segments
 * are removed and at a clean close; at load the batches at or after the newest one's offset are
 * replayed on top of it, and a truncation replays from the newest one at or below its cut. A
 * snapshot at offset S describes the batches below S, so it stays true as long as nothing below
 * S is replaced: every truncation deletes the snapshots past its cut before the log refills.
 *
 * <p>One file per log (before 2026-12-07, {@value #LEGACY_FILE_NAME}) left a truncation below it
 * nothing to start from but the segments, which no longer hold the producers retention removed.
 * Such a file is renamed to the new form at load.
 *
 * <p>Format (text, written atomically), version 2: {@code 2}, the offset, the number of
 * producers, then a line per producer: id, epoch, coordinator epoch of its last marker (-1),
 * first offset of its open transaction (-1), time of its last batch or marker, and for each kept
 * batch its first and last sequence, first and last offset and timestamp; then the offset from
 * which the transactions decided but not yet below the high watermark are all listed, their
 * number, and a line for each: producer id, epoch, first offset, marker offset. Version 1 (no
 * transactions: written by builds that refused transactional data) had only the version, the
 * offset, the count and, per producer, id, epoch and batches; it still loads.
 */
final class ProducerSnapshot {
    private static final Logger log = LoggerFactory.getLogger(ProducerSnapshot.class);
    static final String SUFFIX = ".snapshot";
    static final String LEGACY_FILE_NAME = "producer-state-snapshot";

    /** What a snapshot file held: the state of every batch below {@code offset}. */
    record Contents(long offset, List<ProducerStateTable.SnapshotEntry> entries, List<ProducerStateTable.CompletedTxn> unreplicated,
                    long completedKnownFrom) {
        static final Contents NONE = new Contents(0, List.of(), List.of(), 0);

        /** Puts this state into {@code table}. */
        void restoreInto(ProducerStateTable table) {
            entries.forEach(table::restore);
            table.restoreUnreplicated(unreplicated, completedKnownFrom);
        }
    }

    private ProducerSnapshot() {
    }

    static void write(Path dir, long offset, ProducerStateTable table) throws IOException {
        List<ProducerStateTable.SnapshotEntry> entries = table.snapshot();
        List<ProducerStateTable.CompletedTxn> unreplicated = table.unreplicatedTxns();
        StringBuilder text = new StringBuilder(64 + entries.size() * 64 + unreplicated.size() * 48);
        text.append("2\n").append(offset).append('\n').append(entries.size()).append('\n');
        for (ProducerStateTable.SnapshotEntry entry : entries) {
            text.append(entry.producerId()).append(' ').append(entry.epoch()).append(' ').append(entry.coordinatorEpoch())
                    .append(' ').append(entry.txnFirstOffset()).append(' ').append(entry.lastTimestamp());
            for (ProducerStateTable.BatchMetadata batch : entry.batches()) {
                text.append(' ').append(batch.firstSequence()).append(' ').append(batch.lastSequence())
                        .append(' ').append(batch.firstOffset()).append(' ').append(batch.lastOffset())
                        .append(' ').append(batch.timestamp());
            }
            text.append('\n');
        }
        text.append(table.completedKnownFrom()).append('\n').append(unreplicated.size()).append('\n');
        for (ProducerStateTable.CompletedTxn txn : unreplicated) {
            text.append(txn.producerId()).append(' ').append(txn.producerEpoch()).append(' ').append(txn.firstOffset())
                    .append(' ').append(txn.markerOffset()).append('\n');
        }
        LogManager.writeAtomically(fileFor(dir, offset), StableRead.withChecksum(text.toString()));
    }

    static Path fileFor(Path dir, long offset) {
        return dir.resolve(String.format("%020d", offset) + SUFFIX);
    }

    /** The offsets of the snapshots in {@code dir}, ascending. */
    static List<Long> offsets(Path dir) throws IOException {
        List<Long> offsets = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(file -> {
                String name = file.getFileName().toString();
                if (name.length() == 20 + SUFFIX.length() && name.endsWith(SUFFIX)) {
                    try {
                        offsets.add(Long.parseLong(name.substring(0, 20)));
                    } catch (NumberFormatException e) {
                        log.warn("ignoring {}: not a producer snapshot's name", file);
                    }
                }
            });
        }
        offsets.sort(null);
        return offsets;
    }

    /**
     * The newest readable snapshot at or above {@code firstSegmentBase}, or {@link Contents#NONE}
     * (rebuild from the first segment).
     */
    static Contents newest(Path dir, long firstSegmentBase) throws IOException {
        return newestAtOrBelow(dir, Long.MAX_VALUE, firstSegmentBase);
    }

    /**
     * The newest readable snapshot at or below {@code offset}: what a truncation to it starts its
     * replay from. An unreadable one is passed over for the one before it, which only makes the
     * replay longer. None below {@code firstSegmentBase} is used: the batches between it and the
     * first segment are gone, and a transaction it holds open whose marker was among them would
     * stay open for good, holding the last stable offset (the segments alone open again every
     * transaction with a batch still stored).
     */
    static Contents newestAtOrBelow(Path dir, long offset, long firstSegmentBase) throws IOException {
        List<Long> offsets = offsets(dir);
        for (int i = offsets.size() - 1; i >= 0; i--) {
            long at = offsets.get(i);
            if (at > offset) {
                continue;
            }
            if (at < firstSegmentBase) {
                break;
            }
            Contents contents = read(fileFor(dir, at));
            if (contents != null && contents.offset() == at) {
                return contents;
            }
            if (contents != null) {
                log.warn("ignoring {}: it holds the state as of offset {}", fileFor(dir, at), contents.offset());
            }
        }
        return Contents.NONE;
    }

    /**
     * Deletes the snapshots past {@code offset} (a truncation's cut, or a reloaded log's end): the
     * batches that fill those offsets again would be skipped by a replay starting there. Says
     * whether any went; the caller makes that durable before the log refills.
     */
    static boolean deleteAbove(Path dir, long offset) throws IOException {
        boolean deleted = false;
        for (long at : offsets(dir)) {
            if (at > offset) {
                deleted |= Files.deleteIfExists(fileFor(dir, at));
            }
        }
        return deleted;
    }

    /**
     * Deletes the snapshots below {@code offset}: the first segment's base (none of them is read
     * again, see {@link #newestAtOrBelow}), or the end of a range about to be compacted.
     */
    static void deleteBefore(Path dir, long offset) throws IOException {
        for (long at : offsets(dir)) {
            if (at < offset) {
                Files.deleteIfExists(fileFor(dir, at));
            }
        }
    }

    /**
     * Deletes the snapshots that are neither at a segment's base nor the newest (taken at closes,
     * retention passes and compactions), as Kafka removes its stray snapshots, so that a log keeps
     * about one per segment: a truncation between them replays from the segment's base instead.
     */
    static void deleteStrays(Path dir, java.util.Set<Long> segmentBases) throws IOException {
        List<Long> offsets = offsets(dir);
        for (int i = 0; i < offsets.size() - 1; i++) {
            if (!segmentBases.contains(offsets.get(i))) {
                Files.deleteIfExists(fileFor(dir, offsets.get(i)));
            }
        }
    }

    static void deleteAll(Path dir) throws IOException {
        for (long at : offsets(dir)) {
            Files.deleteIfExists(fileFor(dir, at));
        }
        Files.deleteIfExists(dir.resolve(LEGACY_FILE_NAME));
    }

    /**
     * Renames the one snapshot file of a log written before snapshots were kept per offset to
     * the name of its offset (an unreadable one is deleted, as it would have been ignored). Found
     * beside snapshots per offset, it was written by an earlier release the node ran since, whose
     * truncations did not delete those: they go.
     */
    static void migrateLegacy(Path dir) throws IOException {
        Path legacy = dir.resolve(LEGACY_FILE_NAME);
        if (!Files.exists(legacy)) {
            return;
        }
        List<Long> stale = offsets(dir);
        for (long at : stale) {
            Files.deleteIfExists(fileFor(dir, at));
        }
        if (!stale.isEmpty()) {
            LogManager.fsyncDirectory(dir); // before the rename: a power loss must not keep it and bring them back
        }
        Contents contents = read(legacy);
        if (contents != null) {
            Files.move(legacy, fileFor(dir, contents.offset()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.delete(legacy);
        }
        LogManager.fsyncDirectory(dir);
    }

    /** The snapshot in {@code file}, or null when it is missing or unreadable (with a warning). */
    static Contents read(Path file) {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            List<String> lines = StableRead.lines(file);
            String version = lines.get(0).trim();
            if (!version.equals("1") && !version.equals("2")) {
                throw new IOException("unknown producer snapshot version " + lines.get(0));
            }
            boolean transactions = version.equals("2");
            int firstBatchField = transactions ? 5 : 2;
            long offset = Long.parseLong(lines.get(1).trim());
            int count = Integer.parseInt(lines.get(2).trim());
            List<ProducerStateTable.SnapshotEntry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String[] f = lines.get(3 + i).trim().split(" ");
                List<ProducerStateTable.BatchMetadata> batches = new ArrayList<>();
                for (int b = firstBatchField; b + 4 < f.length; b += 5) {
                    batches.add(new ProducerStateTable.BatchMetadata(Integer.parseInt(f[b]), Integer.parseInt(f[b + 1]),
                            Long.parseLong(f[b + 2]), Long.parseLong(f[b + 3]), Long.parseLong(f[b + 4])));
                }
                long producerId = Long.parseLong(f[0]);
                short epoch = Short.parseShort(f[1]);
                entries.add(transactions
                        ? new ProducerStateTable.SnapshotEntry(producerId, epoch, batches, Integer.parseInt(f[2]), Long.parseLong(f[3]),
                        Long.parseLong(f[4]))
                        : ProducerStateTable.SnapshotEntry.withoutTransactions(producerId, epoch, batches));
            }
            if (!transactions) {
                return new Contents(offset, entries, List.of(), 0);
            }
            int next = 3 + count;
            long knownFrom = Long.parseLong(lines.get(next).trim());
            int decided = Integer.parseInt(lines.get(next + 1).trim());
            List<ProducerStateTable.CompletedTxn> unreplicated = new ArrayList<>(decided);
            for (int i = 0; i < decided; i++) {
                String[] f = lines.get(next + 2 + i).trim().split(" ");
                unreplicated.add(new ProducerStateTable.CompletedTxn(Long.parseLong(f[0]), Short.parseShort(f[1]), Long.parseLong(f[2]),
                        Long.parseLong(f[3])));
            }
            return new Contents(offset, entries, unreplicated, knownFrom);
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring unreadable {}: producer state is rebuilt from an older snapshot or the batches still stored", file, e);
            return null;
        }
    }
}
