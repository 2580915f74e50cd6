package io.spate.stream;

import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Output;
import io.spate.stream.engine.PipelineCompiler;
import io.spate.stream.engine.Task;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code window.close.idle.ms}: windows that emit when they close close on the driver's wall
 * clock once the inputs bring nothing, by the rule: after the last batch with records, at wall
 * clock {@code W} and stream time {@code S}, stream time is at least {@code S + (now - W - idle)}.
 * The driver's clock starts at 0 and moves only with {@code advanceWallClockTime}.
 */
class WallClockWindowsTest {
    private static final Serde<String> S = Serdes.string();
    private static final Map<String, String> IDLE_1000 = Map.of("window.close.idle.ms", "1000");

    private static Pipeline windowedCount(Windows windows) {
        return b -> b.stream("in", S, S)
                .groupByKey()
                .windowedBy(windows)
                .count(Named.as("counts"))
                .toStream()
                .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start() + "-" + w.end(), c))
                .to("out", S, Serdes.longs());
    }

    private static Windows tumblingOnClose() {
        return TumblingWindows.of(Duration.ofMillis(100)).emit(EmitMode.ON_WINDOW_CLOSE).lateRecordsTo("late");
    }

    private static List<String> read(io.spate.stream.testing.TestOutput<String, Long> out) {
        return out.readAll().stream().map(r -> r.key() + "=" + r.value()).toList();
    }

    @Test
    void aTumblingWindowClosesOnTheWallClockOnceTheInputsBroughtNothingForTheIdleTimeAndItsRemainder() {
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(tumblingOnClose()), IDLE_1000, 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10).pipe("a", "x", 50).pipe("b", "x", 60);        // at wall clock 0, stream time 60
            // [0,100) is due at stream time 100: 40 ms of stream time after 1000 ms of idleness, at wall clock 1040
            d.advanceWallClockTime(Duration.ofMillis(1039));
            assertThat(read(out)).isEmpty();
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(60);
            d.advanceWallClockTime(Duration.ofMillis(1));
            assertThat(read(out)).containsExactlyInAnyOrder("a@0-100=2", "b@0-100=1");
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(100);
            // nothing else is open: more wall-clock time emits nothing
            d.advanceWallClockTime(Duration.ofHours(1));
            assertThat(read(out)).isEmpty();
        }
    }

    @Test
    void recordsArrivingWithinTheIdleTimeKeepTheWallClockFromClosingAnything() {
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(tumblingOnClose()), IDLE_1000, 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10);
            d.advanceWallClockTime(Duration.ofMillis(800));
            in.pipe("a", "x", 20);                      // wall clock 800: idle again from here, at stream time 20
            d.advanceWallClockTime(Duration.ofMillis(800));
            assertThat(read(out)).isEmpty();
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(20);
            d.advanceWallClockTime(Duration.ofMillis(279)); // 1879: due at 800 + 1000 + (100 - 20) = 1880
            assertThat(read(out)).isEmpty();
            d.advanceWallClockTime(Duration.ofMillis(1));
            assertThat(read(out)).containsExactly("a@0-100=2");
        }
    }

    @Test
    void hoppingWindowsCloseOneAfterTheOtherAsTheWallClockMovesStreamTime() {
        Windows w = HoppingWindows.of(Duration.ofMillis(100), Duration.ofMillis(50)).grace(Duration.ofMillis(10)).emit(EmitMode.ON_WINDOW_CLOSE);
        try (PipelineTestDriver d = new PipelineTestDriver("h", windowedCount(w), Map.of("window.close.idle.ms", "500"), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 20).pipe("a", "x", 70);  // [0,100) holds both, [50,150) the second; stream time 70
            d.advanceWallClockTime(Duration.ofMillis(539));
            assertThat(read(out)).isEmpty();
            d.advanceWallClockTime(Duration.ofMillis(1));  // 540 = 500 + (100 + 10 - 70)
            assertThat(read(out)).containsExactly("a@0-100=2");
            d.advanceWallClockTime(Duration.ofMillis(49));
            assertThat(read(out)).isEmpty();
            d.advanceWallClockTime(Duration.ofMillis(1));  // 590 = 500 + (150 + 10 - 70)
            assertThat(read(out)).containsExactly("a@50-150=1");
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
        }
    }

    @Test
    void sessionsCloseOnTheWallClockOncePastTheirEndPlusGap() {
        Windows w = SessionWindows.withGap(Duration.ofMillis(10)).emit(EmitMode.ON_WINDOW_CLOSE);
        try (PipelineTestDriver d = new PipelineTestDriver("s", windowedCount(w), IDLE_1000, 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 100).pipe("b", "x", 103).pipe("a", "x", 105);   // a [100,105], b [103,103]; stream time 105
            d.advanceWallClockTime(Duration.ofMillis(1008));
            assertThat(read(out)).isEmpty();
            d.advanceWallClockTime(Duration.ofMillis(1));  // 1009: stream time 114 > 103 + 10
            assertThat(read(out)).containsExactly("b@103-103=1");
            d.advanceWallClockTime(Duration.ofMillis(2));  // 1011: stream time 116 > 105 + 10
            assertThat(read(out)).containsExactly("a@100-105=2");
        }
    }

    @Test
    void aRecordArrivingAfterItsWindowClosedOnTheWallClockIsLateAndGoesToTheLateTopic() {
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(tumblingOnClose()), IDLE_1000, 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10);
            d.advanceWallClockTime(Duration.ofMillis(1090));  // stream time 10 + 90 = 100: [0,100) closed
            assertThat(read(out)).containsExactly("a@0-100=1");
            in.pipe("a", "y", 90);                            // late: counted, sent to "late", no window reopened
            in.pipe("a", "z", 150);                           // in [100,200): counted
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
            assertThat(d.output("late", S, S).readAll()).extracting(TestRecord::value, TestRecord::timestamp)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("y", 90L));
            d.advanceWallClockTime(Duration.ofMillis(1050));  // 1090 + 1000 + (200 - 150)
            assertThat(read(out)).containsExactly("a@100-200=1");
        }
    }

    @Test
    void aRecordAfterALongIdleTimeMeetsTheStreamTimeTheWallClockBroughtThoughNothingWokeTheTask() {
        // Nothing was open, so no deadline woke the task: the record's batch first moves stream time to 10 + 4000 - 1000.
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(tumblingOnClose()), IDLE_1000, 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10);
            d.advanceWallClockTime(Duration.ofMillis(1090));
            assertThat(read(out)).containsExactly("a@0-100=1");
            d.advanceWallClockTime(Duration.ofMillis(2910));  // wall clock 4000: stream time would be 3010
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(100);
            in.pipe("b", "x", 2000);                          // [2000,2100) closed by then: late
            in.pipe("b", "x", 3050);
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(3050);
        }
    }

    @Test
    void aReKeyedCountClosesInTheTaskThatReadsTheRepartitionTopic() {
        Pipeline p = b -> b.stream("in", S, S)
                .groupBy((k, v) -> v, S)
                .windowedBy(tumblingOnClose())
                .count(Named.as("per-value"))
                .toStream()
                .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start() + "-" + w.end(), c))
                .to("out", S, Serdes.longs());
        try (PipelineTestDriver d = new PipelineTestDriver("r", p, IDLE_1000, 2)) {
            assertThat(d.pipeline().subTopologies()).hasSize(2);
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("k1", "red", 10).pipe("k2", "red", 20).pipe("k3", "blue", 30);
            d.advanceWallClockTime(Duration.ofMillis(1100));
            assertThat(read(out)).containsExactlyInAnyOrder("red@0-100=2", "blue@0-100=1");
        }
    }

    @Test
    void aLeftJoinsUnmatchedRecordIsJoinedWithNullOnTheWallClock() {
        Pipeline p = b -> b.stream("views", S, S)
                .leftJoin(b.stream("clicks", S, S), (v, c) -> v + "+" + c, JoinWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(50)),
                        Named.as("vc"))
                .to("joined", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("lj", p, IDLE_1000, 1)) {
            var out = d.output("joined", S, S);
            d.input("views", S, S).pipe("b", "v2", 1000);
            d.advanceWallClockTime(Duration.ofMillis(1250));  // buffered until stream time passes 1000 + 100 + 100 + 50
            assertThat(out.readAll()).isEmpty();
            d.advanceWallClockTime(Duration.ofMillis(1));
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("b=v2+null");
        }
    }

    @Test
    void aRestoredTaskThatGetsNoRecordStartsItsIdleTimeAtItsFirstWallClockAndClosesItsWindows() {
        CompiledPipeline c = PipelineCompiler.compile("w", windowedCount(tumblingOnClose()), IDLE_1000);
        List<ChangelogRecord> changelog = new ArrayList<>();
        List<String> emitted = new ArrayList<>();
        Output out = (topic, partition, key, value, ts) -> {
            if (topic.endsWith("-changelog")) {
                changelog.add(new ChangelogRecord(key, value, ts));
            } else {
                emitted.add(topic + ":" + S.deserialize(key));
            }
        };
        Task t = c.createTask(0, 0);
        t.process(List.of(new InputRecord("in", 0, 0, 10, S.serialize("a"), S.serialize("x"))), out, 0);
        long streamTime = t.stats().streamTimeMs();
        t.close();

        Task restored = c.createTask(0, 0);                // as a node taking the task over: store and stream time restored
        String store = restored.changelogTopics().keySet().iterator().next();
        restored.restore(store, changelog);
        restored.restoreStreamTime(streamTime);
        assertThat(restored.wallClockDeadlineMs()).isEqualTo(Long.MIN_VALUE);
        assertThat(restored.advanceWallClock(50_000, out)).isFalse();        // the idle time starts here
        assertThat(restored.wallClockDeadlineMs()).isEqualTo(50_000 + 1000 + (100 - 10));
        assertThat(restored.advanceWallClock(51_089, out)).isTrue();         // stream time 99: nothing due yet
        assertThat(emitted).isEmpty();
        assertThat(restored.advanceWallClock(51_090, out)).isTrue();
        assertThat(emitted).containsExactly("out:a@0-100");
        assertThat(restored.wallClockDeadlineMs()).isEqualTo(Long.MAX_VALUE);  // nothing left open
        restored.close();
    }

    @Test
    void withoutTheSettingTheWallClockClosesNothingAndARecordStillDoes() {
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(tumblingOnClose()), Map.of(), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10).pipe("b", "x", 60);
            d.advanceWallClockTime(Duration.ofDays(1));
            assertThat(read(out)).isEmpty();
            assertThat(d.totalStats().streamTimeMs()).isEqualTo(60);
            in.pipe("a", "x", 40);                            // not late: stream time is still 60
            in.pipe("c", "x", 100);
            assertThat(read(out)).containsExactlyInAnyOrder("a@0-100=2", "b@0-100=1");
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
        }
    }

    @Test
    void theSettingIsOffWhenAbsentOrMinusOneAndMustOtherwiseBePositive() {
        Pipeline p = windowedCount(tumblingOnClose());
        assertThat(PipelineCompiler.compile("w", p, Map.of()).windowCloseIdleMs()).isEqualTo(-1);
        assertThat(PipelineCompiler.compile("w", p, Map.of("window.close.idle.ms", "-1")).windowCloseIdleMs()).isEqualTo(-1);
        assertThat(PipelineCompiler.compile("w", p, Map.of("window.close.idle.ms", "250")).windowCloseIdleMs()).isEqualTo(250);
        assertThat(PipelineCompiler.compile("w", p, IDLE_1000).describe()).contains("wall clock after 1000 ms");
        assertThatThrownBy(() -> PipelineCompiler.compile("w", p, Map.of("window.close.idle.ms", "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window.close.idle.ms");
        assertThatThrownBy(() -> PipelineCompiler.compile("w", p, Map.of("window.close.idle.ms", "soon")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window.close.idle.ms");
    }
}
