package io.spate.server.group;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The group metadata record's layout: members survive the round trip, and both layouts read. */
class GroupRecordSerdeTest {
    private final GroupRecordSerde serde = GroupRecordSerde.INSTANCE;

    private GroupRecord roundTrip(GroupRecord record) {
        byte[] value = serde.value(record);
        return serde.read(ByteBuffer.wrap(serde.key(record)), value == null ? null : ByteBuffer.wrap(value));
    }

    @Test
    void aGroupsMembersAndAssignmentsSurviveTheRoundTrip() {
        var dynamic = new GroupRecord.StoredMember("m-1", null, "client-a", "/127.0.0.1", 30_000, 10_000, new byte[]{1, 2}, new byte[]{3});
        var stat = new GroupRecord.StoredMember("m-2", "instance-é", "client-b", "/10.0.0.2", 60_000, 45_000, new byte[0], new byte[]{4, 5, 6});
        var record = new GroupRecord.Metadata("billing", "consumer", "range", 7, "m-2", List.of(dynamic, stat));

        GroupRecord.Metadata read = (GroupRecord.Metadata) roundTrip(record);

        assertThat(read.group()).isEqualTo("billing");
        assertThat(read.protocolType()).isEqualTo("consumer");
        assertThat(read.protocolName()).isEqualTo("range");
        assertThat(read.generation()).isEqualTo(7);
        assertThat(read.leaderId()).isEqualTo("m-2");
        assertThat(read.members()).usingRecursiveFieldByFieldElementComparator().containsExactly(dynamic, stat);
    }

    @Test
    void anEmptyGroupWithoutALeaderSurvivesTheRoundTrip() {
        GroupRecord.Metadata read = (GroupRecord.Metadata) roundTrip(new GroupRecord.Metadata("billing", "consumer", null, 3, null, List.of()));
        assertThat(read.leaderId()).isNull();
        assertThat(read.protocolName()).isEmpty();
        assertThat(read.generation()).isEqualTo(3);
        assertThat(read.members()).isEmpty();
    }

    @Test
    void whenAGroupBecameEmptySurvivesTheRoundTrip() {
        var read = (GroupRecord.Metadata) roundTrip(new GroupRecord.Metadata("billing", "consumer", null, 3, null, List.of(), 1_234_567L));
        assertThat(read.emptySince()).isEqualTo(1_234_567L);
        assertThat(read.generation()).isEqualTo(3);
    }

    /** Version 1 (members, no emptySince) reads as a group whose empty time is not known; version 2 is version 1 plus 8 bytes at the end. */
    @Test
    void aValueOfVersionOneReadsWithoutItsEmptyTime() {
        var member = new GroupRecord.StoredMember("m-1", "instance-1", "c", "/h", 1, 2, new byte[]{9}, new byte[]{8});
        var record = new GroupRecord.Metadata("billing", "consumer", "range", 12, "m-1", List.of(member), 77);
        byte[] v2 = serde.value(record);
        ByteBuffer v1 = ByteBuffer.allocate(v2.length - 8).put(v2, 0, v2.length - 8).putShort(0, (short) 1).flip();

        GroupRecord.Metadata read = (GroupRecord.Metadata) serde.read(ByteBuffer.wrap(serde.key(record)), v1);

        assertThat(read.emptySince()).isEqualTo(-1);
        assertThat(read.generation()).isEqualTo(12);
        assertThat(read.members()).usingRecursiveFieldByFieldElementComparator().containsExactly(member);
    }

    @Test
    void aValueOfTheEarlierLayoutReadsAsAGroupWithoutMembers() {
        byte[] type = "consumer".getBytes(StandardCharsets.UTF_8);
        byte[] name = "range".getBytes(StandardCharsets.UTF_8);
        ByteBuffer v0 = ByteBuffer.allocate(2 + 2 + type.length + 2 + name.length + 4).putShort((short) 0)
                .putShort((short) type.length).put(type).putShort((short) name.length).put(name).putInt(4).flip();
        var record = new GroupRecord.Metadata("billing", "consumer", "range", 4, null, List.of());

        GroupRecord.Metadata read = (GroupRecord.Metadata) serde.read(ByteBuffer.wrap(serde.key(record)), v0);

        assertThat(read.generation()).isEqualTo(4);
        assertThat(read.protocolName()).isEqualTo("range");
        assertThat(read.members()).isEmpty();
    }

    @Test
    void theNewLayoutStartsWithTheEarlierOneSoAnEarlierReaderStillFindsTheGeneration() {
        var member = new GroupRecord.StoredMember("m-1", null, "c", "/h", 1, 2, new byte[]{9}, new byte[]{8});
        ByteBuffer value = ByteBuffer.wrap(serde.value(new GroupRecord.Metadata("billing", "consumer", "range", 12, "m-1", List.of(member))));
        value.getShort();
        for (String expected : List.of("consumer", "range")) {
            byte[] bytes = new byte[value.getShort()];
            value.get(bytes);
            assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(expected);
        }
        assertThat(value.getInt()).isEqualTo(12);
    }
}
