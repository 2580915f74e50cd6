package io.spate.processing;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import io.spate.replication.GroupCommit;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import io.spate.time.SystemScheduler;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The order of results appended in place when one batch is refused before it goes into the log
 * (this node's lease lapsed for a moment) and the next ones would be taken: a real partition
 * over a real log, led here alone, its lease the test's.
 */
class InPlaceOrderTest {
    private static final TopicPartition OUT = new TopicPartition("out", 0);

    @TempDir
    Path dataDir;
    private final AtomicBoolean leaseHeld = new AtomicBoolean(true);
    private SystemScheduler deadlines;
    private LogManager logs;
    private Partition partition;
    private TaskOutput output;

    @BeforeEach
    void open() throws IOException {
        deadlines = new SystemScheduler("in-place-order-test");
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        PartitionLog log = logs.getOrCreate(new io.spate.log.TopicPartition("out", 0), LogConfig.from(Map.of()));
        partition = new Partition(new io.spate.log.TopicPartition("out", 0), log, 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, leaseHeld::get, deadlines));
        partition.becomeLeader(3, 1, List.of(1), List.of(1), System.currentTimeMillis());
        AppendRetry retry = new AppendRetry(System::currentTimeMillis, Thread::sleep, 10_000, 1_000, () -> false, why -> { });
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        output = new TaskOutput(producer, tp -> tp.equals(OUT) ? partition : null, new LongAdder(), new LongAdder(), TableWrites.NONE, retry);
    }

    @AfterEach
    void close() {
        logs.close();
        deadlines.close();
    }

    private void result(String value) {
        output.send(OUT.topic(), OUT.partition(), null, value.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        output.appendBuffered();
    }

    private List<String> stored() throws IOException {
        List<String> values = new ArrayList<>();
        LogReadResult read = partition.log().read(0, 1 << 20, partition.log().logEndOffset(), true);
        for (Record r : MemoryRecords.readableRecords(read.slice().readIntoHeap()).records()) {
            values.add(StandardCharsets.UTF_8.decode(r.value()).toString());
        }
        read.slice().release();
        return values;
    }

    @Test
    void aBatchRefusedBeforeItsAppendKeepsItsPlaceAheadOfTheNextOnes() throws Exception {
        leaseHeld.set(false);
        result("a");
        leaseHeld.set(true);
        result("b");
        result("c");
        assertThat(stored()).as("nothing goes ahead of the refused batch").isEmpty();

        output.flush();

        assertThat(output.takeFailure()).isNull();
        assertThat(stored()).containsExactly("a", "b", "c");
    }
}
