package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The binary form of log entries (commands), their answers (results) and snapshots (images). */
class MetadataCodecTest {
    private static final List<MetadataCommand> EVERY_COMMAND = List.of(
            new MetadataCommand.RegisterNode(1, "broker-1.example.com", 9092, Long.MAX_VALUE),
            new MetadataCommand.FenceNode(2, -43),
            new MetadataCommand.CreateTopic("orders", UUID.randomUUID(), List.of(List.of(1, 2, 3), List.of(2, 3, 1), List.of(3)),
                    Map.of("retention.ms", "1000", "cleanup.policy", "compact")),
            new MetadataCommand.CreateTopic("empty", new UUID(0, 0), List.of(), Map.of()),
            new MetadataCommand.DeleteTopic("orders"),
            new MetadataCommand.CreatePartitions("orders", List.of(List.of(3, 1), List.of(1, 2))),
            new MetadataCommand.CreatePartitions("orders", 4, List.of(List.of(3, 1), List.of(1, 2))),
            new MetadataCommand.AlterTopicConfig("orders", Map.of("min.insync.replicas", "2")),
            new MetadataCommand.AlterTopicConfig("orders", Map.of()),
            new MetadataCommand.AlterTopicConfig("orders", Map.of("retention.ms", "5"), Map.of("retention.ms", "4", "segment.ms", "9")),
            new MetadataCommand.AlterTopicConfig("orders", Map.of(), Map.of()),
            new MetadataCommand.AlterIsr("orders", 1, 2, 3, 4, List.of(2, 1)),
            new MetadataCommand.AlterIsrs(List.of(new MetadataCommand.AlterIsr("orders", 0, 1, 2, 3, List.of(1)),
                    new MetadataCommand.AlterIsr("ünïcødé", 7, 3, 0, 9, List.of(3, 1, 2)))),
            new MetadataCommand.AlterIsrs(List.of()),
            new MetadataCommand.ElectPreferredLeader("orders", 0),
            new MetadataCommand.AllocateProducerIds(3, 1000),
            new MetadataCommand.ReassignPartition("orders", 2, List.of(4, 1, 2)),
            new MetadataCommand.ReassignPartition("orders", 2, List.of()),
            new MetadataCommand.RegisterNode(7, "ünïcødé-höst", 1, 0),
            new MetadataCommand.CreateTable("sessions", Map.of("replication.factor", "3", "durability", "batched:5")),
            new MetadataCommand.AlterNodeConfig(2, Map.of("leader.replication.throttled.rate", "1048576")),
            new MetadataCommand.AlterNodeConfig(ClusterImage.EVERY_NODE, Map.of()),
            new MetadataCommand.AlterNodeConfigKeys(2, Map.of("leader.replication.throttled.rate", "1048576", "ünï", "cødé"),
                    Set.of("follower.replication.throttled.rate", "move.replication.throttled.rate")),
            new MetadataCommand.AlterNodeConfigKeys(ClusterImage.EVERY_NODE, Map.of(), Set.of()));

