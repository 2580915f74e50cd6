package io.spate.server.partition;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.CommandResult;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.ratis.RatisMetadataLog;
import io.spate.log.LogManager;
import io.spate.replication.Partition;
import io.spate.replication.ReplicationSettings;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Found by the fault campaigns (seed 1015): a restarted node applied the committed metadata,
 * which still named its previous incarnation leader, and led from it before the controller had
 * registered the new one, acknowledging writes that were truncated once leadership moved (five
 * acknowledged writes lost). A cluster member's replica manager starts fenced and leads only once
 * the controller has answered this incarnation unfenced. Metadata here is a real one-voter Ratis log.
 */
class StartFencedTest {
    @TempDir
    Path dir;

    @Test
    void aStartingMemberDoesNotLeadFromMetadataUntilTheControllerHasAnsweredIt() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ClusterSettings settings = new ClusterSettings(1, List.of(new ClusterSettings.Voter(1, "127.0.0.1", port)),
                dir.resolve("meta"), 100, 1000, 300, 0);
        try (RatisMetadataLog metadata = RatisMetadataLog.start(settings, new LivenessTracker(1000))) {
            submit(metadata, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, 1, true));
            UUID id = UUID.randomUUID();
            CommandResult created = submit(metadata, new MetadataCommand.CreateTopic("t", id, List.of(List.of(1)), Map.of()));
            ClusterImage image = metadata.awaitVersion(created.version()).get(30, TimeUnit.SECONDS);
            assertThat(image.partition("t", 0).leader()).as("the metadata names this node leader").isEqualTo(1);

            TopicRegistry registry = TopicRegistry.mirror(Map.of());
            registry.replaceAll(List.of(new TopicInfo("t", id, 1, (short) 1, Map.of())));
            LogManager logs = LogManager.open(dir.resolve("data"), Clock.systemUTC(), 300_000);
            try {
                ReplicaManager replicas = new ReplicaManager(logs, registry, 1, metadata,
                        new ReplicationSettings(500, 1 << 20, 1 << 20, 10_000, 1_000, 30_000, ""));
                // This process is incarnation 2; the image holds incarnation 1, an earlier one.
                replicas.roles().join(2, io.spate.replication.node.LeaderLease.forSession(1000), 1000, 0, false);
                replicas.applyImage(image);
                assertThat(replicas.partition("t", 0).role()).as("before the controller answered").isNotEqualTo(Partition.Role.LEADER);
                // An unfenced, caught-up heartbeat answer.
                replicas.roles().onHeartbeatAnswer(System.nanoTime(), false, true, image.version());
                assertThat(replicas.partition("t", 0).role()).as("the image names an earlier incarnation").isNotEqualTo(Partition.Role.LEADER);

                CommandResult registered = submit(metadata, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, 2, true));
                ClusterImage current = metadata.awaitVersion(registered.version()).get(30, TimeUnit.SECONDS);
                replicas.applyImage(current);
                assertThat(replicas.partition("t", 0).role()).isEqualTo(Partition.Role.LEADER);
                replicas.close();
            } finally {
                logs.close();
            }
        }
    }

    private static CommandResult submit(RatisMetadataLog metadata, MetadataCommand command) throws Exception {
        CommandResult result = metadata.submit(command).get(30, TimeUnit.SECONDS);
        assertThat(result.succeeded()).as("%s: %s", command, result).isTrue();
        return result;
    }
}
