package io.spate.http;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Batches built for Partition.append read back as sent; keys partitioned as Kafka's producer does; event ids. */
class RecordsTest {
    @Test
    void keysGoWhereKafkasDefaultPartitionerSendsThem() {
        for (int i = 0; i < 1_000; i++) {
            byte[] key = ("key-" + i).getBytes(StandardCharsets.UTF_8);
            for (int partitions : new int[]{1, 3, 7, 50}) {
                assertThat(RecordWriter.partitionForKey(key, partitions)).isEqualTo(BuiltInPartitioner.partitionForKey(key, partitions));
            }
        }
    }

    @Test
    void aBuiltBatchDecodesToItsRecordsFromAnyOffset() {
        List<IncomingRecord> records = List.of(
                new IncomingRecord(bytes("k0"), bytes("v0"), List.of(new RecordHeader("h", bytes("x"))), null),
                new IncomingRecord(null, null, List.of(), null),
                new IncomingRecord(bytes("k2"), bytes("v2"), List.of(), 0));
        ByteBuffer batch = RecordWriter.batch(records, 1_000L);

        List<RecordJson.OutgoingRecord> out = new ArrayList<>();
        long next = ReadHandler.decode(batch.duplicate(), 0, 10, 4, out);
        assertThat(next).isEqualTo(3);
        assertThat(out).extracting(RecordJson.OutgoingRecord::offset).containsExactly(0L, 1L, 2L);
        assertThat(out.getFirst().partition()).isEqualTo(4);
        assertThat(out.getFirst().timestamp()).isEqualTo(1_000L);
        assertThat(new String(out.getFirst().value(), StandardCharsets.UTF_8)).isEqualTo("v0");
        assertThat(out.getFirst().headers().getFirst().getKey()).isEqualTo("h");
        assertThat(out.get(1).key()).isNull();
        assertThat(out.get(1).value()).isNull();

        List<RecordJson.OutgoingRecord> some = new ArrayList<>();
        assertThat(ReadHandler.decode(batch.duplicate(), 1, 1, 0, some)).isEqualTo(2);
        assertThat(some).extracting(RecordJson.OutgoingRecord::offset).containsExactly(1L);
    }

    @Test
    void eventIdsRoundTripAndBadOnesAreRefused() {
        TreeMap<Integer, Long> positions = new TreeMap<>(Map.of(0, 15L, 1, -1L, 2, 7L));
        String id = LiveStream.eventId(positions);
        assertThat(id).isEqualTo("0:15,1:-1,2:7");
        assertThat(LiveStream.parseEventId(id, 3)).isEqualTo(positions);
        assertThat(LiveStream.parseEventId(" 1:3 ", 2)).isEqualTo(Map.of(1, 3L));
        for (String bad : new String[]{"3:1", "0:1,0:2", "x", "0:", "0:1:2", "0:-2", "-1:0", "0:9223372036854775807"}) {
            assertThatThrownBy(() -> LiveStream.parseEventId(bad, 3)).as(bad).isInstanceOf(ApiError.class);
        }
    }

    @Test
    void inFlightBytesAreHeldUnderTheirLimit() {
        InFlightBytes inFlight = new InFlightBytes(100);
        assertThat(inFlight.tryReserve(60)).isTrue();
        assertThat(inFlight.tryReserve(41)).isFalse();
        assertThat(inFlight.tryReserve(40)).isTrue();
        assertThat(inFlight.tryReserve(1)).isFalse();
        inFlight.release(60);
        assertThat(inFlight.usedBytes()).isEqualTo(40);
        assertThat(inFlight.tryReserve(60)).isTrue();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
