package io.spate.replication.node;

import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.local.LocalMetadataLog;
import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * In-sync set changes on a manual clock against a real metadata log: batched into one entry,
 * answered per partition, and, when no answer comes, counted as unknown after the timeout and
 * asked for again.
 */
class IsrChangesTest {
    @TempDir
    Path dir;

    private final ManualScheduler clock = new ManualScheduler();
    private final List<MetadataCommand> sent = new ArrayList<>();
    private LocalMetadataLog metadata;
    private LogManager logs;
    private final List<Partition> partitions = new ArrayList<>();
    /** While true, requests reach the controller but no answer comes back. */
    private volatile boolean answersLost;

    @BeforeEach
    void start() throws Exception {
        metadata = LocalMetadataLog.open(dir.resolve("meta"), 1);
        logs = LogManager.open(dir.resolve("data"), Clock.systemUTC(), 300_000);
        for (int node = 1; node <= 3; node++) {
            metadata.submit(new MetadataCommand.RegisterNode(node, "127.0.0.1", 9090 + node, 1, true)).get(10, TimeUnit.SECONDS);
        }
        CommandResult created = metadata.submit(new MetadataCommand.CreateTopic("t", UUID.randomUUID(),
                List.of(List.of(1, 2, 3), List.of(1, 3, 2)), Map.of())).get(10, TimeUnit.SECONDS);
        var image = metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS);
        for (int p = 0; p < 2; p++) {
            var state = image.partition("t", p);
            Partition partition = new Partition(new TopicPartition("t", p), logs.getOrCreate(new TopicPartition("t", p), LogConfig.defaultConfig()),
                    1, Partition.Role.FOLLOWER);
            partition.becomeLeader(state.leaderEpoch(), state.partitionEpoch(), state.replicas(), state.isr(), clock.millis());
            partitions.add(partition);
        }
    }

    @AfterEach
    void stop() {
        logs.close();
        metadata.close();
    }

    private IsrChanges isrChanges() {
        return new IsrChanges(new IsrChanges.Controller() {
            @Override
            public CompletableFuture<CommandResult> submit(MetadataCommand command) {
                sent.add(command);
                CompletableFuture<CommandResult> answer = metadata.submit(command);
                return answersLost ? new CompletableFuture<>() : answer;
            }

            @Override
            public CompletableFuture<?> awaitVersion(long version) {
                return metadata.awaitVersion(version);
            }
        }, 1, 15_000, clock);
    }

    @Test
    void changesAskedForTogetherGoAsOneEntryAndEachPartitionHearsItsOwnOutcome() {
        IsrChanges changes = isrChanges();
        changes.propose(partitions.get(0), List.of(1, 2));
        changes.propose(partitions.get(1), List.of(1, 3));
        assertThat(sent).as("nothing goes before the scheduler runs the batch").isEmpty();
        clock.advance(0);
        assertThat(sent).hasSize(1).first().isInstanceOf(MetadataCommand.AlterIsrs.class);
        await().untilAsserted(() -> {
            assertThat(metadata.image().partition("t", 0).isr()).containsExactly(1, 2);
            assertThat(metadata.image().partition("t", 1).isr()).containsExactly(1, 3);
        });
        // Settled as committed: nothing to send again, and the next change may go.
        await().until(() -> partitions.get(0).beginIsrChange(List.of(1)));
        assertThat(partitions.get(1).isrChangeToRetry()).isNull();
    }

    @Test
    void aChangeWithoutAnAnswerCountsAsUnknownAfterTheTimeoutAndIsAskedForAgain() {
        IsrChanges changes = isrChanges();
        answersLost = true;
        changes.propose(partitions.get(0), List.of(1, 2));
        clock.advance(0);
        assertThat(sent).hasSize(1);
        changes.propose(partitions.get(0), List.of(1, 3));
        clock.advance(0);
        assertThat(sent).as("one change in flight per partition").hasSize(1);
        clock.advance(14_999);
        assertThat(partitions.get(0).isrChangeToRetry()).isNull();
        clock.advance(1);
        assertThat(partitions.get(0).isrChangeToRetry()).as("unknown: asked for again").containsExactly(1, 2);
    }
}
