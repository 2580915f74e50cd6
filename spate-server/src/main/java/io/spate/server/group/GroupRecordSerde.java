package io.spate.server.group;

import io.spate.coordinator.RecordSerde;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The layout of the group coordinator's records in {@code __consumer_offsets} (big-endian;
 * strings are a 2-byte length and UTF-8):
 * <pre>
 * offset key:   version=0 int16, type=1 int8, group, topic, partition int32
 * offset value: version=0 int16, offset int64, leaderEpoch int32, metadata, commitTimestamp int64
 * group key:    version=0 int16, type=2 int8, group
 * group value:  version=1 int16, protocolType, protocolName, generation int32, leader (nullable),
 *               member count int32, per member: memberId, groupInstanceId (nullable), clientId,
 *               clientHost, rebalanceTimeoutMs int32, sessionTimeoutMs int32,
 *               subscription (int32 length, bytes), assignment (int32 length, bytes),
 *               from version 2: emptySince int64 (-1 when the group has members)
 * </pre>
 * A null value (tombstone) deletes the key, so compaction keeps one record per key. A nullable
 * string has length -1 for null. A group value of version 0 ends after the generation (no
 * members); version 1 only appends, so a reader of version 0 still reads the generation of a
 * version 1 value; version 2 appends once more, after the members, so a reader of version 1
 * (which reads any version above 0 as its own and ignores what follows the members) still reads
 * everything it knows of a version 2 value.
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
            case GroupRecord.Metadata m -> groupValue(m);
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
            short version = value.getShort();
            String protocolType = readString(value);
            String protocolName = readString(value);
            int generation = value.getInt();
            if (version < 1) {
                return new GroupRecord.Metadata(group, protocolType, protocolName, generation, null, List.of());
            }
            String leader = readNullableString(value);
            int count = value.getInt();
            List<GroupRecord.StoredMember> members = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                members.add(new GroupRecord.StoredMember(readString(value), readNullableString(value), readString(value), readString(value),
                        value.getInt(), value.getInt(), readBytes(value), readBytes(value)));
            }
            long emptySince = version >= 2 ? value.getLong() : -1;
            return new GroupRecord.Metadata(group, protocolType, protocolName, generation, leader, members, emptySince);
        }
        return null;
    }

    private static byte[] groupValue(GroupRecord.Metadata m) {
        byte[] type = utf8(m.protocolType() == null ? "" : m.protocolType());
        byte[] name = utf8(m.protocolName() == null ? "" : m.protocolName());
        byte[] leader = m.leaderId() == null ? null : utf8(m.leaderId());
        int size = 2 + 2 + type.length + 2 + name.length + 4 + nullableSize(leader) + 4 + 8;
        List<byte[][]> members = new ArrayList<>(m.members().size());
        for (GroupRecord.StoredMember member : m.members()) {
            byte[][] fields = {utf8(member.memberId()), member.groupInstanceId() == null ? null : utf8(member.groupInstanceId()),
                    utf8(member.clientId()), utf8(member.clientHost())};
            members.add(fields);
            size += 2 + fields[0].length + nullableSize(fields[1]) + 2 + fields[2].length + 2 + fields[3].length + 4 + 4
                    + 4 + member.subscription().length + 4 + member.assignment().length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putShort((short) 2);
        out.putShort((short) type.length).put(type).putShort((short) name.length).put(name).putInt(m.generation());
        putNullable(out, leader);
        out.putInt(m.members().size());
        for (int i = 0; i < members.size(); i++) {
            GroupRecord.StoredMember member = m.members().get(i);
            byte[][] fields = members.get(i);
            out.putShort((short) fields[0].length).put(fields[0]);
            putNullable(out, fields[1]);
            out.putShort((short) fields[2].length).put(fields[2]).putShort((short) fields[3].length).put(fields[3]);
            out.putInt(member.rebalanceTimeoutMs()).putInt(member.sessionTimeoutMs());
            out.putInt(member.subscription().length).put(member.subscription()).putInt(member.assignment().length).put(member.assignment());
        }
        out.putLong(m.emptySince());
        return out.array();
    }

    private static int nullableSize(byte[] s) {
        return 2 + (s == null ? 0 : s.length);
    }

    private static void putNullable(ByteBuffer out, byte[] s) {
        if (s == null) {
            out.putShort((short) -1);
        } else {
            out.putShort((short) s.length).put(s);
        }
    }

    private static String readNullableString(ByteBuffer buffer) {
        short length = buffer.getShort();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.getInt()];
        buffer.get(bytes);
        return bytes;
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
