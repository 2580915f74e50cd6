package io.spate.processing;

import io.spate.log.LogScanner;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A stateful task's batches in place ({@link AnchoredOutput} with changelogs, {@link StateDelta})
 * over a real partition and log: one batch holds the micro-batch's results, its position on the
 * first record and its store changes on the last; a micro-batch that changed state without a
 * result holds its changes for the next batch; a restart's scan finds the changes of this task's
 * batches in order, and not another task's; changes too large for one batch are refused before
 * anything is appended.
 */
class AnchoredStateTest {
    private static final String TASK = "p/1/0";
    private static final String CHANGELOG = "p-n-changelog";

    @RegisterExtension
    final OnDiskPartition replica = OnDiskPartition.ledAlone("out", 1);

    private AnchoredOutput output(String task) {
        return new AnchoredOutput(task, tp -> tp.topic().equals("out") ? replica.partition() : null, topic -> 1, Set.of(CHANGELOG));
    }

    private AppendRetry retry() {
        return new AppendRetry(System::currentTimeMillis, ms -> { }, 30_000, 30_000, () -> false, why -> { });
    }

    private static byte[] b(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aBatchCarriesItsResultsPositionAndStoreChangesAndAScanFindsThemInOrder() throws Exception {
        AnchoredOutput out = output(TASK);
        out.begin(10);
        out.send(CHANGELOG, 0, b("a"), b("1"), 5);
        out.send("out", 0, b("a"), b("a=1"), 5);
        out.send(CHANGELOG, 0, b("b"), b("1"), 6);
        out.send("out", 0, b("b"), b("b=1"), 6);
        assertThat(out.appendAcknowledged(retry(), System.currentTimeMillis(), 6)).isTrue();
        assertThat(out.delta().changes().get(CHANGELOG)).hasSize(2);
        out.delta().clear();

        // No result: the change waits for the next batch, whose position covers both micro-batches.
        out.begin(20);
        out.send(CHANGELOG, 0, b("a"), null, 7);
        assertThat(out.appendAcknowledged(retry(), System.currentTimeMillis(), 7)).isFalse();
        assertThat(out.holdsState()).isTrue();
        out.begin(30);
        out.send(CHANGELOG, 0, b("c"), b("1"), 8);
        out.send("out", 0, b("c"), b("c=1"), 8);
        assertThat(out.appendAcknowledged(retry(), System.currentTimeMillis(), 8)).isTrue();
        out.delta().clear();
        assertThat(out.holdsState()).isFalse();

        // Another task's batch in the same partition is not this task's.
        AnchoredOutput other = output("p/1/9");
        other.begin(99);
        other.send(CHANGELOG, 0, b("z"), b("9"), 9);
        other.send("out", 0, b("z"), b("z=9"), 9);
        assertThat(other.appendAcknowledged(retry(), System.currentTimeMillis(), 9)).isTrue();

        List<StateDelta.Decoded> found = new ArrayList<>();
        AnchoredOutput.Found last = AnchoredOutput.lastPosition(replica.partition(), 0, TASK, () -> false, found::add);
        assertThat(last.position()).isEqualTo(30);
        assertThat(found).extracting(StateDelta.Decoded::streamTimeMs).containsExactly(6L, 8L);
        assertThat(found.get(0).changes().get(CHANGELOG)).extracting(c -> new String(c.key()) + "=" + new String(c.value()))
                .containsExactly("a=1", "b=1");
        assertThat(found.get(1).changes().get(CHANGELOG)).extracting(c -> new String(c.key()) + "=" + (c.value() == null ? "null" : new String(c.value())))
                .containsExactly("a=null", "c=1");

        // In the log: the position on each batch's first record, the changes on its last, results only as values.
        List<String> layout = new ArrayList<>();
        LogScanner.forEachChunk(replica.partition().log(), 0, replica.partition().readLimit(ReadBound.LOG_END), chunk -> {
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(chunk).batches()) {
                for (Record r : batch) {
                    byte[] value = new byte[r.valueSize()];
                    r.value().get(value);
                    List<String> headers = new ArrayList<>();
                    for (Header h : r.headers()) {
                        headers.add(h.key());
                    }
                    layout.add(new String(value, StandardCharsets.UTF_8) + headers);
                }
            }
        });
        assertThat(layout).containsExactly("a=1[spate.position]", "b=1[spate.state]", "c=1[spate.position, spate.state]",
                "z=9[spate.position, spate.state]");
    }

