package io.spate.processing;

import io.spate.log.LogReadResult;
import io.spate.replication.Partition;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * At-least-once, a store's deletion reaches its changelog only once the results sent before it
 * are acknowledged ({@link TaskOutput#sendChangelog}): a window's close deletes its state and
 * emits its result, and a deletion made durable ahead of a result that was then lost would leave
 * a restarted task nothing to emit it from. Real partitions over real logs on disk, led here with
 * follower 2 in the in-sync set (its fetches are the test's); results for a partition led
 * elsewhere go through a producer whose sends the test completes.
 */
class HeldDeletionTest {
    private static final TopicPartition OUT = new TopicPartition("out", 0);
    private static final TopicPartition ELSEWHERE = new TopicPartition("elsewhere", 0);
    private static final TopicPartition CHANGELOG = new TopicPartition("store-changelog", 0);

    @RegisterExtension
    final OnDiskPartition outReplica = new OnDiskPartition("out", 1);
    @RegisterExtension
    final OnDiskPartition changelogReplica = new OnDiskPartition("store-changelog", 1);
    private Partition out;
    private Partition changelog;
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
    private TaskOutput output;

    @BeforeEach
    void open() {
        out = outReplica.partition();
        changelog = changelogReplica.partition();
        for (Partition p : List.of(out, changelog)) {
            p.becomeLeader(3, 1, List.of(1, 2), List.of(1, 2), System.currentTimeMillis());
        }
        output = new TaskOutput(producer, tp -> tp.equals(OUT) ? out : tp.equals(CHANGELOG) ? changelog : null, new LongAdder(), new LongAdder(),
                TableWrites.NONE, null, true);
    }

    private void result(TopicPartition tp, String value) {
        output.send(tp.topic(), tp.partition(), null, bytes(value), System.currentTimeMillis());
    }

    private void storeChange(String key, String value) {
        output.sendChangelog(CHANGELOG.topic(), CHANGELOG.partition(), bytes(key), value == null ? null : bytes(value), System.currentTimeMillis());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The changelog's records as key=value, "-" for a deletion. */
    private List<String> changelogRecords() throws IOException {
        List<String> records = new ArrayList<>();
        LogReadResult read = changelog.log().read(0, 1 << 20, changelog.log().logEndOffset(), true);
        for (Record r : MemoryRecords.readableRecords(read.slice().readIntoHeap()).records()) {
            records.add(StandardCharsets.UTF_8.decode(r.key()) + "=" + (r.hasValue() ? StandardCharsets.UTF_8.decode(r.value()) : "-"));
        }
        read.slice().release();
        return records;
    }

    /** The follower copies both partitions to their ends. */
    private void followerCaughtUp() {
        for (Partition p : List.of(out, changelog)) {
            p.onFollowerFetch(2, p.log().logEndOffset(), System.currentTimeMillis(), "");
        }
    }

    @Test
    void aDeletionWaitsForAResultSentThroughTheProducerBeforeIt() throws Exception {
        storeChange("w1", "2");
        result(ELSEWHERE, "w1 closed: 2");
        storeChange("w1", null);
        output.appendBuffered();

        assertThat(changelogRecords()).as("the update goes at once; the deletion waits for the result, still unacknowledged")
                .containsExactly("w1=2");
        assertThat(output.inPlaceMark()).as("a result went through the producer: a flush settles it").isNegative();

        producer.completeNext();
        followerCaughtUp();
        Thread flusher = Thread.ofVirtual().start(() -> {
            try {
                output.flush();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        org.awaitility.Awaitility.await().until(() -> changelogRecords().size() == 2);
        assertThat(changelogRecords()).containsExactly("w1=2", "w1=-");
        followerCaughtUp();
        flusher.join();
        assertThat(output.takeFailure()).isNull();
        assertThat(output.holdsChangelogWrites()).isFalse();
    }

    @Test
    void aDeletionHeldBehindResultsAppendedInPlaceGoesOnceTheyAreAcknowledgedAndTheCommitWaitsForIt() throws Exception {
        result(OUT, "w1 closed: 2");
        storeChange("w1", null);
        storeChange("w2", "1"); // after a held deletion of its partition: it queues behind it
        output.appendBuffered();
        assertThat(changelogRecords()).isEmpty();

        long mark = output.inPlaceMark();
        assertThat(mark).isNotNegative();
        result(OUT, "w2: 1"); // after the mark: nothing waits for it
        storeChange("w3", null);
        output.appendBuffered();
        assertThat(output.acknowledgedUpTo(mark)).as("the result is on this node only").isFalse();

        followerCaughtUp();
        assertThat(output.acknowledgedUpTo(mark)).isTrue();
        long heldMark = output.releaseHeldAtMark();
        assertThat(heldMark).as("the commit now waits for the writes released").isGreaterThan(mark);
        assertThat(changelogRecords()).as("in the order they were made; the deletion made after the mark still waits")
                .containsExactly("w1=-", "w2=1");
        assertThat(output.acknowledgedUpTo(heldMark)).isFalse();

        followerCaughtUp();
        assertThat(output.acknowledgedUpTo(heldMark)).isTrue();
        assertThat(output.releaseHeldAtMark()).as("nothing more before this commit").isNegative();
        assertThat(output.holdsChangelogWrites()).as("w3's deletion, for the next commit").isTrue();
        assertThat(output.takeFailure()).isNull();
    }

    @Test
    void withoutHoldingEveryStoreChangeGoesAtOnce() throws Exception {
        output = new TaskOutput(producer, tp -> tp.equals(CHANGELOG) ? changelog : null, new LongAdder(), new LongAdder(), TableWrites.NONE, null);
        result(ELSEWHERE, "w1 closed: 2");
        storeChange("w1", null);
        output.appendBuffered();
        assertThat(changelogRecords()).as("exactly-once commits results and store changes together: nothing to hold")
                .containsExactly("w1=-");
    }
}
