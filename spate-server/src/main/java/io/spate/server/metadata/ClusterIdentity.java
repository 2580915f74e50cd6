package io.spate.server.metadata;

import io.spate.log.LogManager;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** The cluster id, made once when a data directory is first used and kept in {@code meta/meta.properties}. */
public record ClusterIdentity(String clusterId, int nodeId) {
    public static ClusterIdentity loadOrCreate(Path dataDir, int nodeId) throws IOException {
        Path file = dataDir.resolve("meta").resolve("meta.properties");
        Files.createDirectories(file.getParent());
        if (Files.exists(file)) {
            Properties props = new Properties();
            props.load(new StringReader(Files.readString(file)));
            int storedNode = Integer.parseInt(props.getProperty("node.id"));
            if (storedNode != nodeId) {
                throw new IllegalStateException("data directory " + dataDir + " belongs to node " + storedNode + ", not node " + nodeId);
            }
            return new ClusterIdentity(props.getProperty("cluster.id"), storedNode);
        }
        String clusterId = Base64Ids.randomText();
        LogManager.writeAtomically(file, "cluster.id=" + clusterId + "\nnode.id=" + nodeId + "\n");
        return new ClusterIdentity(clusterId, nodeId);
    }
}
