package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.store.StateStore;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One store in a RocksDB database of its own, with the column families its layout needs: the
 * first is RocksDB's default one. Its directory is wiped when it opens and deleted when it closes,
 * unless its owner keeps the stores across a clean stop (then it is flushed and kept, and its
 * entry count goes into the checkpoint). Holds the entry count in memory. Used from its task's
 * thread only.
 */
abstract class RocksDbStore<V> implements StateStore {
    /** What a scan does with one entry: false stops it. */
    @FunctionalInterface
    interface EntryVisitor {
        boolean visit(byte[] key, byte[] value);
    }

    private final String name;
    private final Path dir;
    private final RocksDbStores owner;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions familyOptions;
    private final List<ColumnFamilyHandle> families = new ArrayList<>();
    private final RocksDB db;
    final Serde<V> valueSerde;
    long size;
    private boolean closed;

    RocksDbStore(String name, Path dir, RocksDbStores owner, Serde<V> valueSerde, List<String> familyNames) {
        this.name = name;
        this.dir = dir;
        this.owner = owner;
        this.valueSerde = valueSerde;
        if (!owner.reopened()) {
            RocksDbStores.deleteRecursively(dir);
        }
        this.size = owner.keptSize(dir.getFileName().toString());
        this.dbOptions = owner.dbOptions();
        this.familyOptions = owner.familyOptions();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions));
        for (String family : familyNames) {
            descriptors.add(new ColumnFamilyDescriptor(family.getBytes(StandardCharsets.UTF_8), familyOptions));
        }
        try {
            java.nio.file.Files.createDirectories(dir);
            this.db = RocksDB.open(dbOptions, dir.toString(), descriptors, families);
        } catch (RocksDBException | IOException e) {
            families.forEach(ColumnFamilyHandle::close);
            familyOptions.close();
            dbOptions.close();
            RocksDbStores.deleteRecursively(dir);
            throw new StoreFailedException("cannot open store " + name + " in " + dir, e);
        }
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final long size() {
        return size;
    }

    /** Column family {@code i}: 0 is the default one, then those named when opened, in order. */
    final ColumnFamilyHandle family(int i) {
        return families.get(i);
    }

    final byte[] serialize(V value) {
        byte[] bytes = valueSerde.serialize(value);
        if (bytes == null) {
            throw new IllegalStateException("store " + name + ": the value serde turned a value into null");
        }
        return bytes;
    }

    final byte[] get(ColumnFamilyHandle family, byte[] key) {
        try {
            return db.get(family, key);
        } catch (RocksDBException e) {
            throw failed("read", e);
        }
    }

    final boolean exists(ColumnFamilyHandle family, byte[] key) {
        return db.keyExists(family, key);
    }

    final void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
        try {
            db.put(family, owner.writeOptions(), key, value);
        } catch (RocksDBException e) {
            throw failed("write", e);
        }
    }

    final void delete(ColumnFamilyHandle family, byte[] key) {
        try {
            db.delete(family, owner.writeOptions(), key);
        } catch (RocksDBException e) {
            throw failed("write", e);
        }
    }

    /**
     * Visits {@code family}'s entries with {@code from <= key < until} in key order ({@code from}
     * null: from the first, {@code until} null: to the last). The iterator reads an implicit
     * snapshot: the visitor may write to the store. The upper bound also spares RocksDB stepping
     * over the deletions beyond it.
     */
    final void scan(ColumnFamilyHandle family, byte[] from, byte[] until, EntryVisitor visitor) {
        try (Slice upper = until == null ? null : new Slice(until);
             ReadOptions read = new ReadOptions();
             RocksIterator it = db.newIterator(family, upper == null ? read : read.setIterateUpperBound(upper))) {
            if (from == null) {
                it.seekToFirst();
            } else {
                it.seek(from);
            }
            for (; it.isValid(); it.next()) {
                if (!visitor.visit(it.key(), it.value())) {
                    break;
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw failed("read", e);
        }
    }

    /** The first key of {@code family} at or after {@code from}, or null. */
    final byte[] firstKey(ColumnFamilyHandle family, byte[] from) {
        byte[][] first = new byte[1][];
        scan(family, from, null, (key, value) -> {
            first[0] = key;
            return false;
        });
        return first[0];
    }

    private StoreFailedException failed(String what, RocksDBException e) {
        return new StoreFailedException("store " + name + " in " + dir + ": RocksDB failed to " + what + ": " + e.getMessage(), e);
    }

    /**
     * Closes the database and deletes its directory (the changelog holds the state), or, when the
     * owner keeps the stores, flushes the memtables first (writes skip the write-ahead log) and
     * keeps the files.
     */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean keep = owner.keeping();
        RocksDBException flushFailed = null;
        if (keep) {
            try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
                db.flush(flush, families);
            } catch (RocksDBException e) {
                flushFailed = e;
            }
        }
        families.forEach(ColumnFamilyHandle::close);
        db.close();
        familyOptions.close();
        dbOptions.close();
        owner.closed(this, dir.getFileName().toString(), size);
        if (flushFailed != null) {
            throw failed("flush before keeping the store", flushFailed);
        }
        if (!keep) {
            RocksDbStores.deleteRecursively(dir);
        }
    }
}
