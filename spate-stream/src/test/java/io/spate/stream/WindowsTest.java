package io.spate.stream;

import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class WindowsTest {
    private static final Serde<String> S = Serdes.string();

    private static Pipeline windowedCount(Windows windows) {
        return b -> b.stream("in", S, S)
                .groupByKey()
                .windowedBy(windows)
                .count(Named.as("counts"))
                .toStream()
                .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start() + "-" + w.end(), c))
                .to("out", S, Serdes.longs());
    }

    @Test
    void tumblingWindowsWithGraceDropAndCountLateRecordsAndSendThemToASideTopic() {
        Windows w = TumblingWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(50)).lateRecordsTo("late");
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(w), Map.of(), 1)) {
            assertThat(d.pipeline().sinkTopics()).containsExactly("late", "out");
            var in = d.input("in", S, S);
            in.pipe("a", "1", 10).pipe("a", "2", 99).pipe("a", "3", 100).pipe("b", "4", 120);
            // stream time 140: window [0,100) closes at 150, so a record at 30 still counts
            in.pipe("a", "5", 140).pipe("a", "6", 30);
            // stream time 150 closes [0,100): a record at 40 is late
            in.pipe("b", "7", 150).pipe("a", "8", 40);
            List<TestRecord<String, Long>> out = d.output("out", S, Serdes.longs()).readAll();
            assertThat(out).extracting(r -> r.key() + "=" + r.value()).containsExactly(
                    "a@0-100=1", "a@0-100=2", "a@100-200=1", "b@100-200=1", "a@100-200=2", "a@0-100=3", "b@100-200=2");
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
            List<TestRecord<String, String>> late = d.output("late", S, S).readAll();
            assertThat(late).extracting(TestRecord::key, TestRecord::value, TestRecord::timestamp).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("a", "8", 40L));
        }
    }

    @Test
    void onWindowCloseEmitsEachWindowOnceWhenStreamTimePassesEndPlusGrace() {
        Windows w = TumblingWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(20)).emit(EmitMode.ON_WINDOW_CLOSE);
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(w), Map.of(), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 10).pipe("a", "x", 50).pipe("b", "x", 60).pipe("a", "x", 110);
            assertThat(out.readAll()).isEmpty();
            in.pipe("a", "x", 105);           // grace: still in [100,200); and [0,100) still open until 120
            in.pipe("a", "x", 90);            // stream time 110 < 120: counts
            assertThat(out.readAll()).isEmpty();
            in.pipe("c", "x", 120);           // stream time 120 = 100 + 20: [0,100) closes
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactlyInAnyOrder("a@0-100=3", "b@0-100=1");
            in.pipe("a", "x", 99);            // late
            in.pipe("c", "x", 500);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactlyInAnyOrder("a@100-200=2", "c@100-200=1");
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
        }
    }

    @Test
    void everyUpdateModeEmitsOncePerRecord() {
        Windows w = TumblingWindows.of(Duration.ofMillis(100));
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(w), Map.of(), 1)) {
            var in = d.input("in", S, S);
            for (int i = 0; i < 10; i++) {
                in.pipe("k", "v", i * 30);
            }
            assertThat(d.output("out", S, Serdes.longs()).readAll()).hasSize(10);
        }
    }

    @Test
    void hoppingWindowsCountARecordInEachWindowItFallsIn() {
        Windows w = HoppingWindows.of(Duration.ofMillis(100), Duration.ofMillis(50)).grace(Duration.ofMillis(10));
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(w), Map.of(), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 20);
            assertThat(out.readAll()).extracting(TestRecord::key).containsExactly("a@0-100");
            in.pipe("a", "x", 70);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@0-100=2", "a@50-150=1");
            in.pipe("a", "x", 130);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@50-150=2", "a@100-200=1");
            // stream time 130 >= 100 + 10: [0,100) is closed, [50,150) open: a record at 60 counts in [50,150) only
            in.pipe("a", "x", 60);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@50-150=3");
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
            // stream time 170 >= 150 + 10: a record at 20 belongs only to closed windows
            in.pipe("a", "x", 170).pipe("a", "x", 20);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@100-200=2", "a@150-250=1");
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
        }
    }

    @Test
    void sessionWindowsMergeAndCloseAfterGapPlusGrace() {
        Windows w = SessionWindows.withGap(Duration.ofMillis(10)).grace(Duration.ofMillis(5)).lateRecordsTo("late");
        try (PipelineTestDriver d = new PipelineTestDriver("s", windowedCount(w), Map.of(), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 100).pipe("a", "x", 105);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value())
                    .containsExactly("a@100-100=1", "a@100-100=null", "a@100-105=2");
            in.pipe("a", "x", 120);             // 120 - 105 > gap: a new session
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@120-120=1");
            in.pipe("a", "x", 112);             // bridges [100,105] and [120,120]
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value() + "@" + r.timestamp())
                    .as("each stamped with its session's end, as Kafka Streams stamps them")
                    .containsExactly("a@100-105=null@105", "a@120-120=null@120", "a@100-120=4@120");
            in.pipe("b", "x", 136);             // stream time 136 > 120 + 10 + 5: the session of a closed
            in.pipe("a", "x", 119);             // would merge into the closed session: late
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
            assertThat(d.output("late", S, S).readAll()).extracting(TestRecord::timestamp).containsExactly(119L);
        }
    }

    @Test
    void sessionWindowsOnCloseEmitTheFinalSession() {
        Windows w = SessionWindows.withGap(Duration.ofMillis(10)).emit(EmitMode.ON_WINDOW_CLOSE);
        try (PipelineTestDriver d = new PipelineTestDriver("s", windowedCount(w), Map.of(), 1)) {
            var in = d.input("in", S, S);
            var out = d.output("out", S, Serdes.longs());
            in.pipe("a", "x", 100).pipe("a", "x", 105).pipe("a", "x", 112);
            assertThat(out.readAll()).isEmpty();
            in.pipe("b", "x", 123);
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value()).containsExactly("a@100-112=3");
        }
    }

    @Test
    void aTableJoinedForLookupsDoesNotCloseTheStreamsWindows() {
        Pipeline p = b -> {
            KTable<String, String> users = b.table("users", S, S, Named.as("users"));
            b.stream("clicks", S, S).join(users, (click, user) -> user)
                    .groupByKey().windowedBy(TumblingWindows.of(Duration.ofMinutes(1)))
                    .count(Named.as("counts")).toStream()
                    .map((w, c) -> KeyValue.pair(w.key() + "@" + w.start(), c)).to("out", S, Serdes.longs());
        };
        try (PipelineTestDriver d = new PipelineTestDriver("t", p, Map.of(), 1)) {
            d.input("users", S, S).pipe("u1", "ada", 120_000).pipe("u9", "bob", 120_000);   // written today
            d.input("clicks", S, S).pipe("u1", "c", 61_000);                                 // yesterday's click, replayed
            assertThat(d.output("out", S, Serdes.longs()).readAll()).extracting(r -> r.key() + "=" + r.value())
                    .containsExactly("u1@60000=1");
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
        }
    }

    @Test
    void aTimestampNearTheEndOfTimeFallsInItsLastWindowsWithoutOverflowing() {
        Windows hopping = HoppingWindows.of(Duration.ofMillis(100), Duration.ofMillis(50));
        try (PipelineTestDriver d = new PipelineTestDriver("w", windowedCount(hopping), Map.of(), 1)) {
            long ts = Long.MAX_VALUE - 1;
            long last = ts / 50 * 50;                  // both windows' ends lie past Long.MAX_VALUE: they end there
            d.input("in", S, S).pipe("a", "x", ts);
            assertThat(d.output("out", S, Serdes.longs()).readAll()).extracting(TestRecord::key)
                    .containsExactly("a@" + (last - 50) + "-" + Long.MAX_VALUE, "a@" + last + "-" + Long.MAX_VALUE);
        }
    }
}
