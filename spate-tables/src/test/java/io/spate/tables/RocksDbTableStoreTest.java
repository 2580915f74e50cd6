package io.spate.tables;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RocksDbTableStoreTest extends TableStoreContract {
    @TempDir
    Path dir;
    private final List<TableStore> opened = new ArrayList<>();
    private int count;

    @Override
    TableStore open(Durability durability) {
        TableStore store = new RocksDbTableStore(dir.resolve("db" + count++), durability, scheduler);
        opened.add(store);
        return store;
    }

    @AfterEach
    void closeAll() {
        opened.forEach(TableStore::close);
    }

    @Test
    void reopensWithItsCellsAndCount() {
        Path db = dir.resolve("reopen");
        try (RocksDbTableStore store = new RocksDbTableStore(db, Durability.batched(50), scheduler)) {
            for (int i = 0; i < 100; i++) {
                store.merge(key(i), i % 10 == 0 ? Cell.tombstone(i + 1) : Cell.value(i + 1, ("v" + i).getBytes()), () -> { });
            }
        } // close flushes the waiting group
        try (RocksDbTableStore store = new RocksDbTableStore(db, Durability.SYNC_EACH, scheduler)) {
            assertThat(store.size()).isEqualTo(100);
            assertThat(store.maxHlc()).as("found at open, for the node's clock to start above").isEqualTo(100);
            assertThat(store.get(key(7))).isEqualTo(Cell.value(8, "v7".getBytes()));
            assertThat(store.get(key(20))).isEqualTo(Cell.tombstone(21));
            assertThat(store.merge(key(7), Cell.value(2, "older".getBytes()), () -> { })).isFalse();
        }
    }

    /**
     * A clean close leaves the count and largest timestamp for the next open, which then makes no
     * pass over the store; a write the close did not see (here through another handle, as after a
     * store stopped without its close) makes the numbers disagree, and the open counts again.
     */
    @Test
    void aCleanCloseSparesTheNextOpenItsCountingPassUnlessTheStoreChangedSince() throws Exception {
        Path db = dir.resolve("counts");
        try (RocksDbTableStore store = new RocksDbTableStore(db, Durability.SYNC_EACH, scheduler)) {
            assertThat(store.countsReadAtOpen()).isFalse();
            for (int i = 0; i < 50; i++) {
                store.merge(key(i), Cell.value(i + 1, ("v" + i).getBytes()), () -> { });
            }
        }
        try (RocksDbTableStore store = new RocksDbTableStore(db, Durability.SYNC_EACH, scheduler)) {
            assertThat(store.countsReadAtOpen()).isTrue();
            assertThat(store.size()).isEqualTo(50);
            assertThat(store.maxHlc()).isEqualTo(50);
            store.merge(key(60), Cell.value(70, "v".getBytes()), () -> { });
        }
        try (org.rocksdb.RocksDB raw = org.rocksdb.RocksDB.open(db.toString())) {
            raw.put(StoreKey.encodeKey(key(61)), StoreKey.encodeCell(Cell.value(900, "behind its back".getBytes())));
        }
        try (RocksDbTableStore store = new RocksDbTableStore(db, Durability.SYNC_EACH, scheduler)) {
            assertThat(store.countsReadAtOpen()).isFalse();
            assertThat(store.size()).isEqualTo(52);
            assertThat(store.maxHlc()).isEqualTo(900);
        }
    }
}
