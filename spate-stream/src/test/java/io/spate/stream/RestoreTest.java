package io.spate.stream;

import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.PipelineCompiler;
import io.spate.stream.engine.Task;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestoreTest {
    private static final Serde<String> S = Serdes.string();

    @Test
    void countsSurviveARestartFromTheirChangelog() {
        Pipeline p = b -> b.stream("in", S, S).groupBy((k, v) -> v, S).count(Named.as("counts")).toStream().to("out", S, Serdes.longs());
        Random random = new Random(3);
        Map<String, Long> expected = new HashMap<>();
        try (PipelineTestDriver d = new PipelineTestDriver("r", p, Map.of(), 3)) {
            var in = d.input("in", S, S);
            for (int i = 0; i < 300; i++) {
                String w = "w" + random.nextInt(20);
                in.pipe("k" + i, w, i);
                expected.merge(w, 1L, Long::sum);
                if (i == 150) {
                    d.restartTasks();
                }
            }
            d.restartTasks();
            in.pipe("k", "w0", 1000);
            expected.merge("w0", 1L, Long::sum);
            assertThat(d.output("out", S, Serdes.longs()).readLatestByKey()).isEqualTo(expected);
            // the restarted tasks count from zero: they processed only what came after the restart
            assertThat(d.totalStats().recordsProcessed()).isEqualTo(2);
        }
    }

    @Test
    void windowStoresRestoreByKeyAndWindowStart() {
        Pipeline p = b -> b.stream("in", S, S).groupByKey()
                .windowedBy(TumblingWindows.of(Duration.ofMillis(100)).emit(EmitMode.ON_WINDOW_CLOSE))
                .count(Named.as("wc")).toStream()
                .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start(), c)).to("out", S, Serdes.longs());
        try (PipelineTestDriver d = new PipelineTestDriver("r", p, Map.of(), 1)) {
            var in = d.input("in", S, S);
            in.pipe("a", "x", 10).pipe("a", "x", 20).pipe("b", "x", 30).pipe("a", "x", 120);
            d.restartTasks();
            in.pipe("a", "x", 130).pipe("b", "x", 250);
            assertThat(d.output("out", S, Serdes.longs()).readAll()).extracting(r -> r.key() + "=" + r.value())
                    .containsExactlyInAnyOrder("a@0=2", "b@0=1", "a@100=2");
        }
    }

    @Test
    void sourceTablesRestoreFromTheirTopic() {
        Pipeline p = b -> b.stream("clicks", S, S).join(b.table("users", S, S), (c, u) -> c + "/" + u).to("out", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("r", p, Map.of(), 2)) {
            d.input("users", S, S).pipe("u1", "ann", 1).pipe("u2", "ben", 2).pipe("u1", "amy", 3);
            d.restartTasks();
            d.input("clicks", S, S).pipe("u1", "c", 4).pipe("u2", "d", 5);
            assertThat(d.output("out", S, S).readAll()).extracting(TestRecord::value).containsExactly("c/amy", "d/ben");
        }
    }

    @Test
    void aTaskDrivenByHandRestoresTheSameState() {
        CompiledPipeline c = PipelineCompiler.compile("h", b -> b.stream("in", S, S).groupByKey()
                .aggregate(() -> "", (k, v, a) -> a + v, S, Named.as("concat")).toStream().to("out", S, S), Map.of());
        assertThat(c.subTopologies()).hasSize(1);
        List<String[]> sent = new ArrayList<>();
        Task t = c.createTask(0, 4);
        assertThat(t.changelogTopics()).isEqualTo(Map.of("concat", "h-concat-changelog"));
        t.process(List.of(rec("in", 4, 0, "a", "1"), rec("in", 4, 1, "a", "2"), rec("in", 4, 2, "b", "3")),
                (topic, partition, key, value, ts) -> sent.add(new String[]{topic, String.valueOf(partition), str(key), str(value)}), 0);
        assertThat(sent).extracting(r -> String.join("|", r)).containsExactly(
                "h-concat-changelog|4|a|1", "out|-1|a|1", "h-concat-changelog|4|a|12", "out|-1|a|12",
                "h-concat-changelog|4|b|3", "out|-1|b|3");
        List<ChangelogRecord> changelog = sent.stream().filter(r -> r[0].equals("h-concat-changelog"))
                .map(r -> new ChangelogRecord(bytes(r[2]), bytes(r[3]), 0)).toList();
        t.close();

        Task restored = c.createTask(0, 4);
        restored.restore("concat", changelog);
        sent.clear();
        restored.process(List.of(rec("in", 4, 3, "a", "4")),
                (topic, partition, key, value, ts) -> sent.add(new String[]{topic, String.valueOf(partition), str(key), str(value)}), 0);
        assertThat(sent).extracting(r -> String.join("|", r)).containsExactly("h-concat-changelog|4|a|124", "out|-1|a|124");
        assertThat(restored.stats().recordsProcessed()).isEqualTo(1);
        assertThat(restored.stats().changelogRecordsSent()).isEqualTo(1);
        assertThatThrownBy(() -> restored.restore("concat", List.of())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> restored.process(List.of(rec("other", 4, 0, "a", "1")), (tp, pt, k, v, ts) -> { }, 0))
                .isInstanceOf(IllegalArgumentException.class);
        restored.close();
    }

    /**
     * At-least-once a node dies after its last commit: its changelog runs past the committed
     * position and holds the close of a window, and the records after the commit are replayed.
     * The window must not come back from nothing with a smaller final count.
     */
    @Test
    void aWindowClosedAfterTheLastCommitStaysClosedWhenItsRecordsAreReplayed() {
        Windows w = TumblingWindows.of(Duration.ofMillis(10)).emit(EmitMode.ON_WINDOW_CLOSE);
        CompiledPipeline c = PipelineCompiler.compile("c", b -> b.stream("in", S, S).groupByKey().windowedBy(w).count(Named.as("counts"))
                .toStream().map((win, n) -> KeyValue.pair(win.key() + "@" + win.start(), n)).to("out", S, Serdes.longs()), Map.of());
        List<ChangelogRecord> changelog = new ArrayList<>();
        List<String> emitted = new ArrayList<>();
        io.spate.stream.engine.Output out = (topic, partition, key, value, ts) -> {
            if (topic.endsWith("-changelog")) {
                changelog.add(new ChangelogRecord(key, value, ts));
            } else {
                emitted.add(str(key) + "=" + Serdes.longs().deserialize(value));
            }
        };
        Task t = c.createTask(0, 0);
        t.process(List.of(new InputRecord("in", 0, 0, 1, bytes("k"), bytes("x"))), out, 0);
        long committedStreamTime = t.stats().streamTimeMs();         // committed with position 1
        List<InputRecord> afterCommit = List.of(new InputRecord("in", 0, 1, 2, bytes("k"), bytes("x")),
                new InputRecord("in", 0, 2, 15, bytes("k"), bytes("x")));
        t.process(afterCommit, out, 0);
        assertThat(emitted).containsExactly("k@0=2");
        t.close();                                                    // killed: no commit

        emitted.clear();
        Task restored = c.createTask(0, 0);
        restored.restore("counts", changelog);
        restored.restoreStreamTime(committedStreamTime);
        restored.process(afterCommit, out, 0);                        // replayed from position 1
        restored.process(List.of(new InputRecord("in", 0, 3, 40, bytes("k"), bytes("x"))), out, 0);
        assertThat(emitted).doesNotContain("k@0=1").contains("k@10=2");   // at-least-once: [10,20) counts k@15 twice
        assertThat(restored.stats().streamTimeMs()).isEqualTo(40);
        restored.close();
    }

    @Test
    void aFailingRecordIsNamedInTheException() {
        CompiledPipeline c = PipelineCompiler.compile("f", b -> b.stream("in", S, S).mapValues(v -> Integer.parseInt(v), Serdes.integers())
                .to("out"), Map.of());
        Task t = c.createTask(0, 0);
        assertThatThrownBy(() -> t.process(List.of(rec("in", 0, 7, "k", "x")), (tp, pt, k, v, ts) -> { }, 0))
                .isInstanceOf(io.spate.stream.engine.StreamProcessingException.class)
                .hasMessageContaining("in-0@7");
    }

    private static InputRecord rec(String topic, int partition, long offset, String key, String value) {
        return new InputRecord(topic, partition, offset, offset, bytes(key), bytes(value));
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
