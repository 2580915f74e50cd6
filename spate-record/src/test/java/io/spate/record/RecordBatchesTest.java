package io.spate.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordBatchesTest {

    @Test
    void visitsEveryBatchInOrder() {
        ByteBuffer records = TestBatches.concat(
                TestBatches.builder().baseOffset(0).record(null, "a").build(),
                TestBatches.builder().baseOffset(1).record(null, "b").record(null, "c").build(),
                TestBatches.builder().baseOffset(3).record(null, "d").build());
        List<Long> bases = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();

        int count = RecordBatches.validateAll(records, b -> {
            bases.add(b.baseOffset());
            starts.add(b.start());
        });

        assertThat(count).isEqualTo(3);
        assertThat(bases).containsExactly(0L, 1L, 3L);
        assertThat(starts.get(0)).isZero();
        assertThat(records.position()).as("validateAll must not consume the buffer").isZero();
    }

    @Test
    void respectsPositionAndLimit() {
        ByteBuffer a = TestBatches.batch(1, "a");
        ByteBuffer b = TestBatches.batch(2, "b");
        ByteBuffer c = TestBatches.batch(3, "c");
        ByteBuffer all = TestBatches.concat(a, b, c);
        all.position(a.remaining()).limit(a.remaining() + b.remaining());
        List<Long> timestamps = new ArrayList<>();

        assertThat(RecordBatches.validateAll(all, batch -> timestamps.add(batch.baseTimestamp()))).isEqualTo(1);
        assertThat(timestamps).containsExactly(2L);
    }

    @Test
    void emptyInputIsRejected() {
        assertThatThrownBy(() -> RecordBatches.validateAll(ByteBuffer.allocate(0), b -> { }))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("no record batch");
    }

    @Test
    void trailingPartialBatchIsRejected() {
        ByteBuffer second = TestBatches.batch(2, "b");
        ByteBuffer records = TestBatches.concat(TestBatches.batch(1, "a"), second.duplicate().limit(second.limit() - 5));
        assertThatThrownBy(() -> RecordBatches.validateAll(records, b -> { }))
                .isInstanceOf(InvalidRecordBatchException.class);
    }

    @Test
    void trailingGarbageSmallerThanHeaderIsRejected() {
        ByteBuffer records = TestBatches.concat(TestBatches.batch(1, "a"), ByteBuffer.wrap(new byte[]{1, 2, 3}));
        assertThatThrownBy(() -> RecordBatches.validateAll(records, b -> { }))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("smaller than the v2 header");
    }

    @Test
    void corruptSecondBatchIsRejectedAfterTheFirstWasVisited() {
        ByteBuffer bad = TestBatches.batch(2, "b");
        bad.put(bad.limit() - 2, (byte) 0x7F);
        ByteBuffer records = TestBatches.concat(TestBatches.batch(1, "a"), bad);
        List<Long> seen = new ArrayList<>();
        assertThatThrownBy(() -> RecordBatches.validateAll(records, b -> seen.add(b.baseTimestamp())))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("CRC");
        assertThat(seen).containsExactly(1L);
    }
}
