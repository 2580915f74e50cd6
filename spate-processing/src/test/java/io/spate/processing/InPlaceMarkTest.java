package io.spate.processing;

import io.spate.replication.Partition;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TaskOutput#inPlaceMark()} and {@link TaskOutput#acknowledgedUpTo}: an at-least-once
 * task's commit waits for the results appended in place before it, and only for those, without
 * blocking its thread. A real partition over a real log on disk, led here with follower 2 in the
 * in-sync set; the follower's fetches are the test's.
 */
class InPlaceMarkTest {
    private static final TopicPartition OUT = new TopicPartition("out", 0);
    private static final TopicPartition ELSEWHERE = new TopicPartition("out", 1);

    @RegisterExtension
    final OnDiskPartition replica = new OnDiskPartition("out", 1);
    private Partition partition;
    private TaskOutput output;

    @BeforeEach
    void open() {
        partition = replica.partition();
        partition.becomeLeader(3, 1, List.of(1, 2), List.of(1, 2), System.currentTimeMillis());
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        output = new TaskOutput(producer, tp -> tp.equals(OUT) ? partition : null, new LongAdder(), new LongAdder(), TableWrites.NONE, null);
    }

    private void result(TopicPartition tp, String value) {
        output.send(tp.topic(), tp.partition(), null, value.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        output.appendBuffered();
    }

    @Test
    void aCommitWaitsForTheAppendsBeforeItsMarkAndNotForLaterOnes() throws Exception {
        result(OUT, "a");
        long mark = output.inPlaceMark();
        assertThat(mark).isNotNegative();
        result(OUT, "b");
        assertThat(output.acknowledgedUpTo(mark)).as("'a' is on this node only").isFalse();

        partition.onFollowerFetch(2, 1, System.currentTimeMillis(), "");
        assertThat(output.acknowledgedUpTo(mark)).as("'a' is on both in-sync replicas; 'b' is not, and need not be").isTrue();
        long next = output.inPlaceMark();
        assertThat(output.acknowledgedUpTo(next)).isFalse();

        partition.onFollowerFetch(2, 2, System.currentTimeMillis(), "");
        assertThat(output.acknowledgedUpTo(next)).isTrue();
        assertThat(output.takeFailure()).isNull();
    }

    @Test
    void aResultSentThroughTheProducerLeavesTheCommitToAFlush() {
        result(OUT, "a");
        result(ELSEWHERE, "b"); // not led here: through the producer
        assertThat(output.inPlaceMark()).as("the producer's sends are only known settled by its flush").isNegative();
    }

    @Test
    void aRefusedAppendBeforeTheMarkIsSettledByAFlushAndReported() throws Exception {
        result(OUT, "a");
        long mark = output.inPlaceMark();
        partition.becomeFollower(4, 2, 2, List.of(1, 2), List.of(2));
        // The leadership ended with 'a' unreplicated: its wait ends, refused, and the flush reports it.
        org.awaitility.Awaitility.await().until(() -> output.acknowledgedUpTo(mark));
        assertThat(output.takeFailure()).isNotNull();
    }
}
