package io.spate.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordBatchTest {

    @Test
    void readsEveryHeaderField() {
        ByteBuffer buf = TestBatches.builder()
                .baseOffset(42).partitionLeaderEpoch(7).baseTimestamp(5_000)
                .producer(99L, (short) 3, 10)
                .record("k1", "a", 0).record(null, "b", 25).record("k3", null, 10)
                .build();
        RecordBatch batch = RecordBatch.of(buf);

        assertThat(batch.start()).isZero();
        assertThat(batch.sizeInBytes()).isEqualTo(buf.remaining());
        assertThat(batch.baseOffset()).isEqualTo(42);
        assertThat(batch.lastOffsetDelta()).isEqualTo(2);
        assertThat(batch.lastOffset()).isEqualTo(44);
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(7);
        assertThat(batch.magic()).isEqualTo(RecordBatch.MAGIC_V2);
        assertThat(batch.attributes()).isZero();
        assertThat(batch.compressionCodec()).isZero();
        assertThat(batch.isLogAppendTime()).isFalse();
        assertThat(batch.isTransactional()).isFalse();
        assertThat(batch.isControl()).isFalse();
        assertThat(batch.baseTimestamp()).isEqualTo(5_000);
        assertThat(batch.maxTimestamp()).isEqualTo(5_025);
        assertThat(batch.producerId()).isEqualTo(99);
        assertThat(batch.hasProducerId()).isTrue();
        assertThat(batch.producerEpoch()).isEqualTo((short) 3);
        assertThat(batch.baseSequence()).isEqualTo(10);
        assertThat(batch.lastSequence()).isEqualTo(12);
        assertThat(batch.recordCount()).isEqualTo(3);
        assertThat(batch.computeCrc()).isEqualTo(batch.storedCrc());
        assertThat(TestBatches.values(buf)).containsExactly("a", "b", null);
    }

    @Test
    void batchWithoutProducerHasNoSequence() {
        RecordBatch batch = RecordBatch.of(TestBatches.batch(1, "x"));
        assertThat(batch.hasProducerId()).isFalse();
        assertThat(batch.producerId()).isEqualTo(RecordBatch.NO_PRODUCER_ID);
        assertThat(batch.baseSequence()).isEqualTo(RecordBatch.NO_SEQUENCE);
        assertThat(batch.lastSequence()).isEqualTo(RecordBatch.NO_SEQUENCE);
    }

    @Test
    void lastSequenceWrapsAtIntMax() {
        ByteBuffer buf = TestBatches.builder().producer(1, (short) 0, Integer.MAX_VALUE - 1)
                .record(null, "a").record(null, "b").record(null, "c").build();
        RecordBatch batch = RecordBatch.of(buf);
        // MAX-1, MAX, 0
        assertThat(batch.lastSequence()).isEqualTo(0);

        ByteBuffer exact = TestBatches.builder().producer(1, (short) 0, Integer.MAX_VALUE - 1)
                .record(null, "a").record(null, "b").build();
        assertThat(RecordBatch.of(exact).lastSequence()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void attributeBits() {
        RecordBatch batch = RecordBatch.of(TestBatches.builder().attributes(0x08 | 0x10 | 0x20 | 0x03).record(null, "a").build());
        assertThat(batch.compressionCodec()).isEqualTo(3);
        assertThat(batch.isLogAppendTime()).isTrue();
        assertThat(batch.isTransactional()).isTrue();
        assertThat(batch.isControl()).isTrue();
    }

    @Test
    void goodBatchValidates() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello", "world");
        assertThatCode(() -> RecordBatch.of(buf).validate(buf.remaining())).doesNotThrowAnyException();
    }

    @Test
    void goodBatchValidatesWithTrailingBytesAvailable() {
        ByteBuffer two = TestBatches.concat(TestBatches.batch(1, "a"), TestBatches.batch(2, "b"));
        assertThatCode(() -> RecordBatch.of(two).validate(two.remaining())).doesNotThrowAnyException();
    }

    @Test
    void corruptRecordBytesFailTheCrc() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello");
        int last = buf.limit() - 3;
        buf.put(last, (byte) (buf.get(last) ^ 0x01));
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("CRC mismatch");
    }

    @Test
    void corruptHeaderFieldInsideTheCrcFailsTheCrc() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello");
        buf.putLong(RecordBatch.MAX_TIMESTAMP_OFFSET, 123);
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("CRC");
    }

    @Test
    void wrongStoredCrcIsRejected() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello");
        buf.putInt(RecordBatch.CRC_OFFSET, buf.getInt(RecordBatch.CRC_OFFSET) + 1);
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("CRC mismatch");
    }

    @Test
    void wrongMagicIsRejected() {
        for (byte magic : new byte[]{0, 1, 3}) {
            ByteBuffer buf = TestBatches.batch(1_000, "hello");
            buf.put(RecordBatch.MAGIC_OFFSET, magic);
            assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                    .isInstanceOf(InvalidRecordBatchException.class)
                    .hasMessageContaining("magic " + magic);
        }
    }

    @Test
    void truncatedBatchIsRejected() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello", "world");
        int available = buf.remaining() - 1;
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(available))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("does not fit in " + available + " bytes");
    }

    @Test
    void lessThanAHeaderIsRejected() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello");
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(RecordBatch.HEADER_SIZE - 1))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("smaller than the v2 header");
    }

    @Test
    void lengthFieldSmallerThanHeaderIsRejected() {
        ByteBuffer buf = TestBatches.batch(1_000, "hello");
        buf.putInt(RecordBatch.LENGTH_OFFSET, 10);
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("batch length");
    }

    @Test
    void hugeOrNegativeLengthFieldIsRejected() {
        for (int length : new int[]{Integer.MAX_VALUE, -1, Integer.MIN_VALUE}) {
            ByteBuffer buf = TestBatches.batch(1_000, "hello");
            buf.putInt(RecordBatch.LENGTH_OFFSET, length);
            assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                    .isInstanceOf(InvalidRecordBatchException.class);
        }
    }

    @Test
    void inconsistentRecordCountIsRejected() {
        ByteBuffer buf = TestBatches.batch(1_000, "a", "b", "c");
        buf.putInt(RecordBatch.RECORD_COUNT_OFFSET, 4); // lastOffsetDelta 2 cannot hold 4 records
        assertThatThrownBy(() -> RecordBatch.of(buf).validate(buf.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("inconsistent batch header");

        ByteBuffer negative = TestBatches.batch(1_000, "a");
        negative.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1);
        assertThatThrownBy(() -> RecordBatch.of(negative).validate(negative.remaining()))
                .isInstanceOf(InvalidRecordBatchException.class)
                .hasMessageContaining("inconsistent batch header");
    }

    @Test
    void assignRewritesOffsetAndEpochWithoutTouchingTheCrc() {
        ByteBuffer buf = TestBatches.batch(1_000, "a", "b");
        byte[] before = TestBatches.bytes(buf);
        RecordBatch batch = RecordBatch.of(buf);
        long crc = batch.storedCrc();

        batch.assign(1_234_567_890_123L, 17);

        assertThat(batch.baseOffset()).isEqualTo(1_234_567_890_123L);
        assertThat(batch.lastOffset()).isEqualTo(1_234_567_890_124L);
        assertThat(batch.partitionLeaderEpoch()).isEqualTo(17);
        assertThat(batch.storedCrc()).isEqualTo(crc);
        assertThat(batch.computeCrc()).isEqualTo(crc);
        assertThatCode(() -> batch.validate(buf.remaining())).doesNotThrowAnyException();
        byte[] after = TestBatches.bytes(buf);
        // only bytes [0, 8) and [12, 16) may differ
        for (int i = 0; i < before.length; i++) {
            if (i < 8 || (i >= 12 && i < 16)) {
                continue;
            }
            assertThat(after[i]).as("byte %d", i).isEqualTo(before[i]);
        }
    }

    @Test
    void stampLogAppendTimeSetsTypeAndMaxTimestampAndKeepsTheBatchValid() {
        ByteBuffer buf = TestBatches.builder().baseTimestamp(1_000).record(null, "a", 0).record(null, "b", 50).build();
        byte[] before = TestBatches.bytes(buf);
        RecordBatch batch = RecordBatch.of(buf);

        batch.stampLogAppendTime(99_999);

        assertThat(batch.isLogAppendTime()).isTrue();
        assertThat(batch.maxTimestamp()).isEqualTo(99_999);
        assertThat(batch.baseTimestamp()).isEqualTo(1_000);
        assertThatCode(() -> batch.validate(buf.remaining())).doesNotThrowAnyException();
        byte[] after = TestBatches.bytes(buf);
        // records untouched
        for (int i = RecordBatch.HEADER_SIZE; i < before.length; i++) {
            assertThat(after[i]).isEqualTo(before[i]);
        }
    }

    @Test
    void wrapRepointsTheViewAtAnotherBatch() {
        ByteBuffer first = TestBatches.builder().baseOffset(5).record(null, "a").build();
        ByteBuffer second = TestBatches.builder().baseOffset(10).record(null, "b").record(null, "c").build();
        ByteBuffer both = TestBatches.concat(first, second);
        RecordBatch view = new RecordBatch();

        view.wrap(both, 0);
        assertThat(view.baseOffset()).isEqualTo(5);
        view.wrap(both, first.remaining());
        assertThat(view.start()).isEqualTo(first.remaining());
        assertThat(view.baseOffset()).isEqualTo(10);
        assertThat(view.recordCount()).isEqualTo(2);
        assertThatCode(() -> view.validate(second.remaining())).doesNotThrowAnyException();
    }

    @Test
    void ofStartsAtTheBufferPosition() {
        ByteBuffer first = TestBatches.builder().baseOffset(5).record(null, "a").build();
        ByteBuffer second = TestBatches.builder().baseOffset(10).record(null, "b").build();
        ByteBuffer both = TestBatches.concat(first, second);
        both.position(first.remaining());
        RecordBatch batch = RecordBatch.of(both);
        assertThat(batch.baseOffset()).isEqualTo(10);
        assertThatCode(() -> batch.validate(both.remaining())).doesNotThrowAnyException();
    }
}
