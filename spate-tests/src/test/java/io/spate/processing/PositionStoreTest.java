package io.spate.processing;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A pipeline's positions, committed on the store's own thread so that an at-least-once task does
 * not wait for the group coordinator between micro-batches: commits handed over land in the order
 * they were handed over (the group never goes back to an older position), and one that cannot be
 * made fails its future instead of vanishing. Against a real node, read back with the Kafka admin
 * client as any lag monitor reads a pipeline's group.
 */
class PositionStoreTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void commitsHandedOverLandInOrderAndTheLastOneHolds() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "positions-in", 2, Map.of());
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            TopicPartition p0 = new TopicPartition("positions-in", 0);
            TopicPartition p1 = new TopicPartition("positions-in", 1);
            List<CompletableFuture<Void>> commits = new ArrayList<>();
            try (PositionStore store = new PositionStore(node.bootstrapServers(), "ordered", false)) {
                // Handed over without waiting, as a task whose coordinator is slower than its interval would.
                for (int i = 1; i <= 200; i++) {
                    commits.add(store.commitAsync(Map.of(p0, new OffsetAndMetadata(i, "st=" + i), p1, new OffsetAndMetadata(2L * i))));
                }
                CompletableFuture.allOf(commits.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                assertThat(commits).allMatch(c -> c.isDone() && !c.isCompletedExceptionally());

                Map<TopicPartition, OffsetAndMetadata> read = store.committed(Set.of(p0, p1));
                assertThat(read.get(p0).offset()).isEqualTo(200);
                assertThat(read.get(p0).metadata()).isEqualTo("st=200");
                assertThat(read.get(p1).offset()).isEqualTo(400);
            }
            Map<TopicPartition, OffsetAndMetadata> group = admin.listConsumerGroupOffsets(PipelineNames.group("ordered"))
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            assertThat(group.get(p0).offset()).isEqualTo(200);
            assertThat(group.get(p1).offset()).isEqualTo(400);
        }
    }

    @Test
    void aCommitHandedToAClosedStoreFailsItsFuture() {
        PositionStore store = new PositionStore(node.bootstrapServers(), "closed", false);
        store.close();
        CompletableFuture<Void> commit = store.commitAsync(Map.of(new TopicPartition("positions-in", 0), new OffsetAndMetadata(1)));
        assertThatThrownBy(() -> commit.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("position store is closed");
    }
}