    @Test
    void everyCommandTypeSurvivesTheRoundTrip() {
        assertThat(EVERY_COMMAND.stream().<Class<?>>map(Object::getClass).distinct())
                .as("the list covers every permitted command type")
                .containsExactlyInAnyOrder(MetadataCommand.class.getPermittedSubclasses());
        for (MetadataCommand command : EVERY_COMMAND) {
            assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(command))).isEqualTo(command);
        }
    }

    @Test
    void everyResultSurvivesTheRoundTrip() {
        for (CommandResult.Error error : CommandResult.Error.values()) {
            CommandResult result = new CommandResult(error, error == CommandResult.Error.NONE ? "" : "because " + error, 7_000_000_000L, 17);
            assertThat(MetadataCodec.decodeResult(MetadataCodec.encode(result))).isEqualTo(result);
        }
        CommandResult ok = CommandResult.ok(5).at(Long.MAX_VALUE);
        assertThat(MetadataCodec.decodeResult(MetadataCodec.encode(ok))).isEqualTo(ok);
    }

    private static ClusterImage nonTrivialImage() {
        Map<Integer, NodeInfo> nodes = new HashMap<>();
        nodes.put(3, new NodeInfo(3, "h3", 9093, 7, false));
        nodes.put(1, new NodeInfo(1, "h1", 9091, 5, false));
        nodes.put(2, new NodeInfo(2, "h2", 9092, 6, true));
        Map<String, String> overrides = new HashMap<>();
        overrides.put("cleanup.policy", "compact");
        overrides.put("unclean.leader.election.enable", "true");
        overrides.put("retention.ms", "-1");
        return new ClusterImage(9, nodes, Map.of(
                "orders", new TopicState("orders", UUID.randomUUID(), List.of(
                        new PartitionState(List.of(1, 2, 3), 1, 3, List.of(1, 3), 4),
                        new PartitionState(List.of(2, 3, 1), 3, 1, List.of(3, 1), 2),
                        new PartitionState(List.of(2), PartitionState.NO_LEADER, 2, List.of(2), 5)), overrides),
                "no-partitions", new TopicState("no-partitions", UUID.randomUUID(), List.of(), Map.of())),
                2000);
    }

    @Test
    void imagesSurviveTheRoundTrip() {
        ClusterImage image = nonTrivialImage();
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(image))).isEqualTo(image);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(ClusterImage.EMPTY))).isEqualTo(ClusterImage.EMPTY);
    }

    @Test
    void anImageBuiltByTheTransitionsSurvivesTheRoundTrip() {
        ClusterImage image = ClusterImage.EMPTY;
        long index = 0;
        for (int id = 1; id <= 4; id++) {
            image = MetadataTransitions.apply(image, new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, id), ++index).image();
        }
        image = MetadataTransitions.apply(image, new MetadataCommand.CreateTopic("t", UUID.randomUUID(),
                Placement.assign("t", 0, 8, 3, List.of(1, 2, 3, 4)), Map.of("retention.ms", "100")), ++index).image();
        image = MetadataTransitions.apply(image, new MetadataCommand.FenceNode(2, 2), ++index).image();
        image = MetadataTransitions.apply(image, new MetadataCommand.AllocateProducerIds(1, 1000), ++index).image();
        image = MetadataTransitions.apply(image, new MetadataCommand.ReassignPartition("t", 0, List.of(4, 3, 1)), ++index).image();
        assertThat(image.partition("t", 0).reassigning()).as("a reassignment in flight is part of the image").isTrue();
        image = MetadataTransitions.apply(image, new MetadataCommand.AlterNodeConfig(3, Map.of("follower.replication.throttled.rate", "100")), ++index).image();
        image = MetadataTransitions.apply(image, new MetadataCommand.AlterNodeConfig(ClusterImage.EVERY_NODE,
                Map.of("follower.replication.throttled.rate", "200")), ++index).image();
        assertThat(image.nodeConfig(3, "follower.replication.throttled.rate")).isEqualTo("100");
        assertThat(image.nodeConfig(4, "follower.replication.throttled.rate")).as("every node's").isEqualTo("200");
        image = MetadataTransitions.apply(image, new MetadataCommand.FenceNode(3, 3), ++index).image();
        assertThat(image.nodeConfig(3, "follower.replication.throttled.rate")).as("kept through other changes").isEqualTo("100");
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(image))).isEqualTo(image);
        image = MetadataTransitions.apply(image, new MetadataCommand.AlterNodeConfigKeys(3, Map.of("leader.replication.throttled.rate", "300"),
                Set.of()), ++index).image();
        assertThat(image.nodeConfigs().get(3)).as("a key set beside the others")
                .containsOnly(Map.entry("follower.replication.throttled.rate", "100"), Map.entry("leader.replication.throttled.rate", "300"));
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(image))).isEqualTo(image);
        image = MetadataTransitions.apply(image, new MetadataCommand.AlterNodeConfig(3, Map.of()), ++index).image();
        assertThat(image.nodeConfigs()).containsOnlyKeys(ClusterImage.EVERY_NODE);
    }

    @Test
    void equalImagesEncodeToTheSameBytes() {
        // Snapshots of voters that applied the same log must not differ by hash-map order.
        ClusterImage image = nonTrivialImage();
        ClusterImage copy = MetadataCodec.decodeImage(MetadataCodec.encode(image));
        assertThat(MetadataCodec.encode(copy)).isEqualTo(MetadataCodec.encode(image));
    }

    @Test
    void onlyBytesThatNeedANewerFormatUseIt() {
        // A node of an earlier release reads format 1 (or 2, or 3) only: everything without a move
        // (or without eligible replicas and registrations, or batched in-sync set changes) stays
        // readable to it.
        for (MetadataCommand command : EVERY_COMMAND) {
            byte expected = (byte) (command instanceof MetadataCommand.CreatePartitions grow
                    && grow.expectedCount() != MetadataCommand.CreatePartitions.UNCHECKED ? 8
                    : command instanceof MetadataCommand.AlterTopicConfig alter && alter.basedOn() != null ? 9
                    : command instanceof MetadataCommand.AlterNodeConfigKeys ? 10
                    : command instanceof MetadataCommand.AlterNodeConfig ? 7
                    : command instanceof MetadataCommand.CreateTable ? 6
                    : command instanceof MetadataCommand.ReassignPartition ? 2
                    : command instanceof MetadataCommand.RegisterNode ? 3
                    : command instanceof MetadataCommand.AlterIsrs ? 4 : 1);
            assertThat(MetadataCodec.encode(command)[0]).as("%s", command).isEqualTo(expected);
        }
        assertThat(MetadataCodec.encode(CommandResult.ok(1))[0]).isEqualTo((byte) 1);
        PartitionState settled = new PartitionState(List.of(1, 2), 1, 0, List.of(1, 2), 0);
        PartitionState moving = new PartitionState(List.of(3, 2, 1), 1, 0, List.of(1, 2), 1, List.of(3), List.of(1));
        ClusterImage still = imageWith(settled);
        ClusterImage inMotion = imageWith(moving);
        assertThat(MetadataCodec.encode(still)[0]).isEqualTo((byte) 1);
        assertThat(MetadataCodec.encode(inMotion)[0]).isEqualTo((byte) 2);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(still))).isEqualTo(still);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(inMotion))).isEqualTo(inMotion);
        ClusterImage withEligible = imageWith(settled.withIsr(List.of(1)).withElr(List.of(2)));
        assertThat(MetadataCodec.encode(withEligible)[0]).isEqualTo((byte) 3);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(withEligible))).isEqualTo(withEligible);
        ClusterImage throttled = new ClusterImage(still.version(), still.nodes(), still.topics(), still.nextProducerId(), still.tables(),
                Map.of(1, Map.of("leader.replication.throttled.rate", "10")));
        assertThat(MetadataCodec.encode(throttled)[0]).isEqualTo((byte) 7);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(throttled))).isEqualTo(throttled);
    }

    @Test
    void registrationsCarryWhetherTheNodeShutDownCleanly() {
        for (boolean clean : new boolean[]{true, false}) {
            MetadataCommand c = new MetadataCommand.RegisterNode(4, "h", 9092, 17, clean);
            assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(c))).isEqualTo(c);
        }
    }

    @Test
    void aNodesRackGoesInFormat5AndOnlyWhenItHasOne() {
        MetadataCommand withRack = new MetadataCommand.RegisterNode(4, "h", 9092, 17, true, "eu-west-1a");
        assertThat(MetadataCodec.encode(withRack)[0]).isEqualTo((byte) 5);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(withRack))).isEqualTo(withRack);
        assertThat(MetadataCodec.encode(new MetadataCommand.RegisterNode(4, "h", 9092, 17, true, ""))[0])
                .as("no rack: readable by the release before").isEqualTo((byte) 3);

        ClusterImage racked = MetadataTransitions.apply(ClusterImage.EMPTY, withRack, 1).image();
        racked = MetadataTransitions.apply(racked, new MetadataCommand.RegisterNode(5, "g", 9093, 18, true), 2).image();
        assertThat(racked.node(4).rack()).isEqualTo("eu-west-1a");
        assertThat(racked.node(5).rack()).isEmpty();
        byte[] bytes = MetadataCodec.encode(racked);
        assertThat(bytes[0]).isEqualTo((byte) 5);
        assertThat(MetadataCodec.decodeImage(bytes)).isEqualTo(racked);
        // Fencing keeps the rack.
        ClusterImage fenced = MetadataTransitions.apply(racked, new MetadataCommand.FenceNode(4, 17), 3).image();
        assertThat(fenced.node(4).fenced()).isTrue();
        assertThat(fenced.node(4).rack()).isEqualTo("eu-west-1a");
    }

    @Test
    void tablesPortsAndTheTableCatalogGoInFormat6AndOnlyWhenThereAreAny() {
        MetadataCommand withTables = new MetadataCommand.RegisterNode(4, "h", 9092, 17, true, "", 7100);
        assertThat(MetadataCodec.encode(withTables)[0]).isEqualTo((byte) 6);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(withTables))).isEqualTo(withTables);
        MetadataCommand racked = new MetadataCommand.RegisterNode(5, "g", 9093, 18, false, "r1", 7101);
        assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(racked))).isEqualTo(racked);

        ClusterImage image = MetadataTransitions.apply(ClusterImage.EMPTY, withTables, 1).image();
        image = MetadataTransitions.apply(image, new MetadataCommand.RegisterNode(6, "f", 9094, 19, true), 2).image();
        assertThat(image.node(4).tablesPort()).isEqualTo(7100);
        assertThat(image.node(6).tablesPort()).isEqualTo(NodeInfo.NO_TABLES_PORT);
        CommandResult created = MetadataTransitions.apply(image, new MetadataCommand.CreateTable("t", Map.of("replication.factor", "3")), 3).result();
        assertThat(created.succeeded()).isTrue();
        image = MetadataTransitions.apply(image, new MetadataCommand.CreateTable("t", Map.of("replication.factor", "3")), 3).image();
        assertThat(image.tables()).containsOnlyKeys("t");
        assertThat(MetadataTransitions.apply(image, new MetadataCommand.CreateTable("t", Map.of()), 4).result().error())
                .isEqualTo(CommandResult.Error.TABLE_EXISTS);
        // Other changes keep the catalog, and fencing keeps the port.
        image = MetadataTransitions.apply(image, new MetadataCommand.FenceNode(4, 17), 5).image();
        assertThat(image.tables()).containsOnlyKeys("t");
        assertThat(image.node(4).tablesPort()).isEqualTo(7100);
        byte[] bytes = MetadataCodec.encode(image);
        assertThat(bytes[0]).isEqualTo((byte) 6);
        assertThat(MetadataCodec.decodeImage(bytes)).isEqualTo(image);
        // Without either, images stay in the older formats.
        assertThat(MetadataCodec.encode(nonTrivialImage())[0]).isLessThan((byte) 6);
    }

    private static ClusterImage imageWith(PartitionState state) {
        return new ClusterImage(5, Map.of(1, new NodeInfo(1, "h", 9, 1, false)),
                Map.of("t", new TopicState("t", new UUID(1, 2), List.of(state), Map.of())), 7);
    }

    @Test
    void anUnknownFormatIsRefused() {
        byte[] command = MetadataCodec.encode(new MetadataCommand.DeleteTopic("x"));
        command[0] = 99;
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(command)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("99");
        byte[] result = MetadataCodec.encode(CommandResult.ok(1));
        result[0] = 99;
        assertThatThrownBy(() -> MetadataCodec.decodeResult(result)).isInstanceOf(IllegalArgumentException.class);
        byte[] image = MetadataCodec.encode(nonTrivialImage());
        image[0] = 0;
        assertThatThrownBy(() -> MetadataCodec.decodeImage(image)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUnknownCommandTypeOrATruncatedEntryIsRefused() {
        byte[] command = MetadataCodec.encode(new MetadataCommand.DeleteTopic("x"));
        command[1] = 42;
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(command)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("42");
        byte[] full = MetadataCodec.encode(EVERY_COMMAND.get(2));
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(Arrays.copyOf(full, full.length - 3))).isInstanceOf(IllegalArgumentException.class);
        byte[] image = MetadataCodec.encode(nonTrivialImage());
        assertThatThrownBy(() -> MetadataCodec.decodeImage(Arrays.copyOf(image, image.length / 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }
}
