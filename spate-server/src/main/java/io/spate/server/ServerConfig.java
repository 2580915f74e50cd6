package io.spate.server;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the protocol server needs to know, already validated by the broker's configuration.
 *
 * @param topicDefaults  topic-level defaults under topic-level names (segment.bytes, ...)
 * @param brokerConfigs  every broker setting in effect, for DescribeConfigs on the broker; the node
 *                       updates the ports in it (port, http.port, tables.port) to those it bound
 */
public record ServerConfig(
        int nodeId,
        String host,
        int port,
        Path dataDir,
        int socketRequestMaxBytes,
        int numPartitions,
        short defaultReplicationFactor,
        boolean autoCreateTopics,
        int ioThreads,
        long retentionCheckIntervalMs,
        Map<String, String> topicDefaults,
        Map<String, String> brokerConfigs) {
}
