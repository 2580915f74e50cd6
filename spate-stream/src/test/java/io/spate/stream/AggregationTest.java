package io.spate.stream;

import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InternalTopic;
import io.spate.stream.engine.Partitioning;
import io.spate.stream.engine.PipelineCompiler;
import io.spate.stream.engine.SubTopology;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AggregationTest {
    private static final Serde<String> S = Serdes.string();

    /** Events keyed by id, value "colour,amount"; counted and summed per colour. */
    private static final Pipeline BY_COLOUR = b -> {
        KStream<String, String> byColour = b.stream("events", S, S)
                .keyBy((id, v) -> v.substring(0, v.indexOf(',')), S);
        KGroupedStream<String, String> grouped = byColour.groupByKey();
        grouped.count().toStream().to("counts", S, Serdes.longs());
        grouped.aggregate(() -> 0L, (k, v, sum) -> sum + Long.parseLong(v.substring(v.indexOf(',') + 1)), Serdes.longs(), Named.as("sums"))
                .toStream().to("sums", S, Serdes.longs());
    };

    @Test
    void theGraphIsCutAtTheRepartitionTopicWithDeterministicNames() {
        CompiledPipeline c = PipelineCompiler.compile("shop", BY_COLOUR, Map.of());
        assertThat(c.sourceTopics()).containsExactly("events");
        assertThat(c.sinkTopics()).containsExactly("counts", "sums");
        assertThat(c.internalTopics()).containsExactly(
                new InternalTopic("shop-keyby-0001-repartition", InternalTopic.Kind.REPARTITION, false),
                new InternalTopic("shop-count-0004-changelog", InternalTopic.Kind.CHANGELOG, true),
                new InternalTopic("shop-sums-changelog", InternalTopic.Kind.CHANGELOG, true));
        assertThat(c.subTopologies()).containsExactly(
                new SubTopology(0, List.of("events"), List.of()),
                new SubTopology(1, List.of("shop-keyby-0001-repartition"), List.of("count-0004", "sums")));
        var task = c.createTask(1, 2);
        assertThat(task.changelogTopics()).containsExactly(
                Map.entry("count-0004", "shop-count-0004-changelog"), Map.entry("sums", "shop-sums-changelog"));
        assertThat(c.describe()).contains("Sub-topology 1", "shop-keyby-0001-repartition", "count-0004");
        // the same definition gives the same names
        assertThat(PipelineCompiler.compile("shop", BY_COLOUR, Map.of()).describe()).isEqualTo(c.describe());
    }

    @Test
    void keyByAndCountAcrossThreePartitionsMatchesADirectComputation() {
        Random random = new Random(7);
        String[] colours = {"red", "green", "blue", "black", "white", "cyan", "teal"};
        Map<String, Long> counts = new HashMap<>();
        Map<String, Long> sums = new HashMap<>();
        try (PipelineTestDriver d = new PipelineTestDriver("shop", BY_COLOUR, Map.of(), 3)) {
            var in = d.input("events", S, S);
            for (int i = 0; i < 500; i++) {
                String colour = colours[random.nextInt(colours.length)];
                int amount = random.nextInt(100);
                in.pipe("id" + random.nextInt(50), colour + "," + amount, i);
                counts.merge(colour, 1L, Long::sum);
                sums.merge(colour, (long) amount, Long::sum);
            }
            List<TestRecord<String, Long>> out = d.output("counts", S, Serdes.longs()).readAll();
            assertThat(out).hasSize(500);
            for (TestRecord<String, Long> r : out) {
                int p = Partitioning.partition(r.key().getBytes(StandardCharsets.UTF_8), 3);
                assertThat(r.partition()).isEqualTo(p);
            }
            Map<String, Long> latest = new HashMap<>();
            out.forEach(r -> latest.put(r.key(), r.value()));
            assertThat(latest).isEqualTo(counts);
            assertThat(d.output("sums", S, Serdes.longs()).readLatestByKey()).isEqualTo(sums);
            // every colour was counted by the one task of its partition
            for (int p = 0; p < 3; p++) {
                final int part = p;
                long expected = counts.entrySet().stream()
                        .filter(e -> Partitioning.partition(e.getKey().getBytes(StandardCharsets.UTF_8), 3) == part)
                        .mapToLong(Map.Entry::getValue).sum();
                assertThat(d.stats(1, p).recordsProcessed()).isEqualTo(expected);
                assertThat(d.size("shop-count-0004-changelog", p)).isEqualTo((int) expected);
            }
        }
    }

    @Test
    void reduceAndGroupByWithNamedRepartition() {
        Pipeline p = b -> b.stream("in", S, S)
                .groupBy((k, v) -> v.substring(0, 1), S, Named.as("by-initial"))
                .reduce((a, v) -> a + "+" + v)
                .toStream().to("out", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("r", p, Map.of(), 2)) {
            assertThat(d.pipeline().internalTopics()).extracting(InternalTopic::name)
                    .containsExactly("r-by-initial-repartition", "r-reduce-0004-changelog");
            var in = d.input("in", S, S);
            in.pipe("1", "apple", 1).pipe("2", "banana", 2).pipe("3", "avocado", 3).pipe("4", "blueberry", 4);
            assertThat(d.output("out", S, S).readLatestByKey())
                    .containsEntry("a", "apple+avocado").containsEntry("b", "banana+blueberry").hasSize(2);
        }
    }

    @Test
    void nullKeysAreDroppedBeforeTheRepartitionAndCounted() {
        Pipeline p = b -> b.stream("in", S, S)
                .groupBy((k, v) -> v.isEmpty() ? null : v, S)
                .count().toStream().to("out", S, Serdes.longs());
        try (PipelineTestDriver d = new PipelineTestDriver("n", p, Map.of(), 1)) {
            d.input("in", S, S).pipe("a", "", 1).pipe("b", "x", 2);
            assertThat(d.output("out", S, Serdes.longs()).readLatestByKey()).isEqualTo(Map.of("x", 1L));
            assertThat(d.totalStats().nullRecordsDropped()).isEqualTo(1);
        }
    }

    @Test
    void invalidPipelinesAreRefusedAtCompile() {
        assertThatThrownBy(() -> PipelineCompiler.compile("x", b -> {
            b.stream("t", S, S);
            b.stream("t", S, S);
        }, Map.of())).hasMessageContaining("read twice");
        assertThatThrownBy(() -> PipelineCompiler.compile("x", b -> b.stream("t", S, S)
                .mapValues(String::length).groupByKey().reduce(Integer::sum), Map.of()))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> PipelineCompiler.compile("x", b -> b.stream("t", S, S)
                .map((k, v) -> KeyValue.pair(v, k)).groupByKey().count(), Map.of()))
                .hasMessageContaining("serde");
        assertThatThrownBy(() -> PipelineCompiler.compile("x", b -> b.stream("t", S, S)
                .groupByKey().windowedBy(SessionWindows.withGap(java.time.Duration.ofSeconds(1)))
                .aggregate(() -> 0, (k, v, a) -> a + 1, Serdes.integers()), Map.of()))
                .hasMessageContaining("Merger");
        assertThatThrownBy(() -> PipelineCompiler.compile("x", b -> {
            b.stream("t", S, S).groupByKey().count(Named.as("n"));
            b.stream("u", S, S).groupByKey().count(Named.as("n"));
        }, Map.of())).hasMessageContaining("used twice");
    }

    @Test
    void aggregationsSkipTombstonesAsKafkaStreamsDoes() {
        Pipeline p = b -> {
            KGroupedStream<String, String> byKey = b.stream("in", S, S).groupByKey();
            byKey.reduce((a, v) -> a + "+" + v, Named.as("joined")).toStream().to("reduced", S, S);
            byKey.count(Named.as("counted")).toStream().to("counted", S, Serdes.longs());
        };
        try (PipelineTestDriver d = new PipelineTestDriver("t", p, Map.of(), 1)) {
            d.input("in", S, S).pipe("k", "5", 1).pipe("k", null, 2).pipe("k", "7", 3);
            assertThat(d.output("reduced", S, S).readAll()).extracting(TestRecord::value).containsExactly("5", "5+7");
            assertThat(d.output("counted", S, Serdes.longs()).readAll()).extracting(TestRecord::value).containsExactly(1L, 2L);
            assertThat(d.totalStats().nullRecordsDropped()).isEqualTo(2);         // once per aggregation
        }
    }
}
