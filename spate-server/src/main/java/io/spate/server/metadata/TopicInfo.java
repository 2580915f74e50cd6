package io.spate.server.metadata;

import org.apache.kafka.common.Uuid;

import java.util.Map;

/** A topic as the node knows it: stable id, partition count, and its config overrides. */
public record TopicInfo(String name, Uuid id, int partitions, short replicationFactor, Map<String, String> overrides) {
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
