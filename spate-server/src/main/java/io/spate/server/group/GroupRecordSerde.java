package io.spate.server.group;

import io.spate.coordinator.RecordSerde;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The layout of the group coordinator's records in {@code __consumer_offsets} (big-endian;
 * strings are a 2-byte length and UTF-8):
 * <pre>
 * offset key:   version=0 int16, type=1 int8, group, topic, partition int32
 * offset value: version=0 int16, offset int64, leaderEpoch int32, metadata, commitTimestamp int64
 * group key:    version=0 int16, type=2 int8, group
 * group value:  version=0 int16, protocolType, protocolName, generation int32
 * </pre>
 * A null value (tombstone) deletes the key, so compaction keeps one record per key.
 */
final class GroupRecordSerde implements RecordSerde<GroupRecord> {
    static final GroupRecordSerde INSTANCE = new GroupRecordSerde();
    private static final byte OFFSET_KEY = 1;
    private static final byte GROUP_KEY = 2;

    private GroupRecordSerde() {
    }

    @Override
    public byte[] key(GroupRecord record) {
        byte[] group = utf8(record.group());
        if (record instanceof GroupRecord.Offset o) {
            byte[] topic = utf8(o.topic());
            return ByteBuffer.allocate(2 + 1 + 2 + group.length + 2 + topic.length + 4).putShort((short) 0).put(OFFSET_KEY)
                    .putShort((short) group.length).put(group).putShort((short) topic.length).put(topic).putInt(o.partition()).array();
        }
        return ByteBuffer.allocate(2 + 1 + 2 + group.length).putShort((short) 0).put(GROUP_KEY).putShort((short) group.length).put(group).array();
    }

    @Override
    public byte[] value(GroupRecord record) {
        return switch (record) {
            case GroupRecord.Offset o when o.offset() == null -> null;
            case GroupRecord.Offset o -> {
                CommittedOffset value = o.offset();
                byte[] metadata = utf8(value.metadata() == null ? "" : value.metadata());
                yield ByteBuffer.allocate(2 + 8 + 4 + 2 + metadata.length + 8).putShort((short) 0).putLong(value.offset())
                        .putInt(value.leaderEpoch()).putShort((short) metadata.length).put(metadata).putLong(value.commitTimestamp()).array();
            }
            case GroupRecord.Metadata m -> {
                byte[] type = utf8(m.protocolType() == null ? "" : m.protocolType());
                byte[] name = utf8(m.protocolName() == null ? "" : m.protocolName());
                yield ByteBuffer.allocate(2 + 2 + type.length + 2 + name.length + 4).putShort((short) 0)
                        .putShort((short) type.length).put(type).putShort((short) name.length).put(name).putInt(m.generation()).array();
            }
            case GroupRecord.Removed r -> null;
        };
    }

    @Override
    public GroupRecord read(ByteBuffer key, ByteBuffer value) {
        if (key.getShort() != 0) {
            return null; // a layout of a later release
        }
        byte type = key.get();
        String group = readString(key);
        if (type == OFFSET_KEY) {
            String topic = readString(key);
            int partition = key.getInt();
            if (value == null) {
                return new GroupRecord.Offset(group, topic, partition, null);
            }
            value.getShort();
            long offset = value.getLong();
            int epoch = value.getInt();
            String metadata = readString(value);
            long timestamp = value.getLong();
            return new GroupRecord.Offset(group, topic, partition, new CommittedOffset(offset, epoch, metadata, timestamp));
        }
        if (type == GROUP_KEY) {
            if (value == null) {
                return new GroupRecord.Removed(group);
            }
            value.getShort();
            return new GroupRecord.Metadata(group, readString(value), readString(value), value.getInt());
        }
        return null;
    }

    private static String readString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getShort()];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
