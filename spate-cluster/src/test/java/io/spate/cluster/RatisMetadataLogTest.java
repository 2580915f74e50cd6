package io.spate.cluster;

import io.spate.cluster.ratis.RatisMetadataLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Three real Ratis voters on loopback in one JVM, with the controller running on each. */
class RatisMetadataLogTest {
    @TempDir
    Path dir;

    private final List<ClusterSettings.Voter> voters = new ArrayList<>();
    private final RatisMetadataLog[] logs = new RatisMetadataLog[4];
    private final Controller[] controllers = new Controller[4];
    private final ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);

    private ClusterSettings settings(int nodeId) {
        return new ClusterSettings(nodeId, voters, dir.resolve("n" + nodeId), 100, 1000, 300, 0);
    }

    private void start(int nodeId) throws IOException {
        ClusterSettings settings = settings(nodeId);
        LivenessTracker liveness = new LivenessTracker(settings.sessionTimeoutMs());
        logs[nodeId] = RatisMetadataLog.start(settings, liveness);
        if (settings.isVoter()) {
            controllers[nodeId] = new Controller(logs[nodeId], liveness, settings);
            controllers[nodeId].start();
        }
    }

    private void stop(int nodeId) {
        if (controllers[nodeId] != null) {
            controllers[nodeId].close();
            controllers[nodeId] = null;
        }
        if (logs[nodeId] != null) {
            logs[nodeId].close();
            logs[nodeId] = null;
        }
    }

    private void startQuorum() throws IOException {
        for (int id = 1; id <= 3; id++) {
            try (ServerSocket socket = new ServerSocket(0)) {
                voters.add(new ClusterSettings.Voter(id, "127.0.0.1", socket.getLocalPort()));
            }
        }
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
    }

    private CommandResult commit(int via, MetadataCommand command) throws Exception {
        return logs[via].submit(command).get(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void tearDown() {
        heartbeats.shutdownNow();
        for (int id = 0; id < logs.length; id++) {
            stop(id);
        }
    }

    @Test
    void commandsReachEveryVoterAndAClientThatIsNotOne() throws Exception {
        startQuorum();
        CommandResult registered = commit(1, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, 1));
        assertThat(registered.succeeded()).isTrue();
        CommandResult created = commit(2, new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        for (int id = 1; id <= 3; id++) {
            ClusterImage image = logs[id].awaitVersion(created.version()).get(20, TimeUnit.SECONDS);
            assertThat(image.topic("t")).isNotNull();
        }
        assertThat(logs[1].image()).isEqualTo(logs[3].awaitVersion(created.version()).get());

        start(0);   // node 0 is not among the voters
        assertThat(commit(0, new MetadataCommand.RegisterNode(0, "127.0.0.1", 9093, 7)).succeeded()).isTrue();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            logs[0].heartbeat(0, 7).get(5, TimeUnit.SECONDS);
            assertThat(logs[0].image().node(0)).isNotNull();
            assertThat(logs[0].image().topic("t")).isNotNull();
        });
    }

    @Test
    void theControllerFencesASilentNodeAndMovesItsLeadership() throws Exception {
        startQuorum();
        for (int id = 1; id <= 3; id++) {
            commit(1, new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, id));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> leader() > 0);
        int controller = leader();
        int silent = controller == 3 ? 2 : 3;   // the controller's own node is never fenced: it is the one deciding
        int other = 6 - controller - silent;
        commit(1, new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(silent, other, controller)), Map.of()));
        AtomicBoolean silentAlive = new AtomicBoolean(true);
        heartbeats.scheduleWithFixedDelay(() -> {
            for (int id = 1; id <= 3; id++) {
                if (id != silent || silentAlive.get()) {
                    logs[id].heartbeat(id, id);
                }
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
        // Alive and heartbeating: nobody is fenced for several sessions.
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5))
                .until(() -> logs[controller].image().liveNodes().size() == 3);
        silentAlive.set(false);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            ClusterImage image = logs[other].image();
            assertThat(image.node(silent).fenced()).isTrue();
            assertThat(image.partition("t", 0).leader()).isEqualTo(other);
            assertThat(image.partition("t", 0).leaderEpoch()).isEqualTo(1);
        });
        assertThat(logs[other].image().liveNodes()).containsExactlyInAnyOrder(controller, other);
    }

    @Test
    void aNewLeaderTakesOverAndARestartedVoterRecoversItsImage() throws Exception {
        startQuorum();
        CommandResult first = commit(1, new MetadataCommand.CreateTopic("a", UUID.randomUUID(), List.of(), Map.of()));
        await().atMost(Duration.ofSeconds(20)).until(() -> leader() > 0);
        int leader = leader();
        stop(leader);
        int survivor = leader == 1 ? 2 : 1;
        CommandResult second = commit(survivor, new MetadataCommand.CreateTopic("b", UUID.randomUUID(), List.of(), Map.of()));
        assertThat(second.succeeded()).isTrue();
        assertThat(second.version()).isGreaterThan(first.version());

        start(leader);
        ClusterImage recovered = logs[leader].awaitVersion(second.version()).get(30, TimeUnit.SECONDS);
        assertThat(recovered.topics()).containsKeys("a", "b");
    }

    @Test
    void aNewControllerFencesOnlyTheNodeThatStopped() throws Exception {
        startQuorum();
        for (int id = 1; id <= 3; id++) {
            commit(1, new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, id));
        }
        heartbeats.scheduleWithFixedDelay(() -> {
            for (int id = 1; id <= 3; id++) {
                RatisMetadataLog log = logs[id];
                if (log != null) {
                    log.heartbeat(id, id);
                }
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(20)).until(() -> leader() > 0);
        int old = leader();
        stop(old);
        int survivor = old == 1 ? 2 : 1;
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(logs[survivor].image().node(old).fenced()).isTrue());
        // Well past a session after the takeover, the nodes that kept sending heartbeats are still in.
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(logs[survivor].image().liveNodes()).hasSize(2).doesNotContain(old));
    }

    private int leader() {
        for (int id = 1; id <= 3; id++) {
            if (logs[id] != null && logs[id].isControllerLeader()) {
                return id;
            }
        }
        return -1;
    }
}
