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
    static final String FILE_NAME = "producer-state-snapshot";

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
        LogManager.writeAtomically(dir.resolve(FILE_NAME), StableRead.withChecksum(text.toString()));
    }

    /** The snapshot in {@code dir}, or {@link Contents#NONE} (rebuild from offset 0) when there is no readable one. */
    static Contents read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return Contents.NONE;
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
            log.warn("ignoring unreadable {}: producer state is rebuilt from the batches still stored", file, e);
            return Contents.NONE;
        }
    }

    static void delete(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE_NAME));
    }
}
