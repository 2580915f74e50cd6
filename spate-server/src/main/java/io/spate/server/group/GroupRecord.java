package io.spate.server.group;

/** What the group coordinator writes to {@code __consumer_offsets}; {@link GroupRecordSerde} lays it out. */
sealed interface GroupRecord {
    /** A group's committed offset of one partition; a null offset removes it (a tombstone). */
    record Offset(String group, String topic, int partition, CommittedOffset offset) implements GroupRecord {
    }

    /** A group's generation and protocol, written when a generation forms. */
    record Metadata(String group, String protocolType, String protocolName, int generation) implements GroupRecord {
    }

    /** The group is deleted (a tombstone of its metadata). */
    record Removed(String group) implements GroupRecord {
    }

    String group();
}
