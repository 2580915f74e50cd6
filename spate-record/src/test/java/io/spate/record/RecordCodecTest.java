package io.spate.record;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Spate's record decoding and rewriting checked against kafka-clients: what one writes, the
 * other reads, record for record, with valid CRCs.
 */
class RecordCodecTest {

    @Test
    void aBatchBuiltHereIsOneKafkaReads() {
        ByteBuffer built = new RecordBatchBuilder(1_000)
                .append(1_000, utf8("k1"), utf8("v1"))
                .append(1_007, utf8("k2"), null)
                .append(1_003, null, utf8("v3"))
                .build();

        MutableRecordBatch batch = onlyBatch(MemoryRecords.readableRecords(built));
        batch.ensureValid();
        assertThat(batch.baseOffset()).isZero();
        assertThat(batch.lastOffset()).isEqualTo(2);
        assertThat(batch.maxTimestamp()).isEqualTo(1_007);
        assertThat(batch.producerId()).isEqualTo(-1);
        List<String> seen = new ArrayList<>();
        batch.forEach(r -> seen.add(r.offset() + ":" + r.timestamp() + ":" + text(r.key()) + "=" + text(r.value())));
        assertThat(seen).containsExactly("0:1000:k1=v1", "1:1007:k2=null", "2:1003:null=v3");
        RecordBatch.of(built).validate(built.remaining());
    }

    @Test
    void recordsKafkaWroteReadBackWithTheirOffsetsTimestampsKeysAndValues() throws IOException {
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(1024), Compression.NONE, TimestampType.CREATE_TIME, 40);
        builder.append(5_000, bytes("a"), bytes("1"), new RecordHeader[] {new RecordHeader("h", bytes("x"))});
        builder.append(4_000, bytes("b"), null);
        builder.append(6_000, null, bytes("3"));
        ByteBuffer batches = builder.build().buffer();

