package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.InMemoryStores;
import io.spate.stream.store.KeyValueStore;
import io.spate.stream.store.SessionStore;
import io.spate.stream.store.StoreFactory;
import io.spate.stream.store.WindowStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One suite for every store implementation: the heap's ({@link InMemoryStores}, the reference)
 * and RocksDB's. Keys are chosen so that byte order differs from insertion order (a key that is
 * a prefix of another, bytes above 0x7f, the empty key), times include negative and extreme
 * ones; orders the interfaces promise (oldest first, by end) are checked, and orders they leave
 * open (within one start or end, a key-value store's iteration) are not.
 */
class StoreConformanceTest {
    private static final Serde<String> S = Serdes.string();
    private static final Bytes A = key("a");
    private static final Bytes AB = key("ab");
    private static final Bytes B = key("b");
    private static final Bytes Z = key("z");
    private static final Bytes HIGH = Bytes.wrap(new byte[]{(byte) 0xff, 0x01});
    private static final Bytes EMPTY = Bytes.wrap(new byte[0]);

    @TempDir
    Path dir;
    private RocksDbStores rocksDb;

    private record Window(Bytes key, long start, String value) {
    }

    private record Session(Bytes key, long start, long end, String value) {
    }

    private static Bytes key(String s) {
        return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private StoreFactory stores(String kind) {
        if (kind.equals("in_memory")) {
            return InMemoryStores.INSTANCE;
        }
        rocksDb = RocksDbStores.open(dir.resolve("task"));
        return rocksDb;
    }

    @AfterEach
    void closeStores() {
        if (rocksDb != null) {
            rocksDb.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"in_memory", "rocksdb"})
    void keyValuePutGetDeleteForEachAndSize(String kind) {
        try (KeyValueStore<String> store = stores(kind).keyValueStore("kv", 0, S)) {
            assertThat(store.name()).isEqualTo("kv");
            assertThat(store.size()).isZero();
            assertThat(store.get(A)).isNull();
            store.put(Z, "z1");
            store.put(AB, "ab1");
            store.put(A, "a1");
            store.put(HIGH, "high1");
            store.put(EMPTY, "");
            assertThat(store.size()).isEqualTo(5);
            assertThat(store.get(A)).isEqualTo("a1");
            assertThat(store.get(AB)).isEqualTo("ab1");
            assertThat(store.get(key("a"))).as("equal content, another array").isEqualTo("a1");
            assertThat(store.get(EMPTY)).isEqualTo("");
            assertThat(store.get(B)).isNull();

            store.put(A, "a2");
            assertThat(store.size()).as("an overwrite adds nothing").isEqualTo(5);
            assertThat(store.get(A)).isEqualTo("a2");
            store.put(AB, null);
            assertThat(store.size()).isEqualTo(4);
            assertThat(store.get(AB)).isNull();
            store.put(AB, null);
            store.put(B, null);
            assertThat(store.size()).as("deleting what is absent changes nothing").isEqualTo(4);
            store.put(AB, "ab2");
            assertThat(store.size()).isEqualTo(5);

            Map<Bytes, String> all = new HashMap<>();
            store.forEach(all::put);
            assertThat(all).isEqualTo(Map.of(Z, "z1", A, "a2", AB, "ab2", HIGH, "high1", EMPTY, ""));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"in_memory", "rocksdb"})
    void windowsAreFetchedOneByOneAndPerKeyOldestFirst(String kind) {
        try (WindowStore<String> store = stores(kind).windowStore("w", 3, S)) {
            assertThat(store.earliestStart()).isEqualTo(Long.MAX_VALUE);
            long[] starts = {100, -50, Long.MIN_VALUE, 1L << 50, Long.MAX_VALUE, 0};
            for (long start : starts) {
                store.put(A, start, "a@" + start);
                store.put(AB, start, "ab@" + start);
            }
            store.put(HIGH, 100, "high@100");
            assertThat(store.size()).isEqualTo(13);
            assertThat(store.fetch(A, -50)).isEqualTo("a@-50");
            assertThat(store.fetch(AB, Long.MIN_VALUE)).isEqualTo("ab@" + Long.MIN_VALUE);
            assertThat(store.fetch(A, 99)).isNull();
            assertThat(store.fetch(B, 100)).isNull();

            assertThat(fetch(store, A, Long.MIN_VALUE, Long.MAX_VALUE)).extracting(Window::start)
                    .containsExactly(Long.MIN_VALUE, -50L, 0L, 100L, 1L << 50, Long.MAX_VALUE);
            assertThat(fetch(store, A, Long.MIN_VALUE, Long.MAX_VALUE)).allSatisfy(w -> {
                assertThat(w.key()).isEqualTo(A);
                assertThat(w.value()).isEqualTo("a@" + w.start());
            });
            assertThat(fetch(store, A, -50, 100)).extracting(Window::start).containsExactly(-50L, 0L, 100L);
            assertThat(fetch(store, A, -49, 99)).extracting(Window::start).containsExactly(0L);
            assertThat(fetch(store, A, 100, -50)).as("from after to").isEmpty();
            assertThat(fetch(store, HIGH, Long.MIN_VALUE, Long.MAX_VALUE)).extracting(Window::value).containsExactly("high@100");
            assertThat(fetch(store, B, Long.MIN_VALUE, Long.MAX_VALUE)).isEmpty();
            assertThat(store.earliestStart()).isEqualTo(Long.MIN_VALUE);

            store.put(A, 100, "a@100'");
            assertThat(store.size()).isEqualTo(13);
            assertThat(store.fetch(A, 100)).isEqualTo("a@100'");
            store.put(A, 100, null);
            store.put(A, 101, null);
            assertThat(store.size()).isEqualTo(12);
            assertThat(fetch(store, A, 0, 1L << 50)).extracting(Window::start).containsExactly(0L, 1L << 50);
            // Removing the earliest windows one by one moves earliestStart on.
            store.put(A, Long.MIN_VALUE, null);
            assertThat(store.earliestStart()).isEqualTo(Long.MIN_VALUE);
            store.put(AB, Long.MIN_VALUE, null);
            assertThat(store.earliestStart()).isEqualTo(-50);
            store.put(B, -60, "b@-60");
            assertThat(store.earliestStart()).isEqualTo(-60);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"in_memory", "rocksdb"})
    void windowsExpireOldestFirstAcrossKeys(String kind) {
        try (WindowStore<String> store = stores(kind).windowStore("w", 0, S)) {
            store.removeStartingBefore(1000, (k, s, v) -> {
                throw new AssertionError("nothing to remove");
            });
            store.put(Z, 300, "z300");
            store.put(A, 100, "a100");
            store.put(HIGH, -10, "h-10");
            store.put(AB, 100, "ab100");
            store.put(A, 200, "a200");
            store.put(EMPTY, 50, "e50");
            store.put(B, 150, "b150");
            assertThat(store.earliestStart()).isEqualTo(-10);

            List<Window> removed = new ArrayList<>();
            store.removeStartingBefore(150, (k, s, v) -> removed.add(new Window(k, s, v)));
            assertThat(removed).extracting(Window::start).containsExactly(-10L, 50L, 100L, 100L);
            assertThat(removed).containsExactlyInAnyOrder(new Window(HIGH, -10, "h-10"), new Window(EMPTY, 50, "e50"),
                    new Window(A, 100, "a100"), new Window(AB, 100, "ab100"));
            assertThat(store.size()).isEqualTo(3);
            assertThat(store.earliestStart()).isEqualTo(150);
            assertThat(store.fetch(A, 100)).isNull();
            assertThat(fetch(store, A, Long.MIN_VALUE, Long.MAX_VALUE)).extracting(Window::start).containsExactly(200L);

            store.removeStartingBefore(150, (k, s, v) -> removed.add(new Window(k, s, v)));
            assertThat(removed).hasSize(4);
            // A window below the last limit may come again (a restore, a late key): it is the earliest then.
            store.put(A, 20, "a20");
            assertThat(store.earliestStart()).isEqualTo(20);
            removed.clear();
            store.removeStartingBefore(Long.MAX_VALUE, (k, s, v) -> removed.add(new Window(k, s, v)));
            assertThat(removed).extracting(Window::start).containsExactly(20L, 150L, 200L, 300L);
            assertThat(store.size()).isZero();
            assertThat(store.earliestStart()).isEqualTo(Long.MAX_VALUE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"in_memory", "rocksdb"})
    void sessionsAreFoundByEndAndStartAndExpireByEnd(String kind) {
        try (SessionStore<String> store = stores(kind).sessionStore("s", 1, S)) {
            assertThat(store.earliestEnd()).isEqualTo(Long.MAX_VALUE);
            store.put(A, 100, 100, "a100");
            store.put(A, 0, 10, "a0");
            store.put(A, 20, 30, "a20");
            store.put(AB, 5, 50, "ab5");
            store.put(B, -100, -90, "b-100");
            store.put(HIGH, Long.MIN_VALUE, Long.MAX_VALUE, "forever");
            assertThat(store.size()).isEqualTo(6);
            assertThat(store.earliestEnd()).isEqualTo(-90);

            assertThat(find(store, A, 15, 25)).containsExactly(new Session(A, 20, 30, "a20"));
            assertThat(find(store, A, 10, 100)).extracting(Session::start).containsExactly(0L, 20L, 100L);
            assertThat(find(store, A, Long.MIN_VALUE, Long.MAX_VALUE)).extracting(Session::value).containsExactly("a0", "a20", "a100");
            assertThat(find(store, A, 31, 99)).isEmpty();
            assertThat(find(store, AB, Long.MIN_VALUE, Long.MAX_VALUE)).containsExactly(new Session(AB, 5, 50, "ab5"));
            assertThat(find(store, HIGH, 0, 0)).containsExactly(new Session(HIGH, Long.MIN_VALUE, Long.MAX_VALUE, "forever"));
            assertThat(find(store, Z, Long.MIN_VALUE, Long.MAX_VALUE)).isEmpty();

            // A session is named by key and start: a put with a new end replaces it.
            store.put(A, 20, 40, "a20'");
            assertThat(store.size()).isEqualTo(6);
            assertThat(find(store, A, 35, 35)).containsExactly(new Session(A, 20, 40, "a20'"));

            // The visitor may change the key's sessions (a merge): find collects before it visits.
            store.find(A, 0, 50, (k, start, end, v) -> store.put(k, start, end, null));
            store.put(A, 0, 40, "merged");
            assertThat(find(store, A, Long.MIN_VALUE, Long.MAX_VALUE)).extracting(Session::value).containsExactly("merged", "a100");
            assertThat(store.size()).isEqualTo(5);

            List<Session> removed = new ArrayList<>();
            store.removeEndingBefore(50, (k, s, e, v) -> removed.add(new Session(k, s, e, v)));
            assertThat(removed).containsExactly(new Session(B, -100, -90, "b-100"), new Session(A, 0, 40, "merged"));
            assertThat(store.size()).isEqualTo(3);
            assertThat(store.earliestEnd()).isEqualTo(50);
            store.put(AB, 5, 50, null);
            assertThat(store.earliestEnd()).isEqualTo(100);
            assertThat(store.size()).isEqualTo(2);
            store.put(Z, 1, 2, "z1");
            assertThat(store.earliestEnd()).isEqualTo(2);

            removed.clear();
            store.removeEndingBefore(Long.MAX_VALUE, (k, s, e, v) -> removed.add(new Session(k, s, e, v)));
            assertThat(removed).extracting(Session::end).containsExactly(2L, 100L);
            assertThat(store.size()).isEqualTo(1);
            assertThat(store.earliestEnd()).isEqualTo(Long.MAX_VALUE);
            assertThat(find(store, HIGH, Long.MIN_VALUE, Long.MAX_VALUE)).hasSize(1);
        }
    }

    /**
     * Random operations on both implementations side by side, the heap's as the model, with
     * enough entries that RocksDB flushes its memtables to files: every observation agrees (in an
     * order the interface promises, or as a set where it promises none).
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void randomOperationsAgreeWithTheHeapStores(long seed, @TempDir Path other) {
        Random random = new Random(seed);
        Bytes[] keys = new Bytes[64];
        for (int i = 0; i < keys.length; i++) {
            byte[] k = new byte[random.nextInt(4)];
            random.nextBytes(k);
            keys[i] = Bytes.wrap(k);
        }
        String padding = "x".repeat(200);
        try (RocksDbStores onDisk = RocksDbStores.open(other.resolve("task"));
             WindowStore<String> model = InMemoryStores.INSTANCE.windowStore("w", 0, S);
             WindowStore<String> windows = onDisk.windowStore("w", 0, S);
             SessionStore<String> sessionModel = InMemoryStores.INSTANCE.sessionStore("s", 0, S);
             SessionStore<String> sessions = onDisk.sessionStore("s", 0, S)) {
            long limit = -1_000;
            for (int op = 0; op < 60_000; op++) {
                Bytes key = keys[random.nextInt(keys.length)];
                long start = limit + random.nextInt(2_000);
                int choice = random.nextInt(100);
                if (choice < 60) {
                    String value = random.nextInt(10) == 0 ? null : op + padding;
                    model.put(key, start, value);
                    windows.put(key, start, value);
                    long end = start + random.nextInt(100);
                    sessionModel.put(key, start, end, value);
                    sessions.put(key, start, end, value);
                } else if (choice < 80) {
                    assertThat(windows.fetch(key, start)).isEqualTo(model.fetch(key, start));
                    long to = start + random.nextInt(500);
                    assertThat(fetch(windows, key, start, to)).isEqualTo(fetch(model, key, start, to));
                    assertThat(find(sessions, key, start, to)).isEqualTo(find(sessionModel, key, start, to));
                } else if (choice < 83) {
                    limit += random.nextInt(200);
                    List<Window> expected = new ArrayList<>();
                    List<Window> actual = new ArrayList<>();
                    model.removeStartingBefore(limit, (k, s, v) -> expected.add(new Window(k, s, v)));
                    windows.removeStartingBefore(limit, (k, s, v) -> actual.add(new Window(k, s, v)));
                    assertThat(actual).extracting(Window::start).isSorted();
                    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
                    List<Session> expectedSessions = new ArrayList<>();
                    List<Session> actualSessions = new ArrayList<>();
                    sessionModel.removeEndingBefore(limit, (k, s, e, v) -> expectedSessions.add(new Session(k, s, e, v)));
                    sessions.removeEndingBefore(limit, (k, s, e, v) -> actualSessions.add(new Session(k, s, e, v)));
                    assertThat(actualSessions).extracting(Session::end).isSorted();
                    assertThat(actualSessions).containsExactlyInAnyOrderElementsOf(expectedSessions);
                }
                if (op % 97 == 0) {
                    assertThat(windows.size()).isEqualTo(model.size());
                    assertThat(windows.earliestStart()).isEqualTo(model.earliestStart());
                    assertThat(sessions.size()).isEqualTo(sessionModel.size());
                    assertThat(sessions.earliestEnd()).isEqualTo(sessionModel.earliestEnd());
                }
            }
        }
    }

    private static List<Window> fetch(WindowStore<String> store, Bytes key, long from, long to) {
        List<Window> found = new ArrayList<>();
        store.fetch(key, from, to, (k, s, v) -> found.add(new Window(k, s, v)));
        return found;
    }

    private static List<Session> find(SessionStore<String> store, Bytes key, long earliestEnd, long latestStart) {
        List<Session> found = new ArrayList<>();
        store.find(key, earliestEnd, latestStart, (k, s, e, v) -> found.add(new Session(k, s, e, v)));
        return found;
    }
}
