package io.spate.record;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

class RecordsValidatorTest {
    private static final long NOW = 10_000_000;
    private static final RecordsValidator.Rules CREATE_TIME = RecordsValidator.Rules.of(false, false, NOW, Long.MAX_VALUE, 3_600_000);
    private final RecordsValidator validator = new RecordsValidator(null);

    private boolean validate(ByteBuffer batch, RecordsValidator.Rules rules) {
        return validator.validate(RecordBatch.of(batch), rules);
    }

    private static ByteBuffer two() {
        return TestBatches.builder().baseTimestamp(NOW).record("k1", "a").record("k2", "b", 5).build();
    }

    @Test
    void wellFormedBatchesPass() {
        assertThat(validate(two(), CREATE_TIME)).isTrue();
        assertThat(validate(TestBatches.builder().baseTimestamp(NOW).record(null, null).record("k", "").build(), CREATE_TIME)).isTrue();
        assertThat(validate(TestBatches.idempotent(3, (short) 0, 0, 4), RecordsValidator.Rules.of(false, false, 1_000, Long.MAX_VALUE, 3_600_000))).isTrue();
    }

    @Test
    void aRecordCountThatDisagreesWithTheOffsetRangeIsRefused() {
        ByteBuffer batch = two();
        batch.putInt(RecordBatch.RECORD_COUNT_OFFSET, 3);
        assertThat(validate(batch, CREATE_TIME)).isFalse();
        assertThat(validator.problem()).isEqualTo(RecordsValidator.Problem.INVALID_RECORD);
        assertThat(validator.message()).contains("does not match the offset range");

        ByteBuffer empty = two();
        empty.putInt(RecordBatch.RECORD_COUNT_OFFSET, 0);
        assertThat(validate(empty, CREATE_TIME)).isFalse();
        assertThat(validator.message()).contains("reports 0 records");
    }

    @Test
    void recordsWithWrongOffsetDeltasOrBrokenLengthsAreRefused() {
        ByteBuffer batch = TestBatches.builder().baseTimestamp(NOW).record(null, "a").record(null, "b").build();
        // Second record: length varint, attributes, timestamp delta (0), offset delta (1 -> zigzag 2).
        int second = RecordBatch.HEADER_SIZE + 1 + batch.get(RecordBatch.HEADER_SIZE) / 2;
        assertThat(batch.get(second + 3)).isEqualTo((byte) 2);
        batch.put(second + 3, (byte) 4);
        assertThat(validate(batch, CREATE_TIME)).isFalse();
        assertThat(validator.problem()).isEqualTo(RecordsValidator.Problem.INVALID_RECORD);
        assertThat(validator.message()).contains("offset delta 2");

        ByteBuffer truncated = two();
        truncated.put(RecordBatch.HEADER_SIZE, (byte) 120); // first record claims 60 bytes
        assertThat(validate(truncated, CREATE_TIME)).isFalse();
        assertThat(validator.problem()).isEqualTo(RecordsValidator.Problem.CORRUPT);
    }

    @Test
    void controlBatchesUnknownCodecsAndProducersWithoutSequenceAreRefused() {
        assertThat(validate(TestBatches.builder().attributes(0x20).record(null, "a").baseTimestamp(NOW).build(), CREATE_TIME)).isFalse();
        assertThat(validator.message()).contains("control");
        assertThat(validate(TestBatches.builder().attributes(0x07).record(null, "a").baseTimestamp(NOW).build(), CREATE_TIME)).isFalse();
        assertThat(validator.message()).contains("codec 7");
        assertThat(validate(TestBatches.builder().producer(5, (short) 0, -1).record(null, "a").baseTimestamp(NOW).build(), CREATE_TIME)).isFalse();
        assertThat(validator.message()).contains("without a sequence");
    }

    @Test
    void compactedTopicsNeedKeys() {
        RecordsValidator.Rules compacted = RecordsValidator.Rules.of(true, false, NOW, Long.MAX_VALUE, 3_600_000);
        assertThat(validate(two(), compacted)).isTrue();
        assertThat(validate(TestBatches.builder().baseTimestamp(NOW).record("k", "a").record(null, "b").build(), compacted)).isFalse();
        assertThat(validator.problem()).isEqualTo(RecordsValidator.Problem.INVALID_RECORD);
        assertThat(validator.message()).contains("key");
    }

    @Test
    void createTimeTimestampsMustLieWithinTheTopicsBounds() {
        assertThat(validate(TestBatches.builder().baseTimestamp(NOW + 3_600_001).record(null, "a").build(), CREATE_TIME)).isFalse();
        assertThat(validator.problem()).isEqualTo(RecordsValidator.Problem.INVALID_TIMESTAMP);
        RecordsValidator.Rules dayBefore = RecordsValidator.Rules.of(false, false, NOW, 86_400_000 / 24, 3_600_000);
        assertThat(validate(TestBatches.builder().baseTimestamp(NOW - 3_600_001).record(null, "a").build(), dayBefore)).isFalse();
        assertThat(validate(TestBatches.builder().baseTimestamp(NOW - 3_599_000).record(null, "a").build(), dayBefore)).isTrue();
        RecordsValidator.Rules logAppendTime = RecordsValidator.Rules.of(false, true, NOW, 0, 0);
        assertThat(validate(TestBatches.builder().baseTimestamp(1).record(null, "a").build(), logAppendTime)).as("the broker's time replaces it").isTrue();
    }

    @Test
    void aCompressedBatchMayInflateToAFixedMultipleOfItsTopicsMaxMessageBytesWithinTheHeapsBound() throws Exception {
        RecordsValidator.Rules small = CREATE_TIME.inflatingAtMostFrom(64 * 1024);
        assertThat(small.maxInflatedBytes()).isEqualTo(RecordsValidator.INFLATION_ALLOWED * 64 * 1024);
        assertThat(CREATE_TIME.inflatingAtMostFrom(100).maxInflatedBytes()).isEqualTo(1 << 20);
        assertThat(CREATE_TIME.inflatingAtMostFrom(Integer.MAX_VALUE).maxInflatedBytes()).isEqualTo(RecordsValidator.MAX_INFLATED_BYTES);

        RecordsValidator inflating = new RecordsValidator(new GzipCodecs());
        ByteBuffer plain = TestBatches.builder().baseTimestamp(NOW).recordOfSize(3 << 20).build();
        ByteBuffer records = plain.duplicate().position(RecordBatch.HEADER_SIZE);
        ByteBuffer compressed = new GzipCodecs().compress(GzipCodecs.GZIP, records);
        ByteBuffer batch = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + compressed.remaining());
        batch.put(plain.duplicate().limit(RecordBatch.HEADER_SIZE)).put(compressed).flip();
        batch.putInt(RecordBatch.LENGTH_OFFSET, batch.limit() - RecordBatch.LOG_OVERHEAD);
        batch.putShort(RecordBatch.ATTRIBUTES_OFFSET, (short) GzipCodecs.GZIP);

        assertThat(inflating.validate(RecordBatch.of(batch), CREATE_TIME.inflatingAtMostFrom(64 * 1024))).isTrue();
        assertThat(inflating.validate(RecordBatch.of(batch), CREATE_TIME.inflatingAtMostFrom(16 * 1024))).isFalse();
        assertThat(inflating.problem()).isEqualTo(RecordsValidator.Problem.TOO_LARGE);
        assertThat(inflating.message()).contains("inflate to more than " + (2 << 20) + " bytes");
    }
}
