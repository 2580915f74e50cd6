package io.spate.tables;

import io.spate.time.Scheduler;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A replica's cells in a RocksDB database of their own (layout in {@link StoreKey}). Writes go to
 * the write-ahead log without a sync; durability comes from {@code syncWal()}: after each write
 * (SYNC_EACH) or once per group (BATCHED), as {@link GroupCommitStore} decides. A kill of the process
 * loses nothing either way (the WAL is in the page cache); a power loss loses what was not synced,
 * and RocksDB's recovery replays the WAL up to its last intact record.
 *
 * <p>The read-merge-write of {@link #merge} is not atomic in RocksDB terms; it needs none, because
 * one thread (the node's) does every write.
 */
public final class RocksDbTableStore extends GroupCommitStore {
    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final Options options;
    private final org.rocksdb.Filter filter;
    private final WriteOptions writeOptions;
    private final RocksDB db;
    private long size;
    private long maxHlc;
    private boolean closed;

    public RocksDbTableStore(Path dir, Durability durability, Scheduler scheduler) {
        this(dir, durability, scheduler, null);
    }

    /**
     * A block cache shared by a node's stores ({@link #blockCache}), and a Bloom filter per file
     * that spares a read of a key not in it (every write reads the key first: a new key is such
     * a read). Without the shared cache each store gets RocksDB's own default (32 MiB).
     */
    public static org.rocksdb.Cache blockCache(long bytes) {
        return new org.rocksdb.LRUCache(bytes);
    }

    public RocksDbTableStore(Path dir, Durability durability, Scheduler scheduler, org.rocksdb.Cache sharedCache) {
        super(durability, scheduler);
        this.dir = dir;
        // The stores share the node's data directory with its logs, which may be a small or full
        // disk: no space reserved ahead of need (RocksDB would fallocate about 70 MB of WAL and 4 MB
        // of manifest per store, more than a small disk holds), a smaller memtable than RocksDB's
        // 64 MB default (a node holds one store per table), and RocksDB's own log kept short.
        this.options = new Options().setCreateIfMissing(true)
                .setAllowFAllocate(false)
                .setManifestPreallocationSize(64 << 10)
                .setWriteBufferSize(16 << 20)
                .setInfoLogLevel(org.rocksdb.InfoLogLevel.WARN_LEVEL)
                .setKeepLogFileNum(2)
                .setMaxLogFileSize(1 << 20)
                .setStatsDumpPeriodSec(0);
        if (sharedCache != null) {
            // A key's whole cell is one value: point lookups, where the filter's one probe per file pays.
            filter = new org.rocksdb.BloomFilter(10, false);
            options.setTableFormatConfig(new org.rocksdb.BlockBasedTableConfig().setBlockCache(sharedCache).setFilterPolicy(filter));
        } else {
            filter = null;
        }
        this.writeOptions = new WriteOptions().setSync(false);
        try {
            Files.createDirectories(dir);
            this.db = RocksDB.open(options, dir.toString());
        } catch (RocksDBException e) {
            closeOptions();
            throw new StoreException("cannot open table store in " + dir, e);
        } catch (IOException e) {
            closeOptions();
            throw new UncheckedIOException(e);
        }
        try {
            if (!readCounts()) {
                readAtOpen(); // once; kept in memory after
            }
            countsKnown = true;
        } catch (RuntimeException e) {
            close(); // the database's lock would otherwise stay held, and every later open of the table fail
            throw e;
        }
    }

    /**
     * Where a clean close leaves the count of cells and their largest timestamp, with the
     * database's last sequence number: a restart after a clean stop then opens a large table
     * without a pass over it (a pass that held every request of the tables' thread), and any
     * write since, or a store closed otherwise, makes the numbers disagree and the pass runs.
     */
    static final String COUNTS_FILE = "spate-counts";
    private boolean countsReadAtOpen;
    /**
     * Set once the open read or counted them: a store whose counting pass failed (its open fails,
     * and closes it) must not leave zeros that the next open, with the same sequence number, would
     * believe (found by a review).
     */
    private boolean countsKnown;

    /** Whether the count and largest timestamp came from a clean close's {@link #COUNTS_FILE} (for tests). */
    boolean countsReadAtOpen() {
        return countsReadAtOpen;
    }

    private boolean readCounts() {
        Path file = dir.resolve(COUNTS_FILE);
        if (!Files.exists(file)) {
            return false;
        }
        try {
            String[] f = Files.readString(file).trim().split(" ");
            Files.delete(file); // used once: the next close writes it again
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            String body = f[0] + " " + f[1] + " " + f[2] + " " + f[3];
            crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (f.length != 5 || !f[0].equals("1") || Long.parseLong(f[4]) != crc.getValue()
                    || Long.parseLong(f[1]) != db.getLatestSequenceNumber()) {
                return false;
            }
            size = Long.parseLong(f[2]);
            maxHlc = Long.parseLong(f[3]);
            countsReadAtOpen = true;
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // counted instead
        }
    }

    /** After the close's flush, on the only thread that writes: see {@link #COUNTS_FILE}. */
    private void writeCounts() {
        String body = "1 " + db.getLatestSequenceNumber() + " " + size + " " + maxHlc;
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path file = dir.resolve(COUNTS_FILE);
        Path tmp = dir.resolve(COUNTS_FILE + ".tmp");
        try {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(java.nio.ByteBuffer.wrap((body + " " + crc.getValue() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                channel.force(true);
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            // The next open counts instead.
        }
    }

    /**
     * Counts the cells and finds their largest timestamp. Every stored key is a cell's; of each
     * value only its first bytes (the timestamp) are copied out, not the value itself.
     */
    private void readAtOpen() {
        long n = 0;
        long max = 0;
        java.nio.ByteBuffer valueHead = java.nio.ByteBuffer.allocateDirect(8);
        try (ReadOptions once = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(once)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                n++;
                valueHead.clear();
                if (it.value(valueHead) >= 8) {
                    max = Math.max(max, valueHead.getLong(0));
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StoreException("count of " + dir, e);
        }
        size = n;
        maxHlc = max;
    }

    @Override
    public Cell get(byte[] key) {
        try {
            byte[] stored = db.get(StoreKey.encodeKey(key));
            return stored == null ? null : StoreKey.decodeCell(stored);
        } catch (RocksDBException e) {
            throw new StoreException("read of " + dir, e);
        }
    }

    @Override
    public boolean merge(byte[] key, Cell cell, Runnable whenDurable) {
        byte[] storedKey = StoreKey.encodeKey(key);
        try {
            byte[] stored = db.get(storedKey);
            Cell old = stored == null ? null : StoreKey.decodeCell(stored);
            boolean changed = Cell.compare(cell, old) > 0;
            if (changed) {
                db.put(writeOptions, storedKey, StoreKey.encodeCell(cell));
                if (old == null) {
                    size++;
                }
                maxHlc = Math.max(maxHlc, cell.hlc());
            }
            afterWrite(whenDurable);
            return changed;
        } catch (RocksDBException e) {
            throw new StoreException("write to " + dir, e);
        }
    }

    @Override
    public boolean removeIf(byte[] key, Cell expected) {
        return removeWhen(key, stored -> expected.equals(StoreKey.decodeCell(stored)));
    }

    @Override
    public boolean removeIfHeader(byte[] key, long hlc, boolean tombstone) {
        return removeWhen(key, stored -> stored.length >= 9 && java.nio.ByteBuffer.wrap(stored).getLong(0) == hlc
                && ((stored[8] & 1) != 0) == tombstone);
    }

    /** Deletes {@code key} if it is stored and its stored value passes {@code matches}. */
    private boolean removeWhen(byte[] key, java.util.function.Predicate<byte[]> matches) {
        byte[] storedKey = StoreKey.encodeKey(key);
        try {
            byte[] stored = db.get(storedKey);
            if (stored == null || !matches.test(stored)) {
                return false;
            }
            db.delete(writeOptions, storedKey);
            size--;
            return true;
        } catch (RocksDBException e) {
            throw new StoreException("delete in " + dir, e);
        }
    }

    /** As {@link #findPurgeable}: the key is copied out, of the value only its header. */
    @Override
    public void scanHeaders(byte[] afterKey, HeaderVisitor visitor) {
        byte[] from = afterKey == null ? null : StoreKey.encodeKey(afterKey);
        try (RocksIterator it = db.newIterator()) {
            if (from == null) {
                it.seekToFirst();
            } else {
                it.seek(from);
            }
            for (; it.isValid(); it.next()) {
                byte[] storedKey = it.key();
                if (from != null && java.util.Arrays.equals(storedKey, from)) {
                    continue;
                }
                header.clear();
                int valueLength = it.value(header);
                if (valueLength < 9) {
                    throw new IllegalStateException("a stored cell of " + valueLength + " bytes in " + dir);
                }
                if (!visitor.visit(StoreKey.keyOf(storedKey), header.getLong(0), (header.get(8) & 1) != 0)) {
                    return;
                }
            }
        }
    }

    @Override
    public void scan(TokenRange range, BiConsumer<byte[], Cell> visitor) {
        long a = range.startExclusive();
        long b = range.endInclusive();
        if (range.wraps()) {
            if (a != Long.MAX_VALUE) {
                scanTokens(a + 1, Long.MAX_VALUE, visitor);
            }
            scanTokens(Long.MIN_VALUE, b, visitor);
        } else {
            scanTokens(a + 1, b, visitor);
        }
    }

    /** Keys with tokens in [from, to], in order. */
    private void scanTokens(long from, long to, BiConsumer<byte[], Cell> visitor) {
        try (RocksIterator it = db.newIterator()) {
            for (it.seek(StoreKey.seekKey(from)); it.isValid(); it.next()) {
                byte[] storedKey = it.key();
                if (StoreKey.tokenOf(storedKey) > to) {
                    break;
                }
                visitor.accept(StoreKey.keyOf(storedKey), StoreKey.decodeCell(it.value()));
            }
        }
    }

    @Override
    public void scanAll(BiConsumer<byte[], Cell> visitor) {
        scanTokens(Long.MIN_VALUE, Long.MAX_VALUE, visitor);
    }

    @Override
    public int purgeTombstones(long purgeBeforeMs) {
        List<byte[]> keys = new ArrayList<>();
        List<Cell> cells = new ArrayList<>();
        findPurgeable(Long.MIN_VALUE, Long.MAX_VALUE, purgeBeforeMs, keys, cells);
        return removeEach(keys, cells);
    }

    /**
     * Reads each entry's token and cell header only (the key and value are copied out of RocksDB
     * for the tombstones that may go, not for every cell): the collection visits every key of the
     * table once a period, and copying every value made it the costliest scan the node runs.
     */
    @Override
    public int purgeTombstones(TokenRange range, long purgeBeforeMs) {
        List<byte[]> keys = new ArrayList<>();
        List<Cell> cells = new ArrayList<>();
        long a = range.startExclusive();
        long b = range.endInclusive();
        if (range.wraps()) {
            if (a != Long.MAX_VALUE) {
                findPurgeable(a + 1, Long.MAX_VALUE, purgeBeforeMs, keys, cells);
            }
            findPurgeable(Long.MIN_VALUE, b, purgeBeforeMs, keys, cells);
        } else {
            findPurgeable(a + 1, b, purgeBeforeMs, keys, cells);
        }
        return removeEach(keys, cells);
    }

    /** The store's thread's: the first bytes of a stored key (its token) or value (hlc and flags). */
    private final java.nio.ByteBuffer header = java.nio.ByteBuffer.allocateDirect(9);

    private void findPurgeable(long from, long to, long purgeBeforeMs, List<byte[]> keys, List<Cell> cells) {
        try (RocksIterator it = db.newIterator()) {
            for (it.seek(StoreKey.seekKey(from)); it.isValid(); it.next()) {
                header.clear();
                it.key(header);
                if ((header.getLong(0) ^ Long.MIN_VALUE) > to) {
                    break;
                }
                header.clear();
                int valueLength = it.value(header);
                if (valueLength < 9) {
                    throw new IllegalStateException("a stored cell of " + valueLength + " bytes in " + dir);
                }
                long hlc = header.getLong(0);
                boolean tombstone = (header.get(8) & 1) != 0;
                if (tombstone && Cell.tombstone(hlc).purgeable(purgeBeforeMs)) {
                    keys.add(StoreKey.keyOf(it.key()));
                    cells.add(StoreKey.decodeCell(it.value()));
                }
            }
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long maxHlc() {
        return maxHlc;
    }

    @Override
    protected void syncToDisk() {
        try {
            db.syncWal();
        } catch (RocksDBException e) {
            throw new StoreException("fsync of " + dir, e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            flush();
            if (countsKnown) {
                writeCounts();
            }
        } finally {
            db.close();
            closeOptions();
        }
    }

    private void closeOptions() {
        writeOptions.close();
        options.close();
        if (filter != null) {
            filter.close();
        }
    }

    /** A store that cannot read or write its disk: the node takes the table offline. */
    public static final class StoreException extends RuntimeException {
        StoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
