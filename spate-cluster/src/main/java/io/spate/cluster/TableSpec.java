package io.spate.cluster;

import java.util.Map;

/**
 * A masterless table as the cluster metadata records it: its name and settings (replication
 * factor, default consistencies, durability, tombstone grace, quorum kind) as named strings, which
 * the tables module parses. Strings keep this module ignorant of the tables' types, and a later
 * setting is one more entry rather than a new metadata format.
 */
public record TableSpec(String name, Map<String, String> config) {
    public TableSpec {
        config = Map.copyOf(config);
    }
}
