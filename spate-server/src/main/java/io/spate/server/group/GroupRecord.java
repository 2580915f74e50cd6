package io.spate.server.group;

/** What the group coordinator writes to {@code __consumer_offsets}; {@link GroupRecordSerde} lays it out. */
sealed interface GroupRecord {
    /** A group's committed offset of one partition; a null offset removes it (a tombstone). */
    record Offset(String group, String topic, int partition, CommittedOffset offset) implements GroupRecord {
    }

    /**
     * A group's generation, protocol, leader and members with their assignments, written when a
     * generation's assignment is stored and when the group empties. A new coordinator loads the
     * members from it, so a failover does not make a stable group rebalance (Kafka's
     * GroupMetadataValue). Records of releases before members were stored have none.
     *
     * @param emptySince when the group became empty (its offsets' retention counts from then, KIP-211);
     *                   -1 for a group with members, and in records of releases that did not store it
     */
    record Metadata(String group, String protocolType, String protocolName, int generation, String leaderId,
                    java.util.List<StoredMember> members, long emptySince) implements GroupRecord {
        public Metadata {
            members = java.util.List.copyOf(members);
        }

        Metadata(String group, String protocolType, String protocolName, int generation, String leaderId, java.util.List<StoredMember> members) {
            this(group, protocolType, protocolName, generation, leaderId, members, -1);
        }
    }

    /** One member as its group's metadata record keeps it: the chosen protocol's subscription only, as Kafka keeps it. */
    record StoredMember(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
                        int sessionTimeoutMs, byte[] subscription, byte[] assignment) {
    }

    /** The group is deleted (a tombstone of its metadata). */
    record Removed(String group) implements GroupRecord {
    }

    String group();
}
