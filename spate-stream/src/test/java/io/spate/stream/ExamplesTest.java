package io.spate.stream;

import io.spate.stream.engine.InternalTopic;
import io.spate.stream.examples.BenchA;
import io.spate.stream.examples.BenchB;
import io.spate.stream.examples.WordCount;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ExamplesTest {
    private static final Serde<String> S = Serdes.string();
    private static final String[] TYPES = {"click", "view", "buy", "share"};

    @Test
    void wordCount() {
        try (PipelineTestDriver d = new PipelineTestDriver("wc", new WordCount(), Map.of(), 3)) {
            assertThat(d.pipeline().internalTopics()).extracting(InternalTopic::name)
                    .containsExactly("wc-by-word-repartition", "wc-counts-changelog");
            var lines = d.input("lines", S, S);
            lines.pipe(null, "the quick brown fox", 1).pipe(null, "The lazy dog, the end.", 2);
            Map<String, Long> counts = d.output("word-counts", S, Serdes.longs()).readLatestByKey();
            assertThat(counts).containsEntry("the", 3L).containsEntry("fox", 1L).containsEntry("end", 1L).hasSize(7);
        }
    }

    @Test
    void topicToTableKeepsEachKeysLatestValueAndDeletesOnTombstones() {
        try (PipelineTestDriver d = new PipelineTestDriver("users", new io.spate.stream.examples.TopicToTable(),
                Map.of("in", "users", "table", "user-table"), 3)) {
            assertThat(d.pipeline().sinkTables()).containsExactly("user-table");
            var in = d.input("users", S, S);
            in.pipe("u1", "ada", 1).pipe("u2", "bob", 2).pipe("u1", "ada lovelace", 3).pipe("u3", "cy", 4).pipe("u2", null, 5);
            in.pipe(null, "no key", 6);
            assertThat(d.table("user-table", S, S)).containsExactlyInAnyOrderEntriesOf(Map.of("u1", "ada lovelace", "u3", "cy"));
            assertThat(d.totalStats().nullRecordsDropped()).isEqualTo(1);
        }
    }

    @Test
    void countsGoToATableAsTheyChange() {
        Pipeline counting = builder -> builder.stream("clicks", S, S)
                .groupBy((user, page) -> page, S)
                .count(Named.as("per-page"))
                .toStream()
                .toTable("page-counts", S, Serdes.longs());
        try (PipelineTestDriver d = new PipelineTestDriver("pages", counting, Map.of(), 2)) {
            var in = d.input("clicks", S, S);
            in.pipe("u1", "/home", 1).pipe("u2", "/home", 2).pipe("u1", "/docs", 3).pipe("u3", "/home", 4);
            assertThat(d.table("page-counts", S, Serdes.longs())).containsExactlyInAnyOrderEntriesOf(Map.of("/home", 3L, "/docs", 1L));
        }
    }

    /** Events as the bench's load generator writes them: "sendMicros,seq,user,type,amount,padding", keyed by the user. */
    private static String event(long sendMicros, long seq, String user, String type, int amount) {
        return sendMicros + "," + seq + "," + user + "," + type + "," + amount + ",xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    }

    @Test
    void benchAFiltersAndReformatsKeepingTheStampFirst() {
        try (PipelineTestDriver d = new PipelineTestDriver("bench-a", new BenchA(), Map.of(), 6)) {
            assertThat(d.pipeline().subTopologies()).hasSize(1);
            assertThat(d.pipeline().internalTopics()).isEmpty();
            var in = d.input("events", S, S);
            Random random = new Random(1);
            int expected = 0;
            for (int seq = 0; seq < 1000; seq++) {
                int amount = random.nextInt(100);
                String user = String.format("u%04d", random.nextInt(1000));
                in.pipe(user, event(1_000_000L + seq, seq, user, TYPES[seq % 4], amount), seq);
                if (amount >= 10) {
                    expected++;
                }
            }
            List<TestRecord<String, String>> out = d.output("out-a", S, S).readAll();
            assertThat(out).hasSize(expected);
            for (TestRecord<String, String> r : out) {
                String[] f = r.value().split(",");
                assertThat(f).hasSize(5);
                long seq = Long.parseLong(f[1]);
                assertThat(f[0]).isEqualTo(String.valueOf(1_000_000L + seq));
                assertThat(f[2]).isEqualTo(r.key());
                assertThat(f[3]).isEqualTo(TYPES[(int) (seq % 4)].toUpperCase(Locale.ROOT));
                assertThat(Integer.parseInt(f[4]) % 100).isZero();
                assertThat(Integer.parseInt(f[4])).isGreaterThanOrEqualTo(1000);
            }
        }
    }

    @Test
    void benchBCountsPerUserAndWindowWithOneOutputPerEvent() {
        try (PipelineTestDriver d = new PipelineTestDriver("bench-b", new BenchB(), Map.of(), 6)) {
            assertThat(d.pipeline().subTopologies()).hasSize(2);
            assertThat(d.pipeline().internalTopics()).extracting(InternalTopic::name)
                    .containsExactly("bench-b-by-user-repartition", "bench-b-counts-changelog");
            var in = d.input("events", S, S);
            Random random = new Random(2);
            Map<String, Long> expected = new HashMap<>();
            int n = 3000;
            for (int seq = 0; seq < n; seq++) {
                long ts = 10_000 + seq * 2L;                    // 500 events/s of event time: 6 windows
                String user = String.format("u%04d", random.nextInt(50));
                // the record key is not the user: grouping must use the value's user field
                in.pipe("k" + random.nextInt(7), event(ts * 1000, seq, user, "view", random.nextInt(100)), ts);
                expected.merge(user + "@" + (ts / 1000 * 1000), 1L, Long::sum);
            }
            List<TestRecord<String, String>> out = d.output("out-b", S, S).readAll();
            assertThat(out).hasSize(n);
            Map<String, Long> latest = new HashMap<>();
            for (TestRecord<String, String> r : out) {
                String[] f = r.value().split(",");
                assertThat(f).hasSize(4);
                long seq = Long.parseLong(f[1]);
                assertThat(Long.parseLong(f[0])).isEqualTo((10_000 + seq * 2) * 1000);   // the stamp of the event that caused it
                assertThat(r.key()).isEqualTo(r.key().substring(0, r.key().indexOf('@')) + "@" + f[3]);
                latest.put(r.key(), Long.parseLong(f[2]));
            }
            assertThat(latest).isEqualTo(expected);
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
        }
    }

    @Test
    void benchBLocalNeedsNoRepartition() {
        try (PipelineTestDriver d = new PipelineTestDriver("bench-b", new BenchB(), Map.of("local", "true"), 2)) {
            assertThat(d.pipeline().subTopologies()).hasSize(1);
            d.input("events", S, S).pipe("u0001", event(5_000_000, 0, "u0001", "buy", 50), 5000);
            assertThat(d.output("out-b", S, S).readAll()).extracting(TestRecord::key, TestRecord::value)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("u0001@5000", "5000000,0,1,5000"));
        }
    }
}