    @Test
    void changesLargerThanOneBatchAreRefusedBeforeAnythingIsAppended() {
        AnchoredOutput out = output(TASK);
        out.begin(10);
        out.send("out", 0, b("a"), b("a=1"), 5);
        byte[] big = new byte[64 * 1024];
        assertThatThrownBy(() -> {
            for (int i = 0; i < 16; i++) {
                out.send(CHANGELOG, 0, b("k" + i), big, 5);
            }
        }).isInstanceOfSatisfying(AnchoredOutput.NotAnchorable.class, e -> assertThat(e.fewerRecords).isTrue());
        assertThat(replica.partition().readLimit(ReadBound.LOG_END)).isZero();
    }

    @Test
    void aKeyChangedSeveralTimesCarriesOnlyItsLatestValueInTheOrderOfLatestChanges() {
        StateDelta delta = new StateDelta();
        delta.add(CHANGELOG, b("a"), b("1"), 1);
        delta.add(CHANGELOG, b("b"), b("1"), 2);
        delta.add(CHANGELOG, b("a"), b("2"), 3);
        delta.add(CHANGELOG, b("a"), b("3"), 4);
        delta.add("other-changelog", b("a"), b("x"), 5);
        delta.add(CHANGELOG, b("b"), null, 6);
        assertThat(delta.changes().get(CHANGELOG)).extracting(c -> new String(c.key()) + "=" + (c.value() == null ? "null" : new String(c.value())) + "@" + c.timestamp())
                .containsExactly("a=3@4", "b=null@6");
        assertThat(delta.changes().get("other-changelog")).hasSize(1);
        StateDelta.Decoded decoded = StateDelta.decode(delta.encode(TASK, 6), TASK);
        assertThat(decoded.changes().get(CHANGELOG)).extracting(c -> new String(c.key()) + "@" + c.timestamp()).containsExactly("a@4", "b@6");
        StateDelta latestOnly = new StateDelta();
        latestOnly.add(CHANGELOG, b("a"), b("3"), 4);
        latestOnly.add("other-changelog", b("a"), b("x"), 5);
        latestOnly.add(CHANGELOG, b("b"), null, 6);
        assertThat(delta.estimatedBytes()).as("replaced changes no longer counted").isEqualTo(latestOnly.estimatedBytes());
    }

    @Test
    void aHeaderOfAnotherTaskDecodesToNothing() {
        StateDelta delta = new StateDelta();
        delta.add(CHANGELOG, b("k"), b("v"), 1);
        delta.add("other-changelog", b("k2"), null, 2);
        byte[] encoded = delta.encode(TASK, 42);
        assertThat(StateDelta.decode(encoded, "p/1/1")).isNull();
        StateDelta.Decoded decoded = StateDelta.decode(encoded, TASK);
        assertThat(decoded.streamTimeMs()).isEqualTo(42);
        assertThat(decoded.changes().keySet()).containsExactly(CHANGELOG, "other-changelog");
        assertThat(decoded.changes().get("other-changelog").get(0).value()).isNull();
        assertThat(decoded.changes().get("other-changelog").get(0).timestamp()).isEqualTo(2);
        assertThat(encoded.length).isLessThanOrEqualTo(delta.estimatedBytes() + TASK.length() + 16);
    }

    /**
     * Results for a compacted topic do not go in place: compaction would drop the first record of
     * a batch (its position) once a later record of the batch has its key, and a restart would not
     * find the batch (found by a review). The task commits in transactions instead.
     */
    @Test
    void aCompactedOutputIsNotTakenInPlace() {
        replica.partition().log().updateConfig(io.spate.log.LogConfig.from(java.util.Map.of("cleanup.policy", "compact")));
        AnchoredOutput out = new AnchoredOutput("p/0/0", tp -> replica.partition(), topic -> 1, Set.of());
        out.begin(1);

        assertThatThrownBy(() -> out.send("out", 0, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8), 0))
                .isInstanceOf(AnchoredOutput.NotAnchorable.class).hasMessageContaining("compacted");
        assertThat(out.target()).isNull();
    }
}
