package io.spate.stream;

import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.testing.PipelineTestDriver;
import io.spate.stream.testing.TestRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class JoinTest {
    private static final Serde<String> S = Serdes.string();

    private static Pipeline streamTable(boolean left) {
        return b -> {
            KTable<String, String> users = b.table("users", S, S, Named.as("users"));
            KStream<String, String> clicks = b.stream("clicks", S, S);
            (left ? clicks.leftJoin(users, (click, user) -> click + "/" + user) : clicks.join(users, (click, user) -> click + "/" + user))
                    .to("enriched", S, S);
        };
    }

    private static Pipeline tableTable(String kind) {
        return b -> {
            KTable<String, String> users = b.table("tusers", S, S, Named.as("tusers"));
            KTable<String, String> accounts = b.table("taccounts", S, S, Named.as("taccounts"));
            ValueJoiner<String, String, String> joiner = (user, account) -> user + "/" + account;
            KTable<String, String> joined = switch (kind) {
                case "inner" -> users.join(accounts, joiner);
                case "left" -> users.leftJoin(accounts, joiner);
                default -> users.outerJoin(accounts, joiner);
            };
            joined.toStream().to("profiles", S, S);
        };
    }

    /** The same updates through each kind of table-table join: what each sends, deletions included. */
    private static List<String> tableTableUpdates(String kind) {
        try (PipelineTestDriver d = new PipelineTestDriver("tt", tableTable(kind), Map.of(), 2)) {
            assertThat(d.pipeline().subTopologies()).hasSize(1);
            var users = d.input("tusers", S, S);
            var accounts = d.input("taccounts", S, S);
            users.pipe("u1", "ada", 1);
            accounts.pipe("u1", "gold", 2);
            accounts.pipe("u2", "silver", 3);
            users.pipe("u1", "ada2", 4);
            users.pipe("u1", null, 5);
            accounts.pipe("u1", null, 6);
            return d.output("profiles", S, S).readAll().stream().map(r -> r.key() + "=" + r.value()).toList();
        }
    }

    @Test
    void tableTableJoinsFollowBothSidesAndDeleteTheirResults() {
        assertThat(tableTableUpdates("inner")).containsExactly("u1=ada/gold", "u1=ada2/gold", "u1=null");
        assertThat(tableTableUpdates("left")).containsExactly("u1=ada/null", "u1=ada/gold", "u1=ada2/gold", "u1=null");
        assertThat(tableTableUpdates("outer")).containsExactly("u1=ada/null", "u1=ada/gold", "u2=null/silver", "u1=ada2/gold",
                "u1=null/gold", "u1=null");
    }

    @Test
    void aTableTableJoinsResultCannotBeJoinedAgain() {
        Pipeline rejoin = b -> {
            KTable<String, String> joined = b.table("a", S, S, Named.as("a")).join(b.table("b", S, S, Named.as("b")), (x, y) -> x + y);
            b.stream("s", S, S).join(joined, (x, y) -> x + y).to("o", S, S);
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PipelineTestDriver("rejoin", rejoin, Map.of(), 1))
                .hasMessageContaining("kept in no store");
    }

    @Test
    void streamTableJoinSeesTableUpdatesAndTombstones() {
        try (PipelineTestDriver d = new PipelineTestDriver("j", streamTable(false), Map.of(), 3)) {
            CompiledPipeline c = d.pipeline();
            assertThat(c.subTopologies()).hasSize(1);
            assertThat(c.subTopologies().get(0).inputTopics()).containsExactly("users", "clicks");
            assertThat(c.internalTopics()).isEmpty();
            var users = d.input("users", S, S);
            var clicks = d.input("clicks", S, S);
            var out = d.output("enriched", S, S);
            clicks.pipe("u1", "c0", 1);                 // no user yet: dropped
            users.pipe("u1", "alice", 2).pipe("u2", "bob", 3);
            clicks.pipe("u1", "c1", 4).pipe("u2", "c2", 5);
            users.pipe("u1", "alice2", 6);
            clicks.pipe("u1", "c3", 7);
            users.pipe("u2", null, 8);                  // tombstone
            clicks.pipe("u2", "c4", 9);
            assertThat(out.readAll()).extracting(TestRecord::key, TestRecord::value).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("u1", "c1/alice"),
                    org.assertj.core.groups.Tuple.tuple("u2", "c2/bob"),
                    org.assertj.core.groups.Tuple.tuple("u1", "c3/alice2"));
        }
    }

    @Test
    void leftJoinPassesNullForMissingTableValues() {
        try (PipelineTestDriver d = new PipelineTestDriver("j", streamTable(true), Map.of(), 2)) {
            var users = d.input("users", S, S);
            var clicks = d.input("clicks", S, S);
            clicks.pipe("u1", "c0", 1);
            users.pipe("u1", "alice", 2);
            clicks.pipe("u1", "c1", 3);
            users.pipe("u1", null, 4);
            clicks.pipe("u1", "c2", 5);
            assertThat(d.output("enriched", S, S).readAll()).extracting(TestRecord::value).containsExactly("c0/null", "c1/alice", "c2/null");
        }
    }

    @Test
    void aStreamRecordWithANullValueIsDroppedByEveryStreamTableJoin() {
        for (boolean left : new boolean[] {false, true}) {
            try (PipelineTestDriver d = new PipelineTestDriver("j", streamTable(left), Map.of(), 1)) {
                d.input("users", S, S).pipe("u1", "alice", 1);
                d.input("clicks", S, S).pipe("u1", null, 2).pipe("u1", "c1", 3);
                assertThat(d.output("enriched", S, S).readAll()).as("left %s", left).extracting(TestRecord::value).containsExactly("c1/alice");
            }
        }
    }

    @Test
    void aWindowedJoinDropsNullValuesAndJoinsAnOuterSidesNullKeyAtOnce() {
        JoinWindows windows = JoinWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(0));
        ValueJoiner<String, String, String> joiner = (v, c) -> v + "+" + c;
        for (String kind : List.of("inner", "left", "outer")) {
            Pipeline p = b -> {
                KStream<String, String> views = b.stream("views", S, S);
                KStream<String, String> clicks = b.stream("clicks", S, S);
                (switch (kind) {
                    case "inner" -> views.join(clicks, joiner, windows, Named.as("vc"));
                    case "left" -> views.leftJoin(clicks, joiner, windows, Named.as("vc"));
                    default -> views.outerJoin(clicks, joiner, windows, Named.as("vc"));
                }).to("joined", S, S);
            };
            try (PipelineTestDriver d = new PipelineTestDriver(kind, p, Map.of(), 1)) {
                var views = d.input("views", S, S);
                var clicks = d.input("clicks", S, S);
                views.pipe("a", null, 1000);           // no event: nothing to join, on any side
                clicks.pipe("a", "c1", 1010);
                views.pipe(null, "v0", 1020);          // no key: nothing can match it
                clicks.pipe(null, "c0", 1030);
                views.pipe("a", "v1", 1040);
                List<String> expected = switch (kind) {
                    case "inner" -> List.of("v1+c1");
                    case "left" -> List.of("v0+null", "v1+c1");
                    default -> List.of("v0+null", "null+c0", "v1+c1");
                };
                assertThat(d.output("joined", S, S).readAll()).as(kind).extracting(TestRecord::value).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    void aReKeyedStreamIsRepartitionedBeforeATableJoin() {
        Pipeline p = b -> {
            KTable<String, String> users = b.table("users", S, S);
            b.stream("orders", S, S)
                    .keyBy((orderId, v) -> v.split(",")[0], S, Named.as("by-user"))
                    .join(users, (order, user) -> order + " by " + user)
                    .to("out", S, S);
        };
        try (PipelineTestDriver d = new PipelineTestDriver("j", p, Map.of(), 3)) {
            assertThat(d.pipeline().subTopologies()).hasSize(2);
            assertThat(d.pipeline().subTopologies()).extracting(t -> t.inputTopics())
                    .containsExactly(List.of("users", "j-by-user-repartition"), List.of("orders"));
            d.input("users", S, S).pipe("u7", "gina", 1);
            d.input("orders", S, S).pipe("o1", "u7,42", 2);
            assertThat(d.output("out", S, S).readAll()).extracting(TestRecord::key, TestRecord::value)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("u7", "u7,42 by gina"));
        }
    }

    @Test
    void windowedStreamStreamJoin() {
        Pipeline p = b -> {
            KStream<String, String> views = b.stream("views", S, S);
            KStream<String, String> clicks = b.stream("clicks", S, S);
            views.join(clicks, (v, c) -> v + "+" + c, JoinWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(50)), Named.as("vc"))
                    .to("joined", S, S);
        };
        try (PipelineTestDriver d = new PipelineTestDriver("ss", p, Map.of(), 1)) {
            assertThat(d.pipeline().subTopologies()).hasSize(1);
            assertThat(d.pipeline().internalTopics()).extracting(t -> t.name())
                    .containsExactly("ss-vc-left-changelog", "ss-vc-right-changelog");
            var views = d.input("views", S, S);
            var clicks = d.input("clicks", S, S);
            var out = d.output("joined", S, S);
            views.pipe("k", "v1", 1000);
            clicks.pipe("k", "c1", 1050);               // within 100 ms of v1
            clicks.pipe("k", "c2", 1200);               // 200 ms after v1: no
            clicks.pipe("other", "c3", 1100);           // other key
            views.pipe("k", "v2", 1150);                // joins c1 (100 before) and c2 (50 after)
            assertThat(out.readAll()).extracting(TestRecord::value).containsExactly("v1+c1", "v2+c1", "v2+c2");
            // stream time 1200: a view at 900 has its window [800, 1000] closed (1000 + grace 50 <= 1200)
            views.pipe("k", "v3", 900);
            assertThat(out.readAll()).isEmpty();
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(1);
            // stream time 1500 expires every buffered record (t + 250 < 1500)
            clicks.pipe("x", "c9", 1500);
            assertThat(d.size("ss-vc-right-changelog", 0)).isEqualTo(4 + 3);   // c1, c2, c3, c9, then tombstones of c1, c2, c3
            clicks.pipe("k", "c5", 1380);               // window [1280, 1480] still open (1480 + 50 > 1500)
            views.pipe("k", "v4", 1360);
            assertThat(out.readAll()).extracting(TestRecord::value).containsExactly("v4+c5");
        }
    }

    @Test
    void streamStreamJoinRepartitionsAReKeyedSide() {
        Pipeline p = b -> {
            KStream<String, String> left = b.stream("a", S, S);
            KStream<String, String> right = b.stream("b", S, S).keyBy((k, v) -> v, S);
            left.join(right, (x, y) -> x + y, JoinWindows.of(Duration.ofSeconds(1))).to("out", S, S);
        };
        try (PipelineTestDriver d = new PipelineTestDriver("ss", p, Map.of(), 3)) {
            List<String> names = d.pipeline().internalTopics().stream().map(t -> t.name()).toList();
            assertThat(names).contains("ss-keyby-0002-repartition");
            d.input("b", S, S).pipe("ignored", "key1", 10);
            d.input("a", S, S).pipe("key1", "L", 20);
            assertThat(d.output("out", S, S).readAll()).extracting(TestRecord::value).containsExactly("Lkey1");
        }
    }

    @Test
    void windowedLeftJoinJoinsAnUnmatchedRecordWithNullOnceNoMatchCanCome() {
        Pipeline p = b -> b.stream("views", S, S)
                .leftJoin(b.stream("clicks", S, S), (v, c) -> v + "+" + c, JoinWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(50)),
                        Named.as("vc"))
                .to("joined", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("lj", p, Map.of(), 1)) {
            var views = d.input("views", S, S);
            var clicks = d.input("clicks", S, S);
            var out = d.output("joined", S, S);
            views.pipe("a", "v1", 1000);               // matched later by c1
            views.pipe("b", "v2", 1000);               // never matched
            clicks.pipe("a", "c1", 1080);
            clicks.pipe("z", "c0", 1100);              // a click without a view: a left join never emits it alone
            assertThat(out.readAll()).extracting(TestRecord::value).containsExactly("v1+c1");
            // v2 could still be matched by a click up to 1100 arriving until stream time passes 1250 (1100 + 100 + 50)
            clicks.pipe("x", "c2", 1250);
            assertThat(out.readAll()).isEmpty();
            clicks.pipe("x", "c3", 1251);              // past 1000 + 100 + 100 + 50: v1 and v2 leave the buffer
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value() + "@" + r.timestamp()).containsExactly("b=v2+null@1000");
        }
    }

    @Test
    void windowedOuterJoinEmitsBothSidesUnmatchedAndKeepsFlagsAcrossARestart() {
        Pipeline p = b -> b.stream("views", S, S)
                .outerJoin(b.stream("clicks", S, S), (v, c) -> v + "+" + c, JoinWindows.of(Duration.ofMillis(100)).grace(Duration.ofMillis(0)),
                        Named.as("vc"))
                .to("joined", S, S);
        try (PipelineTestDriver d = new PipelineTestDriver("oj", p, Map.of(), 1)) {
            var views = d.input("views", S, S);
            var clicks = d.input("clicks", S, S);
            var out = d.output("joined", S, S);
            views.pipe("a", "v1", 1000);
            views.pipe("b", "v2", 1010);
            clicks.pipe("c", "c1", 1020);
            clicks.pipe("a", "c2", 1050);              // matches v1: both flagged matched
            assertThat(out.readAll()).extracting(TestRecord::value).containsExactly("v1+c2");
            // The flags are in the changelogs: a restarted task restores them and emits no null join for v1 or c2.
            d.restartTasks();
            views.pipe("y", "tick", 1300);             // every record above leaves the buffer (t + 200 < 1300)
            assertThat(out.readAll()).extracting(TestRecord::value).containsExactlyInAnyOrder("v2+null", "null+c1");
        }
    }

    private static Pipeline viewsJoinClicks(JoinWindows windows, boolean left) {
        return b -> {
            KStream<String, String> views = b.stream("views", S, S);
            KStream<String, String> clicks = b.stream("clicks", S, S);
            ValueJoiner<String, String, String> joiner = (v, c) -> v + "+" + c;
            (left ? views.leftJoin(clicks, joiner, windows, Named.as("vc")) : views.join(clicks, joiner, windows, Named.as("vc")))
                    .to("joined", S, S);
        };
    }

    @Test
    void aJoinWindowClosedOnOneSideStillTakesThatSidesRecordsInOrder() {
        // clicks up to 10 s after their view, no grace: a click's own look-ahead is zero
        try (PipelineTestDriver d = new PipelineTestDriver("z", viewsJoinClicks(JoinWindows.of(Duration.ofSeconds(10)).before(Duration.ZERO), false),
                Map.of(), 1)) {
            d.input("views", S, S).pipe("a", "v", 1000);
            d.input("clicks", S, S).pipe("a", "c", 1005);
            assertThat(d.output("joined", S, S).readAll()).extracting(r -> r.value() + "@" + r.timestamp()).containsExactly("v+c@1005");
            assertThat(d.totalStats().lateRecordsDropped()).isZero();
        }
        // no difference allowed at all: records of equal timestamps join
        try (PipelineTestDriver d = new PipelineTestDriver("z", viewsJoinClicks(JoinWindows.of(Duration.ZERO), false), Map.of(), 1)) {
            d.input("views", S, S).pipe("a", "v", 1000);
            d.input("clicks", S, S).pipe("a", "c1", 1000).pipe("a", "c2", 1001);
            assertThat(d.output("joined", S, S).readAll()).extracting(TestRecord::value).containsExactly("v+c1");
        }
    }

    @Test
    void anExpiredRecordIsJoinedWithWhatTheOtherSideStillBuffersAndStampedWithTheLaterTime() {
        JoinWindows windows = JoinWindows.of(Duration.ofMillis(100));     // a record is buffered until stream time passes t + 200
        try (PipelineTestDriver d = new PipelineTestDriver("x", viewsJoinClicks(windows, true), Map.of(), 1)) {
            var views = d.input("views", S, S);
            var out = d.output("joined", S, S);
            d.input("clicks", S, S).pipe("a", "c", 1100).pipe("z", "tick", 1250);
            views.pipe("a", "v1", 1000);               // expired (1000 + 200 < 1250), c still buffered (1100 + 200 >= 1250)
            views.pipe("b", "v2", 1000);               // expired and nothing to match: a left join emits it with null at once
            assertThat(out.readAll()).extracting(r -> r.key() + "=" + r.value() + "@" + r.timestamp())
                    .containsExactly("a=v1+c@1100", "b=v2+null@1000");
            assertThat(d.totalStats().lateRecordsDropped()).isEqualTo(2);
            assertThat(d.size("x-vc-left-changelog", 0)).isZero();           // neither was buffered
        }
    }
}
