package io.spate.processing.store;

import io.spate.stream.EmitMode;
import io.spate.stream.JoinWindows;
import io.spate.stream.KeyValue;
import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.SessionWindows;
import io.spate.stream.TumblingWindows;
import io.spate.stream.Windows;
import io.spate.stream.examples.BenchB;
import io.spate.stream.examples.WordCount;
import io.spate.stream.store.InMemoryStores;
import io.spate.stream.store.StoreFactory;
import io.spate.stream.testing.PipelineTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whole pipelines (the shipped examples, session windows, windows that emit on close, a windowed
 * join) run offline over RocksDB stores and over the heap's, with the same input and a restart of
 * every task (stores rebuilt from their changelogs) half-way: their outputs are the same.
 */
class RocksDbPipelinesTest {
    private static final Serde<String> S = Serdes.string();

    @TempDir
    Path dir;

    /** Runs {@code feed} through {@code pipeline} on both kinds of stores; returns what the RocksDB run wrote to {@code out}. */
    private List<String> sameOnBoth(Pipeline pipeline, Map<String, String> settings, int partitions, String out, Serde<?> valueSerde,
                                    Consumer<PipelineTestDriver> feed) {
        List<String> expected = run(InMemoryStores.INSTANCE, pipeline, settings, partitions, out, valueSerde, feed);
        Path taskDir = dir.resolve("task");
        List<String> actual;
        try (RocksDbStores onDisk = RocksDbStores.open(taskDir)) {
            actual = run(onDisk, pipeline, settings, partitions, out, valueSerde, feed);
            assertThat(taskDir).as("closing the tasks closed and deleted their stores").isEmptyDirectory();
        }
        assertThat(taskDir).doesNotExist();
        assertThat(actual).isNotEmpty().isEqualTo(expected);
        return actual;
    }

    private static List<String> run(StoreFactory stores, Pipeline pipeline, Map<String, String> settings, int partitions, String out,
                                    Serde<?> valueSerde, Consumer<PipelineTestDriver> feed) {
        try (PipelineTestDriver d = new PipelineTestDriver("p", pipeline, settings, partitions, stores)) {
            feed.accept(d);
            return d.output(out, S, valueSerde).readAll().stream().map(r -> r.key() + "=" + r.value() + "@" + r.timestamp()).toList();
        }
    }

    @Test
    void wordCount() {
        List<String> out = sameOnBoth(new WordCount(), Map.of(), 3, "word-counts", Serdes.longs(), d -> {
            var lines = d.input("lines", S, S);
            lines.pipe(null, "the quick brown fox", 1).pipe(null, "The lazy dog, the end.", 2);
            d.restartTasks();
            lines.pipe(null, "the fox again", 3);
        });
        assertThat(out).contains("the=4@3", "fox=2@3");
    }

    @Test
    void benchBWindowsOnARepartitionedKey() {
        sameOnBoth(new BenchB(), Map.of("grace-s", "1"), 3, "out-b", S, d -> {
            var in = d.input("events", S, S);
            Random random = new Random(7);
            for (int seq = 0; seq < 4000; seq++) {
                if (seq == 2000) {
                    d.restartTasks();
                }
                long ts = 10_000 + seq * 2L - random.nextInt(1500);      // some late by more than the grace
                String user = String.format("u%03d", random.nextInt(40));
                in.pipe("k" + random.nextInt(7), ts * 1000 + "," + seq + "," + user + ",view,1", ts);
            }
        });
    }

    private static Pipeline windowedCount(Windows windows) {
        return b -> b.stream("in", S, S)
                .groupByKey()
                .windowedBy(windows)
                .count(Named.as("counts"))
                .toStream()
                .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start() + "-" + w.end(), c))
                .to("out", S, Serdes.longs());
    }

    private static void randomKeys(PipelineTestDriver d, long seed) {
        var in = d.input("in", S, S);
        Random random = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            if (i == 1500) {
                d.restartTasks();
            }
            in.pipe("key" + random.nextInt(30), "x", 1_000 + i * 3L - random.nextInt(60));
        }
    }

    @Test
    void sessionWindowsMergeAndExpire() {
        Windows sessions = SessionWindows.withGap(Duration.ofMillis(40)).grace(Duration.ofMillis(20));
        sameOnBoth(windowedCount(sessions), Map.of(), 2, "out", Serdes.longs(), d -> randomKeys(d, 11));
    }

    @Test
    void windowsThatEmitOnCloseEmitTheSameFinalCounts() {
        // Windows of one start close together, in an order the store leaves open: compared as sets.
        Windows tumbling = TumblingWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(30)).emit(EmitMode.ON_WINDOW_CLOSE);
        Consumer<PipelineTestDriver> feed = d -> randomKeys(d, 12);
        List<String> expected = run(InMemoryStores.INSTANCE, windowedCount(tumbling), Map.of(), 2, "out", Serdes.longs(), feed);
        try (RocksDbStores onDisk = RocksDbStores.open(dir.resolve("task"))) {
            List<String> actual = run(onDisk, windowedCount(tumbling), Map.of(), 2, "out", Serdes.longs(), feed);
            assertThat(actual).hasSizeGreaterThan(100).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    void windowedStreamStreamJoin() {
        Pipeline join = b -> b.stream("views", S, S)
                .join(b.stream("clicks", S, S), (v, c) -> v + "+" + c, JoinWindows.of(Duration.ofMillis(50)).grace(Duration.ofMillis(20)),
                        Named.as("vc"))
                .to("joined", S, S);
        sameOnBoth(join, Map.of(), 2, "joined", S, d -> {
            var views = d.input("views", S, S);
            var clicks = d.input("clicks", S, S);
            Random random = new Random(13);
            for (int i = 0; i < 2000; i++) {
                if (i == 1000) {
                    d.restartTasks();
                }
                long ts = 1_000 + i * 5L - random.nextInt(100);
                (random.nextBoolean() ? views : clicks).pipe("k" + random.nextInt(10), "e" + i, ts);
            }
        });
    }

    @Test
    void openingWipesWhatAnEarlierInstanceLeft() throws Exception {
        Path taskDir = dir.resolve("task");
        Files.createDirectories(taskDir.resolve("counts-0"));
        Files.writeString(taskDir.resolve("counts-0").resolve("CURRENT"), "MANIFEST-000099\n");
        try (RocksDbStores onDisk = RocksDbStores.open(taskDir)) {
            assertThat(taskDir).isEmptyDirectory();
            var store = onDisk.keyValueStore("counts", 0, Serdes.longs());
            store.put(io.spate.stream.store.Bytes.wrap(new byte[]{1}), 5L);
            assertThat(taskDir.resolve("counts-0")).isDirectory();
            // A store the task left open (its creation failed half-way) is closed with the factory.
        }
        assertThat(taskDir).doesNotExist();
    }
}
