package io.spate.stream;

import io.spate.stream.engine.Partitioning;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestOutput;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatelessOpsTest {
    private static final Serde<String> S = Serdes.string();

    @Test
    void filterMapFlatMapAndPeek() {
        List<String> peeked = new ArrayList<>();
        Pipeline p = b -> b.stream("in", S, Serdes.integers())
                .filter((k, v) -> v % 2 == 0)
                .peek((k, v) -> peeked.add(k))
                .mapValues(v -> v * 10)
                .map((k, v) -> KeyValue.pair(k.toUpperCase(), "v" + v))
                .flatMap((k, v) -> List.of(KeyValue.pair(k + "1", v), KeyValue.pair(k + "2", v)))
                .to("out", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("p", p, Map.of(), 1)) {
            assertThat(d.pipeline().subTopologies()).hasSize(1);
            var in = d.input("in", S, Serdes.integers());
            in.pipe("a", 1, 10).pipe("b", 2, 11).pipe("c", 4, 12);
            List<TestRecord<String, String>> out = d.output("out", S, S).readAll();
            assertThat(out).extracting(TestRecord::key).containsExactly("B1", "B2", "C1", "C2");
            assertThat(out).extracting(TestRecord::value).containsExactly("v20", "v20", "v40", "v40");
            assertThat(out).extracting(TestRecord::timestamp).containsExactly(11L, 11L, 12L, 12L);
            assertThat(peeked).containsExactly("b", "c");
            assertThat(d.totalStats().recordsProcessed()).isEqualTo(3);
        }
    }

    @Test
    void branchSendsEachRecordToTheFirstMatchingBranch() {
        Pipeline p = b -> {
            List<KStream<String, Integer>> branches = b.stream("in", S, Serdes.integers())
                    .branch(List.of((k, v) -> v < 0, (k, v) -> v < 10));
            branches.get(0).to("negative", S, Serdes.integers());
            branches.get(1).to("small", S, Serdes.integers());
        };
        try (PipelineTestDriver d = new PipelineTestDriver("p", p, Map.of(), 1)) {
            var in = d.input("in", S, Serdes.integers());
            for (int v : new int[]{-5, 3, 50, 9, -1}) {
                in.pipe("k", v, 1);
            }
            assertThat(d.output("negative", S, Serdes.integers()).readAll()).extracting(TestRecord::value).containsExactly(-5, -1);
            assertThat(d.output("small", S, Serdes.integers()).readAll()).extracting(TestRecord::value).containsExactly(3, 9);
        }
    }

    @Test
    void sinksPartitionByKeyOrKeepTheInputPartitionForNullKeys() {
        Pipeline p = b -> b.stream("in", S, S)
                .map((k, v) -> KeyValue.pair(v.equals("nokey") ? null : v, v), S, S)
                .to("out");
        try (PipelineTestDriver d = new PipelineTestDriver("p", p, Map.of(), 5)) {
            var in = d.input("in", S, S);
            in.pipe("x", "alpha", 1, 2).pipe("y", "nokey", 2, 3).pipe("z", "beta", 3, 4);
            List<TestRecord<String, String>> out = d.output("out", S, S).readAll();
            assertThat(out).hasSize(3);
            assertThat(out.get(0).partition()).isEqualTo(Partitioning.partition("alpha".getBytes(StandardCharsets.UTF_8), 5));
            assertThat(out.get(1).key()).isNull();
            assertThat(out.get(1).partition()).isEqualTo(3);
            assertThat(out.get(2).partition()).isEqualTo(Partitioning.partition("beta".getBytes(StandardCharsets.UTF_8), 5));
            // a key change without a stateful operator after it needs no repartition
            assertThat(d.pipeline().internalTopics()).isEmpty();
        }
    }

    @Test
    void aSinkToTheTaskPartitionKeepsEachResultInThePartitionThatProducedIt() {
        // After a re-key the task's partition is the new key's: a count per user written to the
        // task's partition lands in the user's partition, whatever key the result carries.
        Pipeline p = b -> b.stream("in", S, S)
                .groupBy((k, v) -> v, S, Named.as("by-value"))
                .count(Named.as("n"))
                .toStream()
                .map((k, n) -> KeyValue.pair(k + "#" + n, String.valueOf(n)), S, S)
                .to("out", S, S, SinkPartition.TASK);
        try (PipelineTestDriver d = new PipelineTestDriver("p", p, Map.of(), 7)) {
            var in = d.input("in", S, S);
            for (int i = 0; i < 40; i++) {
                in.pipe("k" + i, "u" + (i % 5), i, i % 7);
            }
            List<TestRecord<String, String>> out = d.output("out", S, S).readAll();
            assertThat(out).hasSize(40);
            for (TestRecord<String, String> r : out) {
                String user = r.key().substring(0, r.key().indexOf('#'));
                assertThat(r.partition()).as(r.key()).isEqualTo(Partitioning.partition(user.getBytes(StandardCharsets.UTF_8), 7));
                // by key, most of them would be elsewhere
            }
            assertThat(out).extracting(r -> Partitioning.partition(r.key().getBytes(StandardCharsets.UTF_8), 7))
                    .isNotEqualTo(out.stream().map(TestRecord::partition).toList());
        }
    }

    @Test
    void mergeAndFlatMapValues() {
        Pipeline p = b -> {
            KStream<String, String> a = b.stream("a", S, S);
            KStream<String, String> c = b.stream("c", S, S);
            a.merge(c).flatMapValues(v -> Arrays.asList(v.split(" "))).to("out", S, S);
        };
        try (PipelineTestDriver d = new PipelineTestDriver("p", p, Map.of(), 2)) {
            d.input("a", S, S).pipe("k", "x y", 1);
            d.input("c", S, S).pipe("k", "z", 2);
            assertThat(d.output("out", S, S).readAll()).extracting(TestRecord::value).containsExactly("x", "y", "z");
            assertThat(d.pipeline().sourceTopics()).containsExactly("a", "c");
        }
    }
}
