package io.spate.processing.store;

import io.spate.stream.Serdes;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.KeyValueStore;
import io.spate.stream.store.WindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RocksDB stores kept across a clean stop: flushed and reopened with their entries and counts,
 * and a checkpoint that is taken once, refused when old, and the only thing that keeps a task's
 * directory at a node's start.
 */
class StateCheckpointTest {
    private static final long NOW = 1_800_000_000_000L;

    @TempDir
    Path tmp;

    private static Bytes key(String k) {
        return Bytes.wrap(k.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void keptStoresComeBackWithTheirEntriesCountsAndEarliestWindow() {
        Path dir = tmp.resolve("state").resolve("p").resolve("0_3");
        try (RocksDbStores stores = RocksDbStores.open(dir)) {
            KeyValueStore<String> kv = stores.keyValueStore("kv", 3, Serdes.string());
            WindowStore<String> windows = stores.windowStore("win", 3, Serdes.string());
            kv.put(key("a"), "1");
            kv.put(key("b"), "2");
            windows.put(key("a"), 1000, "w1");
            windows.put(key("a"), 2000, "w2");
            stores.keepOnClose(Map.of(StateCheckpoint.partitionKey("p-kv-changelog", 3), 42L), NOW);
            kv.close();
            windows.close();
        }
        StateCheckpoint checkpoint = StateCheckpoint.take(dir, NOW + 1000);
        assertThat(checkpoint).isNotNull();
        assertThat(checkpoint.changelogOffsets()).containsExactly(Map.entry("p-kv-changelog:3", 42L));
        assertThat(dir.resolve(StateCheckpoint.FILE)).as("taken: a crash from now on rebuilds").doesNotExist();

        try (RocksDbStores stores = RocksDbStores.reopen(dir, checkpoint)) {
            KeyValueStore<String> kv = stores.keyValueStore("kv", 3, Serdes.string());
            WindowStore<String> windows = stores.windowStore("win", 3, Serdes.string());
            assertThat(kv.get(key("a"))).isEqualTo("1");
            assertThat(kv.get(key("b"))).isEqualTo("2");
            assertThat(kv.size()).isEqualTo(2);
            assertThat(windows.size()).isEqualTo(2);
            assertThat(windows.earliestStart()).isEqualTo(1000);
            List<String> seen = new ArrayList<>();
            windows.fetch(key("a"), 0, 5000, (k, start, v) -> seen.add(start + "=" + v));
            assertThat(seen).containsExactly("1000=w1", "2000=w2");
            kv.close();
            windows.close();
        }
        assertThat(dir).as("not kept this time: deleted").doesNotExist();
    }

    @Test
    void aCheckpointTooOldOrUnreadableIsNotUsedAndIsGoneOnceTaken() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("t"));
        new StateCheckpoint(NOW, Map.of("c:0", 5L), Map.of()).write(dir);
        assertThat(StateCheckpoint.take(dir, NOW + StateCheckpoint.MAX_AGE_MS)).isNull();
        assertThat(dir.resolve(StateCheckpoint.FILE)).doesNotExist();

        new StateCheckpoint(NOW, Map.of("c:0", 5L), Map.of()).write(dir);
        assertThat(StateCheckpoint.take(dir, NOW - 1)).as("written in the future: a clock that went back").isNull();

        Files.writeString(dir.resolve(StateCheckpoint.FILE), "written.ms=yesterday\n");
        assertThat(StateCheckpoint.take(dir, NOW)).isNull();
        assertThat(StateCheckpoint.take(dir, NOW)).as("no file: nothing").isNull();
    }

    @Test
    void aNodesStartKeepsOnlyTaskDirectoriesWithAUsableCheckpoint() throws Exception {
        Path state = tmp.resolve("state");
        Path kept = Files.createDirectories(state.resolve("p").resolve("0_0"));
        Path crashed = Files.createDirectories(state.resolve("p").resolve("0_1").resolve("store-1"));
        Path otherPipeline = Files.createDirectories(state.resolve("q").resolve("1_0"));
        long now = System.currentTimeMillis();
        new StateCheckpoint(now, Map.of("c:0", 1L), Map.of()).write(kept);
        StateCheckpoint.clearUnusable(state, now);
        assertThat(kept.resolve(StateCheckpoint.FILE)).isRegularFile();
        assertThat(crashed.getParent()).doesNotExist();
        assertThat(otherPipeline.getParent()).as("a pipeline left with no task directory goes").doesNotExist();
    }
}
