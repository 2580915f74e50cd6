package io.spate.record;

import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** End-transaction markers as Spate writes and reads them, checked against kafka-clients both ways. */
class ControlBatchesTest {
    @Test
    void aMarkerSpateWritesIsTheMarkerKafkaClientsReads() {
        ByteBuffer ours = ControlBatches.endTxnMarker(4_000L, (short) 7, 12, true, 1_700_000_000_000L);
        MutableRecordBatch theirs = MemoryRecords.readableRecords(ours.duplicate()).batches().iterator().next();
        theirs.ensureValid();
        assertThat(theirs.isControlBatch()).isTrue();
        assertThat(theirs.isTransactional()).isTrue();
        assertThat(theirs.producerId()).isEqualTo(4_000L);
        assertThat(theirs.producerEpoch()).isEqualTo((short) 7);
        assertThat(theirs.baseSequence()).isEqualTo(-1);
        EndTransactionMarker marker = EndTransactionMarker.deserialize(theirs.iterator().next());
        assertThat(marker.controlType()).isEqualTo(ControlRecordType.COMMIT);
        assertThat(marker.coordinatorEpoch()).isEqualTo(12);

        ByteBuffer abort = ControlBatches.endTxnMarker(4_000L, (short) 7, 12, false, 1_700_000_000_000L);
        MutableRecordBatch aborted = MemoryRecords.readableRecords(abort).batches().iterator().next();
        assertThat(EndTransactionMarker.deserialize(aborted.iterator().next()).controlType()).isEqualTo(ControlRecordType.ABORT);
    }

    @Test
    void aMarkerKafkaClientsWritesIsTheMarkerSpateReads() {
        MemoryRecords theirs = MemoryRecords.withEndTransactionMarker(42L, 1_700_000_000_000L, 3, 9_000L, (short) 2,
                new EndTransactionMarker(ControlRecordType.ABORT, 5));
        RecordBatch batch = RecordBatch.of(theirs.buffer());
        batch.validate(theirs.sizeInBytes());
        assertThat(ControlBatches.readMarker(batch)).isEqualTo(new ControlBatches.EndTxnMarker(false, 5));
        assertThat(batch.producerId()).isEqualTo(9_000L);
        assertThat(batch.isTransactional()).isTrue();
    }

    @Test
    void dataBatchesAndOtherControlTypesAreNoEndMarkers() {
        ByteBuffer data = new RecordBatchBuilder(0).producer(1L, (short) 0, 0).attributes(true, false)
                .append(0, null, ByteBuffer.wrap(new byte[]{1})).build();
        assertThat(ControlBatches.readMarker(RecordBatch.of(data))).isNull();
        ByteBuffer leaderChange = new RecordBatchBuilder(0).attributes(false, true)
                .append(0, ByteBuffer.allocate(4).putShort((short) 0).putShort((short) 2).flip(), ByteBuffer.allocate(8)).build();
        assertThat(ControlBatches.readMarker(RecordBatch.of(leaderChange))).as("control type 2 (leader change)").isNull();
    }

    @Test
    void aControlBatchWithoutAReadableKeyIsCorrupt() {
        ByteBuffer keyless = new RecordBatchBuilder(0).attributes(true, true).append(0, null, ByteBuffer.allocate(6)).build();
        assertThatThrownBy(() -> ControlBatches.readMarker(RecordBatch.of(keyless))).isInstanceOf(InvalidRecordBatchException.class);
        ByteBuffer noEpoch = new RecordBatchBuilder(0).attributes(true, true)
                .append(0, ByteBuffer.allocate(4).putShort((short) 0).putShort(ControlBatches.COMMIT).flip(), null).build();
        assertThatThrownBy(() -> ControlBatches.readMarker(RecordBatch.of(noEpoch))).isInstanceOf(InvalidRecordBatchException.class);
    }

    @Test
    void aTransactionalBatchCarriesItsProducer() {
        ByteBuffer data = new RecordBatchBuilder(0).producer(77L, (short) 3, 10).attributes(true, false)
                .append(0, null, ByteBuffer.wrap(new byte[]{1})).append(1, null, ByteBuffer.wrap(new byte[]{2})).build();
        MutableRecordBatch theirs = MemoryRecords.readableRecords(data).batches().iterator().next();
        theirs.ensureValid();
        assertThat(theirs.isTransactional()).isTrue();
        assertThat(theirs.isControlBatch()).isFalse();
        assertThat(theirs.producerId()).isEqualTo(77L);
        assertThat(theirs.baseSequence()).isEqualTo(10);
        assertThat(theirs.lastSequence()).isEqualTo(11);
    }
}
