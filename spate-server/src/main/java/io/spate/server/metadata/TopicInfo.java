package io.spate.server.metadata;


import java.util.Map;
import java.util.UUID;

/** A topic as the node knows it: stable id, partition count, and its config overrides. */
public record TopicInfo(String name, UUID id, int partitions, short replicationFactor, Map<String, String> overrides) {
    /** The id of a topic not created yet (a validation's plan). */
    public static final UUID NO_ID = new UUID(0, 0);

    public TopicInfo {
        overrides = Map.copyOf(overrides);
    }

    public TopicInfo withPartitions(int count) {
        return new TopicInfo(name, id, count, replicationFactor, overrides);
    }

    public TopicInfo withOverrides(Map<String, String> newOverrides) {
        return new TopicInfo(name, id, partitions, replicationFactor, newOverrides);
    }
}
