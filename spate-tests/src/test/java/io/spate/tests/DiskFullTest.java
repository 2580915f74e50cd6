package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.RawRequests;
import io.spate.tests.support.Tmpfs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real full disk: the node's data directory on a 4 MiB tmpfs. Appends that do not fit get
 * KAFKA_STORAGE_ERROR, the log keeps exactly the batches that were acknowledged, and once space
 * is freed the node takes writes again. Needs root (to mount); skipped with a reason otherwise.
 */
class DiskFullTest {
    @TempDir
    Path tmp;
    private Path mountPoint;

    @AfterEach
    void unmount() throws Exception {
        Tmpfs.unmount(mountPoint);
    }

    @Test
    void fullDiskRefusesWritesWithoutCorruptingTheLog() throws Exception {
        Path dir = Tmpfs.mountOrSkip(tmp.resolve("small-disk"), "4m");
        mountPoint = dir;

        try (SpateNode node = SpateNode.builder().dataDir(dir.resolve("data")).start()) {
            Clients.createTopic(node.bootstrapServers(), "filler", 1, Map.of());
            Clients.createTopic(node.bootstrapServers(), "spare", 1, Map.of());
            String value = "x".repeat(60_000);
            List<String> acknowledged = new ArrayList<>();
            short lastError = 0;
            try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
                client.send(RawRequests.produce("spare", 0, (short) 1, RawRequests.records(value, value, value, value, value, value, value, value)));
                for (int i = 0; i < 200 && lastError == 0; i++) {
                    var answer = RawRequests.only(client.send(RawRequests.produce("filler", 0, (short) 1, RawRequests.records(value + i))));
                    lastError = answer.errorCode();
                    if (lastError == 0) {
                        acknowledged.add(value + i);
                    }
                }
                assertThat(lastError).isEqualTo(Errors.KAFKA_STORAGE_ERROR.code());
                assertThat(acknowledged).isNotEmpty();

                try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                    List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("filler", 1));
                    assertThat(records).extracting(ConsumerRecord::value).containsExactlyElementsOf(acknowledged);
                }

                try (Admin admin = Clients.admin(node.bootstrapServers())) {
                    admin.deleteTopics(List.of("spare")).all().get();
                }
                var afterFreeing = RawRequests.only(client.send(RawRequests.produce("filler", 0, (short) 1, RawRequests.records("small"))));
                assertThat(afterFreeing.errorCode()).isZero();
                assertThat(afterFreeing.baseOffset()).isEqualTo(acknowledged.size());
            }
        }
    }

    /**
     * On a full disk, DeleteRecords and time retention are what free space, and they write
     * nothing new to do it: the producer state snapshot they take first, when there is room, is
     * skipped when there is none (it failed before anything was deleted, and DeleteRecords left
     * the log start moved over segments still there).
     */
    @Test
    void deleteRecordsAndRetentionFreeAFullDisk() throws Exception {
        Path dir = Tmpfs.mountOrSkip(tmp.resolve("small-disk"), "4m");
        mountPoint = dir;
        String value = "x".repeat(60_000);
        try (SpateNode node = SpateNode.builder().dataDir(dir.resolve("data")).config("log.retention.check.interval.ms", "200").start();
             RawKafkaClient client = new RawKafkaClient(node.bootstrapServers());
             Admin admin = Clients.admin(node.bootstrapServers())) {
            Clients.createTopic(node.bootstrapServers(), "filler", 1, Map.of("segment.bytes", "300000"));
            int acknowledged = fillUntilFull(client, value);
            org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("filler", 0);

            long half = acknowledged / 2;
            long lowWatermark = admin.deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(half)))
                    .lowWatermarks().get(tp).get().lowWatermark();
            assertThat(lowWatermark).isEqualTo(half);
            var afterDeleting = RawRequests.only(client.send(RawRequests.produce("filler", 0, (short) 1, RawRequests.records(value))));
            assertThat(Errors.forCode(afterDeleting.errorCode())).as("room again").isEqualTo(Errors.NONE);
            assertThat(afterDeleting.baseOffset()).isEqualTo(acknowledged);

            int more = fillUntilFull(client, value);
            admin.incrementalAlterConfigs(Map.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "filler"), List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "1"), org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET))))
                    .all().get();
            long end = acknowledged + 1 + more;
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).partitionResult(tp).get().offset())
                            .as("retention took the whole log").isEqualTo(end));
            var afterRetention = RawRequests.only(client.send(RawRequests.produce("filler", 0, (short) 1, RawRequests.records(value))));
            assertThat(Errors.forCode(afterRetention.errorCode())).isEqualTo(Errors.NONE);
            assertThat(afterRetention.baseOffset()).isEqualTo(end);
        }
    }

    /**
     * Appends large records, then smaller ones, until not even a small one fits (no page of the
     * disk left); returns how many were acknowledged.
     */
    private static int fillUntilFull(RawKafkaClient client, String value) throws Exception {
        return fillUntilFull(client, value, new ArrayList<>());
    }

    /** As above, adding each acknowledged value to {@code acknowledged}. */
    private static int fillUntilFull(RawKafkaClient client, String value, List<String> acknowledged) throws Exception {
        int before = acknowledged.size();
        for (String size : List.of(value, "y".repeat(1_000), "z".repeat(50))) {
            short lastError = 0;
            for (int i = 0; i < 5_000 && lastError == 0; i++) {
                var answer = RawRequests.only(client.send(RawRequests.produce("filler", 0, (short) 1, RawRequests.records(size + i))));
                lastError = answer.errorCode();
                if (lastError == 0) {
                    acknowledged.add(size + i);
                }
            }
            assertThat(Errors.forCode(lastError)).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        }
        return acknowledged.size() - before;
    }

    @Test
    void aStandaloneNodeStartsAgainOnAFullDiskAndServesWhatItHolds() throws Exception {
        Path dir = Tmpfs.mountOrSkip(tmp.resolve("small-disk"), "4m");
        mountPoint = dir;
        String value = "x".repeat(60_000);
        List<String> acknowledged = new ArrayList<>();
        try (SpateNode node = SpateNode.builder().dataDir(dir.resolve("data")).start()) {
            Clients.createTopic(node.bootstrapServers(), "filler", 1, Map.of());
            try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
                fillUntilFull(client, value, acknowledged);
            }
        }
        // Starting writes the node's registration to its metadata log, into the zeroed space the log
        // keeps allocated (LocalMetadataLogTest checks the reserve; on this tmpfs the last page's
        // slack might hold a registration even without it).
        try (SpateNode node = SpateNode.builder().dataDir(dir.resolve("data")).start();
             KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("filler", 1));
            assertThat(records).extracting(ConsumerRecord::value).containsExactlyElementsOf(acknowledged);
        }
    }
}
