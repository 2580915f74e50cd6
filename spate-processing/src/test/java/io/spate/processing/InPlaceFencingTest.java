package io.spate.processing;

import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An exactly-once task's results in place carry its producer's id and epoch, and a newer instance
 * of the task fences them. The window this closes (README, Known gaps, fix 58): the input moved
 * gracefully while the output stayed led here, and the new instance on the input's new leader
 * settled from the output (a transactional write under its new epoch, aborted, then a read to the
 * end) before this node learned of the move: a batch the old instance appended after that read
 * would be processed twice. A real partition on disk led here; the new instance's settle is the
 * transactional batch and abort marker its producer and coordinator would write.
 */
class InPlaceFencingTest {
    private static final long PRODUCER = 4_000;
    private static final short OLD = 7;
    private static final short NEW = 8;
    private static final String TASK = "p/0/0";

    @RegisterExtension
    final OnDiskPartition replica = OnDiskPartition.ledAlone("out", 1);

    private AnchoredOutput instance(short epoch) {
        return new AnchoredOutput(TASK, tp -> tp.topic().equals("out") ? replica.partition() : null, topic -> 1, Set.of(),
                new ProducerIdentity(PRODUCER, epoch));
    }

    private static AppendRetry retry() {
        return new AppendRetry(System::currentTimeMillis, ms -> { }, 10_000, 10_000, () -> false, why -> { });
    }

    private static boolean result(AnchoredOutput out, long nextInput, String value) throws Exception {
        out.begin(nextInput);
        out.send("out", 0, value.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        return out.appendAcknowledged(retry(), System.currentTimeMillis(), 0);
    }

    /** What the new instance's settle writes: a transactional batch under its epoch, then the abort. */
    private void settleUnder(short epoch) throws Exception {
        MemoryRecordsBuilder txn = MemoryRecords.builder(ByteBuffer.allocate(256), RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP, PRODUCER, epoch, 0, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        txn.append(System.currentTimeMillis(), (byte[]) null, (byte[]) null);
        Written written = replica.partition().append(txn.build().buffer(), Acks.ALL, 5_000, System.currentTimeMillis()).get(10, TimeUnit.SECONDS);
        assertThat(written.ok()).as("%s", written).isTrue();
        Written aborted = replica.partition().appendControl(PRODUCER, epoch, 0, false, 5_000, System.currentTimeMillis()).get(10, TimeUnit.SECONDS);
        assertThat(aborted.ok()).as("%s", aborted).isTrue();
    }

    @Test
    void aNewerInstancesSettleFencesTheOlderInstancesBatchesInPlace() throws Exception {
        AnchoredOutput old = instance(OLD);
        assertThat(result(old, 1, "a")).as("no other instance yet: appended").isTrue();
        long before = replica.partition().readLimit(io.spate.replication.ReadBound.LOG_END);

        settleUnder(NEW);
        long settled = replica.partition().readLimit(io.spate.replication.ReadBound.LOG_END);
        assertThat(AnchoredOutput.lastPosition(replica.partition(), 0, TASK, () -> false, null).position())
                .as("what the new instance read: the old one's last batch").isEqualTo(1);

        assertThatThrownBy(() -> result(old, 2, "b")).as("the old instance, after the new one read the output")
                .isInstanceOf(InvalidProducerEpochException.class);
        assertThat(replica.partition().readLimit(io.spate.replication.ReadBound.LOG_END)).as("nothing appended").isEqualTo(settled);
        assertThat(settled).isGreaterThan(before);

        assertThat(result(instance(NEW), 2, "b")).as("the new instance appends in place under its epoch").isTrue();
        assertThat(AnchoredOutput.lastPosition(replica.partition(), 0, TASK, () -> false, null).position()).isEqualTo(2);
    }
}
