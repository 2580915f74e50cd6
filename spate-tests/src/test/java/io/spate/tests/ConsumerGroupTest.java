package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.GroupMemberRunner;
import io.spate.tests.support.RawKafkaClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Consumer groups with the real KafkaConsumer: sharing, handover, eviction, static members, admin. */
class ConsumerGroupTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("group.initial.rebalance.delay.ms", "200").start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static Map<String, Object> groupConfig(String group) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
        return config;
    }

    private static void produce(String topic, int partitions, int perPartition, int from) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int p = 0; p < partitions; p++) {
                for (int i = from; i < from + perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, p, "k", p + ":" + i));
                }
            }
            producer.flush();
        }
    }

    /** The broker only relays the leader's assignment, so every client-side assignor must work. */
    @ParameterizedTest
    @ValueSource(strings = {"range", "roundrobin", "cooperative-sticky"})
    void twoMembersShareSixPartitionsAndTheSurvivorTakesOverFromCommittedOffsets(String assignor) throws Exception {
        String topic = "shared-" + assignor;
        String groupId = "sharers-" + assignor;
        Clients.createTopic(node.bootstrapServers(), topic, 6, Map.of());
        produce(topic, 6, 50, 0);
        ConcurrentLinkedQueue<ConsumerRecord<String, String>> consumed = new ConcurrentLinkedQueue<>();
        Map<String, Object> config = groupConfig(groupId);
        config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, switch (assignor) {
            case "range" -> org.apache.kafka.clients.consumer.RangeAssignor.class.getName();
            case "roundrobin" -> org.apache.kafka.clients.consumer.RoundRobinAssignor.class.getName();
            default -> org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName();
        });
        try (GroupMemberRunner a = new GroupMemberRunner("a", node.bootstrapServers(), topic, config, consumed)) {
            GroupMemberRunner b = new GroupMemberRunner("b", node.bootstrapServers(), topic, config, consumed);
            await().atMost(Duration.ofSeconds(60)).until(() -> a.assignment().size() == 3 && b.assignment().size() == 3);
            assertThat(new HashSet<TopicPartition>() {{ addAll(a.assignment()); addAll(b.assignment()); }}).hasSize(6);
            await().atMost(Duration.ofSeconds(60)).until(() -> consumed.size() >= 300);
            b.close();
            assertThat(b.failure()).isNull();
            await().atMost(Duration.ofSeconds(60)).until(() -> a.assignment().size() == 6);
            produce(topic, 6, 50, 50);
            await().atMost(Duration.ofSeconds(60)).until(() -> consumed.size() >= 600);
            assertThat(a.failure()).isNull();
        }
        // Each member committed after every poll and b left cleanly, so nothing was read twice.
        List<String> values = consumed.stream().map(ConsumerRecord::value).toList();
        assertThat(values).hasSize(600).doesNotHaveDuplicates();
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
            assertThat(committed).hasSize(6);
            committed.values().forEach(o -> assertThat(o.offset()).isEqualTo(100));
        }
    }

    @Test
    void memberThatStopsHeartbeatingIsEvictedAfterItsSessionTimeout() throws Exception {
        String topic = "evict";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (RawKafkaClient silent = new RawKafkaClient(node.bootstrapServers()); Admin admin = Clients.admin(node.bootstrapServers())) {
            byte[] subscription = ConsumerProtocol.serializeSubscription(new ConsumerPartitionAssignor.Subscription(List.of(topic))).array();
            JoinGroupRequestData join = new JoinGroupRequestData().setGroupId("evictees").setSessionTimeoutMs(6_000).setRebalanceTimeoutMs(10_000)
                    .setMemberId("").setProtocolType("consumer");
            join.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(subscription));
            JoinGroupResponse first = silent.send(new JoinGroupRequest.Builder(join).build((short) 9));
            assertThat(first.error()).isEqualTo(Errors.MEMBER_ID_REQUIRED);
            join.setMemberId(first.data().memberId());
            JoinGroupResponse joined = silent.send(new JoinGroupRequest.Builder(join).build((short) 9));
            assertThat(joined.error()).isEqualTo(Errors.NONE);
            assertThat(joined.data().leader()).isEqualTo(joined.data().memberId());
            byte[] assignment = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(
                    List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)))).array();
            SyncGroupRequestData sync = new SyncGroupRequestData().setGroupId("evictees").setGenerationId(joined.data().generationId())
                    .setMemberId(joined.data().memberId()).setProtocolType("consumer").setProtocolName("range");
            sync.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(joined.data().memberId()).setAssignment(assignment));
            SyncGroupResponse synced = silent.send(new SyncGroupRequest.Builder(sync).build((short) 5));
            assertThat(synced.error()).isEqualTo(Errors.NONE);
            ConsumerGroupDescription stable = admin.describeConsumerGroups(List.of("evictees")).all().get().get("evictees");
            assertThat(stable.members()).hasSize(1);

            // No heartbeats from now on: the coordinator must drop the member on its own.
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    admin.describeConsumerGroups(List.of("evictees")).all().get().get("evictees").members().isEmpty());
            HeartbeatResponse late = silent.send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setGroupId("evictees")
                    .setGenerationId(joined.data().generationId()).setMemberId(joined.data().memberId())).build((short) 4));
            assertThat(late.error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        }
    }

    @Test
    void staticMemberRestartingWithinItsSessionKeepsItsPartitionsWithoutARebalance() throws Exception {
        String topic = "static";
        Clients.createTopic(node.bootstrapServers(), topic, 4, Map.of());
        Map<String, Object> config = groupConfig("statics");
        config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-1");
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
        ConcurrentLinkedQueue<ConsumerRecord<String, String>> consumed = new ConcurrentLinkedQueue<>();
        int generation;
        Set<TopicPartition> before;
        try (GroupMemberRunner first = new GroupMemberRunner("s1", node.bootstrapServers(), topic, config, consumed)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> first.assignment().size() == 4);
            generation = first.generation();
            before = first.assignment();
        }
        try (GroupMemberRunner second = new GroupMemberRunner("s2", node.bootstrapServers(), topic, config, consumed)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> second.assignment().size() == 4);
            assertThat(second.assignment()).isEqualTo(before);
            assertThat(second.generation()).as("same generation: the restart caused no rebalance").isEqualTo(generation);
            assertThat(second.failure()).isNull();
        }
    }

    /**
     * A second consumer started with a running one's group.instance.id takes the instance over;
     * the first is told it is fenced and stops (FencedInstanceIdException), instead of joining
     * again with the same instance id and taking it back, the two replacing each other for ever.
     */
    @Test
    void aStaticMemberReplacedByACopyWithItsInstanceIdIsFencedAndTheCopyKeepsTheInstance() throws Exception {
        String topic = "static-fenced";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        Map<String, Object> config = groupConfig("fenced-statics");
        config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "instance-1");
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
        config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 200);
        ConcurrentLinkedQueue<ConsumerRecord<String, String>> consumed = new ConcurrentLinkedQueue<>();
        try (GroupMemberRunner first = new GroupMemberRunner("f1", node.bootstrapServers(), topic, config, consumed)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> first.assignment().size() == 2);
            try (GroupMemberRunner copy = new GroupMemberRunner("f2", node.bootstrapServers(), topic, config, consumed)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> first.failure() != null);
                assertThat(first.failure()).isInstanceOf(FencedInstanceIdException.class);
                await().atMost(Duration.ofSeconds(30)).until(() -> copy.assignment().size() == 2);
                assertThat(copy.failure()).isNull();
            }
        }
    }

    @Test
    void groupErrorsAreKafkaErrorCodes() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "errors", 1, Map.of());
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            HeartbeatResponse unknown = client.send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setGroupId("nobody")
                    .setGenerationId(1).setMemberId("ghost")).build((short) 4));
            assertThat(unknown.error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

            JoinGroupRequestData badTimeout = new JoinGroupRequestData().setGroupId("g").setSessionTimeoutMs(10).setRebalanceTimeoutMs(1000)
                    .setMemberId("").setProtocolType("consumer");
            badTimeout.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[0]));
            JoinGroupResponse rejected = client.send(new JoinGroupRequest.Builder(badTimeout).build((short) 9));
            assertThat(rejected.error()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);

            SyncGroupResponse noGroup = client.send(new SyncGroupRequest.Builder(new SyncGroupRequestData().setGroupId("nobody")
                    .setGenerationId(3).setMemberId("ghost")).build((short) 5));
            assertThat(noGroup.error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);

            OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId("simple").setGenerationIdOrMemberEpoch(-1).setMemberId("");
            OffsetCommitRequestData.OffsetCommitRequestTopic missing = new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("errors");
            missing.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(9).setCommittedOffset(1));
            missing.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1)
                    .setCommittedMetadata("m".repeat(5000)));
            missing.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(0)
                    .setCommittedMetadata("ok"));
            commit.topics().add(missing);
            OffsetCommitResponse response = client.send(OffsetCommitRequest.Builder.forTopicNames(commit).build((short) 8));
            List<Short> codes = response.data().topics().get(0).partitions().stream().map(p -> p.errorCode()).toList();
            assertThat(codes).containsExactly(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), Errors.OFFSET_METADATA_TOO_LARGE.code(), Errors.NONE.code());
        }
    }

    @Test
    void adminListsDescribesAndDeletesGroupsAndShowsTheirOffsets() throws Exception {
        String topic = "admin-groups";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        produce(topic, 2, 10, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), groupConfig("audited"))) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(got::add);
                return got.size() == 20;
            });
            consumer.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(7)));
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                Set<String> listed = admin.listConsumerGroups().all().get().stream().map(g -> g.groupId()).collect(Collectors.toSet());
                assertThat(listed).contains("audited");
                ConsumerGroupDescription description = admin.describeConsumerGroups(List.of("audited")).all().get().get("audited");
                assertThat(description.members()).hasSize(1);
                assertThat(description.members().iterator().next().assignment().topicPartitions()).hasSize(2);
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("audited").partitionsToOffsetAndMetadata().get();
                assertThat(offsets).containsEntry(new TopicPartition(topic, 0), new OffsetAndMetadata(7));
            }
        }
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            admin.deleteConsumerGroups(List.of("audited")).all().get();
            assertThat(admin.listConsumerGroupOffsets("audited").partitionsToOffsetAndMetadata().get()).isEmpty();
        }
    }
}
