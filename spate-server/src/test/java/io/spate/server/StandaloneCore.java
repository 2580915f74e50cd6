package io.spate.server;

import io.spate.cluster.ClusterSettings;
import io.spate.log.LogManager;
import io.spate.replication.ReplicationSettings;
import io.spate.server.cluster.ClusterMember;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.metadata.TopicManager;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;
import io.spate.time.Time;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * A standalone node's core without its network listener, for tests of what sits on it: real logs,
 * the node's own one-voter metadata log, the cluster member that registers and heartbeats, the
 * replica manager that leads what the metadata assigns, and topic administration through it.
 */
public final class StandaloneCore implements AutoCloseable {
    public static final int NODE_ID = 0;

    public final LogManager logs;
    public final TopicRegistry registry;
    public final ReplicaManager replicas;
    public final TopicManager topics;
    public final ServerConfig config;
    /** The controller commands (producer id blocks, topics) of the node's metadata log. */
    public final ClusterControl control;
    private final ClusterMember member;

    private StandaloneCore(LogManager logs, TopicRegistry registry, ReplicaManager replicas, TopicManager topics, ServerConfig config,
                           ClusterControl control, ClusterMember member) {
        this.logs = logs;
        this.registry = registry;
        this.replicas = replicas;
        this.topics = topics;
        this.config = config;
        this.control = control;
        this.member = member;
    }

    /**
     * Starts on {@code dataDir}; {@code beforeJoin} runs once the replica manager exists and before
     * the node leads anything (where a test adds its leadership listeners).
     */
    public static StandaloneCore start(Path dataDir, java.util.function.Consumer<ReplicaManager> beforeJoin) throws IOException {
        LogManager logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        ClusterSettings settings = new ClusterSettings(NODE_ID, List.of(new ClusterSettings.Voter(NODE_ID, "127.0.0.1", 9092)),
                dataDir.resolve("meta").resolve("metadata"), 500, 10_000, 1_000, 0);
        ClusterMember member = ClusterMember.startAlone(settings, Time.SYSTEM);
        TopicRegistry registry = TopicRegistry.mirror(Map.of());
        ReplicaManager replicas = new ReplicaManager(logs, registry, NODE_ID, member.metadata(),
                new ReplicationSettings(500, 1 << 20, 1 << 20, 10_000, 1_000, 30_000, ""), Time.SYSTEM);
        ServerConfig config = new ServerConfig(NODE_ID, "127.0.0.1", 9092, dataDir, 100 << 20, 1, (short) 1, true, 1, 300_000, Map.of(), Map.of());
        ClusterControl control = new ClusterControl(member.metadata());
        TopicManager topics = new TopicManager(registry, config, control);
        beforeJoin.accept(replicas);
        member.join(registry, replicas, "127.0.0.1", 9092, 30_000);
        return new StandaloneCore(logs, registry, replicas, topics, config, control, member);
    }

    public static StandaloneCore start(Path dataDir) throws IOException {
        return start(dataDir, replicas -> { });
    }

    @Override
    public void close() {
        replicas.close();
        member.close();
        logs.close();
    }
}
