package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.store.KeyValueStore;
import io.spate.stream.store.SessionStore;
import io.spate.stream.store.StoreFactory;
import io.spate.stream.store.WindowStore;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The stores of one task in RocksDB (the {@code state.store=rocksdb} setting): a task's state may
 * then outgrow its share of the heap. Values are kept serialized with the serde the engine gives,
 * so every read deserializes a fresh value. One database per store, in
 * {@code <dir>/<store>-<partition>}; the stores share this task's block cache.
 *
 * <p>The changelog topics are the durable copy, which is why writes skip RocksDB's write-ahead
 * log. A task that stops cleanly keeps its databases ({@link #keepOnClose}): their memtables are
 * flushed and a {@link StateCheckpoint} says which changelog offsets they reflect, so that the
 * task's next start here restores only what follows ({@link #reopen}). Otherwise nothing survives
 * the task: a store's directory is wiped when it opens, and {@link #close} deletes {@code dir}.
 *
 * <p>Used from one thread at a time: its task's, or a standby's catching up and then, after the
 * hand-over, the task's (the standby's lock orders the two). Closing the task closes its stores;
 * closing this closes any left open (a task whose creation failed half-way) and the options they
 * share.
 */
public final class RocksDbStores implements StoreFactory, AutoCloseable {
    /** Small memtables: a node runs many tasks, and a task's working set is mostly recent windows. */
    private static final long WRITE_BUFFER_BYTES = 4L << 20;
    private static final int MAX_WRITE_BUFFERS = 2;
    private static final long BLOCK_CACHE_BYTES = 8L << 20;

    private final Path dir;
    private final LRUCache blockCache = new LRUCache(BLOCK_CACHE_BYTES);
    private final BloomFilter bloomFilter = new BloomFilter(10);
    /** No write-ahead log: the changelog is the durable copy, and the stores start empty after a crash. */
    private final WriteOptions writeOptions = new WriteOptions().setDisableWAL(true);
    private final List<RocksDbStore<?>> open = new ArrayList<>();
    /** Entry counts of the stores kept by the checkpoint this was reopened from (null: opened empty). */
    private final Map<String, Long> keptSizes;
    /** The changelog offsets to checkpoint at close (null: the stores are deleted then). */
    private Map<String, Long> keepOffsets;
    private long keepAtMs;
    private final Map<String, Long> closedSizes = new TreeMap<>();
    private boolean closed;

    private RocksDbStores(Path dir, Map<String, Long> keptSizes) {
        this.dir = dir;
        this.keptSizes = keptSizes;
    }

    /** Loads RocksDB's native library once, on first use: a node whose pipelines keep their state in memory never extracts it. */
    private static final class NativeLibrary {
        static {
            RocksDB.loadLibrary();
        }

        static void load() {
            // the class initializer did it
        }
    }

    /** Stores under {@code dir}, wiped first (what a previous instance of the task may have left). */
    public static RocksDbStores open(Path dir) {
        NativeLibrary.load();
        deleteRecursively(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreFailedException("cannot create the state directory " + dir, e);
        }
        return new RocksDbStores(dir, null);
    }

    /** The stores a clean stop left under {@code dir}, as {@code checkpoint} (already taken from the disk) describes them. */
    public static RocksDbStores reopen(Path dir, StateCheckpoint checkpoint) {
        NativeLibrary.load();
        return new RocksDbStores(dir, new TreeMap<>(checkpoint.storeSizes()));
    }

    /** True when the stores were kept from a clean stop rather than opened empty. */
    boolean reopened() {
        return keptSizes != null;
    }

    /** The entry count a kept store had at the checkpoint; 0 for a new one. */
    long keptSize(String storeDirName) {
        return keptSizes == null ? 0 : keptSizes.getOrDefault(storeDirName, 0L);
    }

    /**
     * At close, keep the databases and write a checkpoint: the stores reflect every record of
     * each changelog partition below {@code changelogOffsets} (keys from {@link StateCheckpoint#partitionKey}).
     */
    public void keepOnClose(Map<String, Long> changelogOffsets, long nowMs) {
        this.keepOffsets = Map.copyOf(changelogOffsets);
        this.keepAtMs = nowMs;
    }

    boolean keeping() {
        return keepOffsets != null;
    }

    public Path dir() {
        return dir;
    }

    @Override
    public <V> KeyValueStore<V> keyValueStore(String name, int partition, Serde<V> valueSerde) {
        return opened(new RocksDbKeyValueStore<>(name, storeDir(name, partition), this, valueSerde));
    }

    @Override
    public <V> WindowStore<V> windowStore(String name, int partition, Serde<V> valueSerde) {
        return opened(new RocksDbWindowStore<>(name, storeDir(name, partition), this, valueSerde));
    }

    @Override
    public <V> SessionStore<V> sessionStore(String name, int partition, Serde<V> valueSerde) {
        return opened(new RocksDbSessionStore<>(name, storeDir(name, partition), this, valueSerde));
    }

    private Path storeDir(String name, int partition) {
        if (closed) {
            throw new IllegalStateException("the stores in " + dir + " are closed");
        }
        // Store names are topic-name characters (they name the changelog topics): safe as a file name.
        return dir.resolve(name + "-" + partition);
    }

    private <S extends RocksDbStore<?>> S opened(S store) {
        open.add(store);
        return store;
    }

    void closed(RocksDbStore<?> store, String storeDirName, long size) {
        open.remove(store);
        closedSizes.put(storeDirName, size);
    }

    DBOptions dbOptions() {
        return new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                // Closing deletes the files: nothing to flush first.
                .setAvoidFlushDuringShutdown(true)
                .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
                .setKeepLogFileNum(1)
                // Tasks x stores databases share the node's file descriptors with its logs and sockets.
                .setMaxOpenFiles(64)
                .setStatsDumpPeriodSec(0);
    }

    ColumnFamilyOptions familyOptions() {
        return new ColumnFamilyOptions()
                .setWriteBufferSize(WRITE_BUFFER_BYTES)
                .setMaxWriteBufferNumber(MAX_WRITE_BUFFERS)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache).setFilterPolicy(bloomFilter));
    }

    WriteOptions writeOptions() {
        return writeOptions;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (RocksDbStore<?> store : List.copyOf(open)) {
            try {
                store.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        writeOptions.close();
        bloomFilter.close();
        blockCache.close();
        if (failure != null) {
            deleteRecursively(dir);
            throw failure;
        }
        if (keeping()) {
            try {
                new StateCheckpoint(keepAtMs, keepOffsets, closedSizes).write(dir);
                return;
            } catch (IOException e) {
                // No checkpoint: the next start rebuilds the stores, as after a crash.
                deleteRecursively(dir);
                throw new StoreFailedException("cannot write the state checkpoint in " + dir, e);
            }
        }
        deleteRecursively(dir);
    }

    /** Deletes {@code path} and everything under it; nothing when it does not exist. */
    public static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (NoSuchFileException ignored) {
                    // gone already
                }
            }
        } catch (NoSuchFileException ignored) {
            // deleted meanwhile
        } catch (IOException e) {
            throw new StoreFailedException("cannot delete " + path, e);
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) {
                throw new StoreFailedException("cannot delete " + path, e.getCause());
            }
        }
    }
}