        assertThat(read(batches, null)).containsExactly("40:5000:a=1", "41:4000:b=null", "42:6000:null=3");
    }

    @Test
    void aBatchStampedWithLogAppendTimeGivesEveryRecordTheBatchTime() throws IOException {
        ByteBuffer batches = MemoryRecords.withRecords((byte) 2, 0L, Compression.NONE, TimestampType.CREATE_TIME,
                new SimpleRecord(10, bytes("a"), bytes("1")), new SimpleRecord(20, bytes("b"), bytes("2"))).buffer();
        RecordBatch.of(batches).stampLogAppendTime(99_000);

        assertThat(read(batches, null)).containsExactly("0:99000:a=1", "1:99000:b=2");
    }

    @Test
    void aCompressedBatchIsReadThroughTheCodecs() throws IOException {
        ByteBuffer batches = MemoryRecords.withRecords(Compression.gzip().build(),
                new SimpleRecord(1, bytes("a"), bytes("1")), new SimpleRecord(2, bytes("b"), bytes("2"))).buffer();

        assertThat(read(batches, new GzipCodecs())).containsExactly("0:1:a=1", "1:2:b=2");
        assertThatThrownBy(() -> read(batches, null)).isInstanceOf(IOException.class).hasMessageContaining("compressed");
    }

    @Test
    void aRecordCutShortIsRefusedNotMisread() {
        ByteBuffer batch = new RecordBatchBuilder(0).append(0, utf8("key"), utf8("value")).build();
        // The record claims more bytes than the batch holds.
        batch.put(RecordBatch.HEADER_SIZE, (byte) 0x7e);
        RecordReader reader = new RecordReader(null);

        assertThatThrownBy(() -> reader.open(RecordBatch.of(batch)).next()).isInstanceOf(InvalidRecordBatchException.class);
    }

    @Test
    void filteringKeepsTheHeaderThatProducerStateAndOffsetsNeed() throws IOException {
        ByteBuffer batches = MemoryRecords.withIdempotentRecords(100L, Compression.NONE, 7L, (short) 3, 20, 5,
                new SimpleRecord(1_000, bytes("a"), bytes("1")), new SimpleRecord(3_000, bytes("b"), bytes("2")),
                new SimpleRecord(2_000, bytes("a"), bytes("3")), new SimpleRecord(4_000, bytes("c"), bytes("4"))).buffer();

        RecordBatchFilter.Result result = new RecordBatchFilter(null).filter(batches,
                (batch, record) -> record.offset() == 101 || record.offset() == 102, ByteBuffer.allocate(16));

        assertThat(result.batchesKept()).isEqualTo(1);
        assertThat(result.recordsKept()).isEqualTo(2);
        MutableRecordBatch kept = onlyBatch(MemoryRecords.readableRecords(result.output()));
        kept.ensureValid();
        assertThat(kept.baseOffset()).isEqualTo(100);
        assertThat(kept.lastOffset()).as("the last offset survives, as Kafka keeps it").isEqualTo(103);
        assertThat(kept.producerId()).isEqualTo(7);
        assertThat(kept.producerEpoch()).isEqualTo((short) 3);
        assertThat(kept.baseSequence()).isEqualTo(20);
        assertThat(kept.lastSequence()).isEqualTo(23);
        assertThat(kept.partitionLeaderEpoch()).isEqualTo(5);
        assertThat(kept.countOrNull()).isEqualTo(2);
        assertThat(kept.maxTimestamp()).as("the max of the records kept").isEqualTo(3_000);
        List<String> seen = new ArrayList<>();
        kept.forEach(r -> seen.add(r.offset() + ":" + r.timestamp() + ":" + text(r.key()) + "=" + text(r.value())));
        assertThat(seen).containsExactly("101:3000:b=2", "102:2000:a=3");
    }

    @Test
    void aBatchKeptWholeIsCopiedAsItIsAndOneKeptEmptyIsDropped() throws IOException {
        ByteBuffer first = MemoryRecords.withRecords(0L, Compression.NONE, new SimpleRecord(1, bytes("a"), bytes("1"))).buffer();
        ByteBuffer second = MemoryRecords.withRecords(1L, Compression.NONE, new SimpleRecord(2, bytes("b"), bytes("2"))).buffer();
        ByteBuffer both = ByteBuffer.allocate(first.remaining() + second.remaining()).put(first.duplicate()).put(second.duplicate()).flip();

        RecordBatchFilter.Result result = new RecordBatchFilter(null).filter(both, (batch, record) -> record.offset() == 0,
                ByteBuffer.allocate(both.remaining()));

        assertThat(result.batchesKept()).isEqualTo(1);
        assertThat(result.output()).isEqualTo(first);
    }

    @Test
    void aControlBatchIsKeptWhole() throws IOException {
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(9L, 1_000L, 2, 7L, (short) 1,
                new EndTransactionMarker(ControlRecordType.COMMIT, 4)).buffer();

        RecordBatchFilter.Result result = new RecordBatchFilter(null).filter(marker, (batch, record) -> false, ByteBuffer.allocate(8));

        assertThat(result.output()).isEqualTo(marker);
    }

    @Test
    void aCompressedBatchIsRewrittenWithItsCodec() throws IOException {
        ByteBuffer batches = MemoryRecords.withRecords(50L, Compression.gzip().build(),
                new SimpleRecord(1, bytes("a"), bytes("1")), new SimpleRecord(2, bytes("b"), bytes("2")),
                new SimpleRecord(3, bytes("a"), bytes("3"))).buffer();

        RecordBatchFilter.Result result = new RecordBatchFilter(new GzipCodecs()).filter(batches,
                (batch, record) -> record.offset() != 50, ByteBuffer.allocate(16));

        MutableRecordBatch kept = onlyBatch(MemoryRecords.readableRecords(result.output()));
        kept.ensureValid();
        assertThat((int) kept.compressionType().id).isEqualTo(GzipCodecs.GZIP);
        List<String> seen = new ArrayList<>();
        kept.forEach(r -> seen.add(r.offset() + ":" + text(r.key()) + "=" + text(r.value())));
        assertThat(seen).containsExactly("51:b=2", "52:a=3");
    }

    private static List<String> read(ByteBuffer batches, RecordsValidator.Decompressor codecs) throws IOException {
        List<String> seen = new ArrayList<>();
        RecordReader reader = new RecordReader(codecs);
        reader.forEach(RecordBatch.of(batches), r -> seen.add(r.offset() + ":" + r.timestamp() + ":" + text(r.key()) + "=" + text(r.value())));
        return seen;
    }

    private static MutableRecordBatch onlyBatch(MemoryRecords records) {
        List<MutableRecordBatch> batches = new ArrayList<>();
        records.batches().forEach(batches::add);
        assertThat(batches).hasSize(1);
        return batches.get(0);
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(bytes(s));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(ByteBuffer buffer) {
        if (buffer == null) {
            return "null";
        }
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
