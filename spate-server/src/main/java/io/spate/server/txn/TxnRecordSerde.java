package io.spate.server.txn;

import io.spate.coordinator.RecordSerde;
import io.spate.log.TopicPartition;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * The layout of {@code __transaction_state} records (big-endian; strings are a 2-byte length and
 * UTF-8). Compaction keeps the last record of each transactional id; a null value removes it.
 * <pre>
 * key:   version=0 int16, transactionalId
 * value: version=0 int16, producerId int64, previousProducerId int64, producerEpoch int16,
 *        previousProducerEpoch int16, timeoutMs int32, state int8, startMs int64, lastUpdateMs int64,
 *        partition count int32, then per partition: topic, partition int32
 * </pre>
 */
final class TxnRecordSerde implements RecordSerde<TxnRecord> {
    static final TxnRecordSerde INSTANCE = new TxnRecordSerde();
    private static final short VERSION = 0;

    private TxnRecordSerde() {
    }

    @Override
    public byte[] key(TxnRecord record) {
        byte[] id = utf8(record.transactionalId());
        return ByteBuffer.allocate(2 + 2 + id.length).putShort(VERSION).putShort((short) id.length).put(id).array();
    }

    @Override
    public byte[] value(TxnRecord record) {
        TxnMetadata m = record.metadata();
        if (m == null) {
            return null;
        }
        int size = 2 + 8 + 8 + 2 + 2 + 4 + 1 + 8 + 8 + 4;
        byte[][] topics = new byte[m.partitions().size()][];
        int i = 0;
        for (TopicPartition tp : m.partitions()) {
            topics[i] = utf8(tp.topic());
            size += 2 + topics[i].length + 4;
            i++;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putShort(VERSION).putLong(m.producerId()).putLong(m.previousProducerId())
                .putShort(m.producerEpoch()).putShort(m.previousProducerEpoch()).putInt(m.timeoutMs()).put(m.state().code())
                .putLong(m.startMs()).putLong(m.lastUpdateMs()).putInt(m.partitions().size());
        i = 0;
        for (TopicPartition tp : m.partitions()) {
            out.putShort((short) topics[i].length).put(topics[i]).putInt(tp.partition());
            i++;
        }
        return out.array();
    }

    @Override
    public TxnRecord read(ByteBuffer key, ByteBuffer value) {
        if (key.getShort() != VERSION) {
            return null; // a layout of a later release
        }
        String id = readString(key);
        if (value == null) {
            return new TxnRecord(id, null);
        }
        if (value.getShort() != VERSION) {
            return null;
        }
        long producerId = value.getLong();
        long previousProducerId = value.getLong();
        short epoch = value.getShort();
        short previousEpoch = value.getShort();
        int timeoutMs = value.getInt();
        TxnState state = TxnState.ofCode(value.get());
        long startMs = value.getLong();
        long lastUpdateMs = value.getLong();
        int count = value.getInt();
        Set<TopicPartition> partitions = new HashSet<>(count);
        for (int i = 0; i < count; i++) {
            String topic = readString(value);
            partitions.add(new TopicPartition(topic, value.getInt()));
        }
        return new TxnRecord(id, new TxnMetadata(id, producerId, previousProducerId, epoch, previousEpoch, timeoutMs, state,
                partitions, startMs, lastUpdateMs));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String readString(ByteBuffer in) {
        byte[] bytes = new byte[in.getShort() & 0xFFFF];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
