package io.spate.tests;

import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** What clients other than producers see of a cluster: follower fetching by rack, and groups across a coordinator's death. */
class ClusterClientsTest {
    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of(), id -> Map.of("broker.rack", "rack-" + id)).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(Map<String, Object> extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static void produce(String topic, int partitions, int count) throws Exception {
        produce(topic, partitions, 0, count);
    }

    private static void produce(String topic, int partitions, int from, int count) throws Exception {
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, "v" + i)).get();
            }
        }
    }

    @Test
    void everyNodesRackIsInTheMetadataClientsSee() throws Exception {
        // Registered with the node: Metadata and DescribeCluster name each broker's rack, as Kafka
        // does (rack-aware consumer assignment, KIP-881, reads them there).
        await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
            var nodes = cluster.admin().describeCluster().nodes().get();
            assertThat(nodes).hasSize(3).allSatisfy(n -> assertThat(n.rack()).isEqualTo("rack-" + n.id()));
        });
    }

    @Test
    void aConsumerInAFollowersRackIsSentToThatFollowerWhichServesIt() throws Exception {
        String topic = "racks-" + UUID.randomUUID();
        cluster.createTopic(topic, 1, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(topic, 1, 3);
        produce(topic, 1, 50);
        int leader = cluster.awaitLeader(topic, 0);
        int follower = leader == 1 ? 2 : 1;
        await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
            FetchResponseData.PartitionData atLeader = fetch(leader, topic, "rack-" + follower);
            assertThat(atLeader.preferredReadReplica()).as("the leader names the follower in the consumer's rack").isEqualTo(follower);
            assertThat(((MemoryRecords) atLeader.records()).sizeInBytes()).isZero();
            FetchResponseData.PartitionData atFollower = fetch(follower, topic, "rack-" + follower);
            assertThat(atFollower.errorCode()).isZero();
            assertThat(atFollower.highWatermark()).isEqualTo(50);
            assertThat(((MemoryRecords) atFollower.records()).sizeInBytes()).isPositive();
        });
        // And a real consumer in that rack reads everything, in order.
        try (KafkaConsumer<String, String> consumer = consumer(Map.of(ConsumerConfig.CLIENT_RACK_CONFIG, "rack-" + follower))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            List<String> values = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                return values.size() >= 50;
            });
            assertThat(values).hasSize(50).startsWith("v0", "v1").endsWith("v49");
        }
    }

    @Test
    void aRedirectCarriesTheLastStableOffsetAndAFetchBelowTheLogStartIsAnsweredOutOfRangeByTheLeader() throws Exception {
        String topic = "racks-start-" + UUID.randomUUID();
        cluster.createTopic(topic, 1, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(topic, 1, 3);
        produce(topic, 1, 50);
        int leader = cluster.awaitLeader(topic, 0);
        int follower = leader == 1 ? 2 : 1;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "open-" + topic);
        try (KafkaProducer<String, String> open = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            open.initTransactions();
            open.beginTransaction();
            open.send(new ProducerRecord<>(topic, 0, "t", "open")).get();
            // The open transaction holds the last stable offset at its first record, 50.
            await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
                FetchResponseData.PartitionData atLeader = fetch(leader, topic, "rack-" + follower, 0);
                assertThat(atLeader.preferredReadReplica()).isEqualTo(follower);
                assertThat(atLeader.highWatermark()).isEqualTo(51);
                assertThat(atLeader.lastStableOffset()).as("the redirect's marks are the leader's, as a read there gives them").isEqualTo(50);
            });
            TopicPartition tp = new TopicPartition(topic, 0);
            cluster.admin().deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(20))).all().get();
            FetchResponseData.PartitionData below = fetch(leader, topic, "rack-" + follower, 5);
            assertThat(below.errorCode()).as("read at the leader, not sent to a follower: the consumer resets on this answer")
                    .isEqualTo(org.apache.kafka.common.protocol.Errors.OFFSET_OUT_OF_RANGE.code());
            assertThat(below.preferredReadReplica()).isEqualTo(-1);
            open.abortTransaction();
        }
    }

    private static FetchResponseData.PartitionData fetch(int node, String topic, String rack) throws Exception {
        return fetch(node, topic, rack, 0);
    }

    private static FetchResponseData.PartitionData fetch(int node, String topic, String rack, long offset) throws Exception {
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1).setRackId(rack)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(1 << 20)
                                .setCurrentLeaderEpoch(-1).setLogStartOffset(-1).setLastFetchedEpoch(-1)))));
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(node))) {
            FetchResponse response = client.send(new FetchRequest(data, (short) 12));
            return response.data().responses().get(0).partitions().get(0);
        }
    }

    @Test
    void aGroupCarriesOnWhenItsCoordinatorIsKilled() throws Exception {
        String topic = "orders-" + UUID.randomUUID();
        String group = "group-" + UUID.randomUUID();
        cluster.createTopic(topic, 3, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(topic, 3, 3);
        produce(topic, 3, 300);
        Map<String, Object> groupConfig = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
        Set<String> seenBefore = new java.util.HashSet<>();
        Map<TopicPartition, OffsetAndMetadata> committed = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
        try (KafkaConsumer<String, String> consumer = consumer(groupConfig)) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    seenBefore.add(r.value());
                    committed.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                return seenBefore.size() >= 120;
            });
            consumer.commitSync(committed);
        }
        ConsumerGroupDescription description = cluster.admin().describeConsumerGroups(List.of(group)).all().get().get(group);
        int coordinator = description.coordinator().id();
        cluster.mark("killing coordinator node " + coordinator + " of " + group);
        cluster.kill9(coordinator);
        try {
            // The offsets partition's new leader coordinates now, with every committed offset.
            await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
                Map<TopicPartition, OffsetAndMetadata> now = cluster.admin().listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                assertThat(now).containsExactlyInAnyOrderEntriesOf(committed);
            });
            Set<String> seenAfter = new java.util.HashSet<>();
            try (KafkaConsumer<String, String> consumer = consumer(groupConfig)) {
                consumer.subscribe(List.of(topic));
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> assertThat(seenAfter.add(r.value())).isTrue());
                    return seenBefore.size() + seenAfter.size() >= 300;
                });
            }
            assertThat(seenAfter).doesNotContainAnyElementsOf(seenBefore);
            assertThat(seenBefore.size() + seenAfter.size()).isEqualTo(300);
        } finally {
            cluster.start(coordinator);
        }
    }

    /**
     * A stable group's members and assignment are stored with its generation, so the offsets
     * partition's next leader loads them: the members carry on heartbeating and committing in
     * the same generation, with no rebalance (no partition revoked, lost or assigned again), as
     * with Kafka. Before, the new coordinator knew no members and every one had to rejoin.
     */
    @Test
    void aStableGroupKeepsItsMembersAndAssignmentWhenItsCoordinatorIsKilled() throws Exception {
        String topic = "ledger-" + UUID.randomUUID();
        String group = "group-" + UUID.randomUUID();
        cluster.createTopic(topic, 4, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(topic, 4, 3);
        produce(topic, 4, 200);
        List<String> rebalances = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<String, Object> groupConfig = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50,
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 500);
        Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try (KafkaConsumer<String, String> first = consumer(groupConfig); KafkaConsumer<String, String> second = consumer(groupConfig)) {
            List<KafkaConsumer<String, String>> members = List.of(first, second);
            for (KafkaConsumer<String, String> member : members) {
                String name = member == first ? "first" : "second";
                member.subscribe(List.of(topic), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                        if (!partitions.isEmpty()) {
                            rebalances.add(name + " revoked " + partitions);
                        }
                    }

                    @Override
                    public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                        rebalances.add(name + " assigned " + partitions);
                    }

                    @Override
                    public void onPartitionsLost(java.util.Collection<TopicPartition> partitions) {
                        rebalances.add(name + " lost " + partitions);
                    }
                });
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                members.forEach(m -> m.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value())));
                return seen.size() == 200 && first.assignment().size() + second.assignment().size() == 4
                        && !first.assignment().isEmpty() && !second.assignment().isEmpty()
                        && first.groupMetadata().generationId() == second.groupMetadata().generationId();
            });
            members.forEach(KafkaConsumer::commitSync);
            int generation = first.groupMetadata().generationId();
            Map<String, Set<TopicPartition>> assignment = Map.of("first", Set.copyOf(first.assignment()), "second", Set.copyOf(second.assignment()));
            rebalances.clear();

            int coordinator = cluster.admin().describeConsumerGroups(List.of(group)).all().get().get(group).coordinator().id();
            cluster.mark("killing coordinator node " + coordinator + " of the stable group " + group);
            cluster.kill9(coordinator);
            try {
                produce(topic, 4, 200, 200);
                await().atMost(Duration.ofSeconds(90)).until(() -> {
                    members.forEach(m -> m.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value())));
                    return seen.size() == 400;
                });
                // Commits name the member and generation: the new coordinator takes them only if it knows both.
                members.forEach(KafkaConsumer::commitSync);
                ConsumerGroupDescription after = cluster.admin().describeConsumerGroups(List.of(group)).all().get().get(group);
                assertThat(after.coordinator().id()).isNotEqualTo(coordinator);
                assertThat(after.groupState()).hasToString("Stable");
                assertThat(after.members()).hasSize(2);
                assertThat(rebalances).as("no partition moved, none was revoked or lost").isEmpty();
                assertThat(first.groupMetadata().generationId()).isEqualTo(generation).isEqualTo(second.groupMetadata().generationId());
                assertThat(Map.of("first", first.assignment(), "second", second.assignment())).isEqualTo(assignment);
                Map<TopicPartition, OffsetAndMetadata> committed = cluster.admin().listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get();
                assertThat(committed.values()).extracting(OffsetAndMetadata::offset).containsOnly(100L);
            } finally {
                cluster.start(coordinator);
            }
        }
    }

    /** kafka-topics.sh --replica-assignment: the replicas named per partition, the first one its preferred leader. */
    @Test
    void aTopicCreatedAndGrownWithNamedReplicasHasExactlyThoseReplicas() throws Exception {
        String topic = "placed-" + UUID.randomUUID();
        var admin = cluster.admin();
        admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, Map.of(0, List.of(2, 3), 1, List.of(3, 1))))).all().get();
        admin.createPartitions(Map.of(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(3, List.of(List.of(1, 2))))).all().get();

        await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
            var partitions = cluster.describe(topic).partitions();
            assertThat(partitions).extracting(p -> p.replicas().stream().map(org.apache.kafka.common.Node::id).toList())
                    .containsExactly(List.of(2, 3), List.of(3, 1), List.of(1, 2));
            assertThat(partitions).extracting(p -> p.leader().id()).containsExactly(2, 3, 1);
        });
        produce(topic, 3, 30);

        String refused = "refused-" + UUID.randomUUID();
        for (Map<Integer, List<Integer>> bad : List.of(Map.of(0, List.of(1, 42)), Map.of(0, List.of(1, 2), 1, List.of(3)),
                Map.of(0, List.of(2, 2)))) {
            assertThatThrownBy(() -> admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(refused, bad))).all().get())
                    .as("assignment %s", bad).hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidReplicaAssignmentException.class);
        }
        assertThatThrownBy(() -> admin.createPartitions(Map.of(topic,
                org.apache.kafka.clients.admin.NewPartitions.increaseTo(4, List.of(List.of(1, 2, 3))))).all().get())
                .as("a third replica where the topic has two").hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidReplicaAssignmentException.class);
        assertThat(admin.listTopics().names().get()).doesNotContain(refused);
        assertThat(cluster.describe(topic).partitions()).hasSize(3);
    }
}
