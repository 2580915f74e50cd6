package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetadataCodecTest {
    @Test
    void everyCommandSurvivesTheRoundTrip() {
        List<MetadataCommand> commands = List.of(
                new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, 42),
                new MetadataCommand.FenceNode(2, 43),
                new MetadataCommand.CreateTopic("orders", UUID.randomUUID(), List.of(List.of(1, 2), List.of(2, 1)), Map.of("retention.ms", "1000")),
                new MetadataCommand.DeleteTopic("orders"),
                new MetadataCommand.CreatePartitions("orders", List.of(List.of(3, 1))),
                new MetadataCommand.AlterTopicConfig("orders", Map.of("min.insync.replicas", "2")),
                new MetadataCommand.AlterIsr("orders", 1, 2, 3, 4, List.of(2, 1)),
                new MetadataCommand.ElectPreferredLeader("orders", 0),
                new MetadataCommand.AllocateProducerIds(3, 1000));
        for (MetadataCommand command : commands) {
            assertThat(MetadataCodec.decodeCommand(MetadataCodec.encode(command))).isEqualTo(command);
        }
    }

    @Test
    void resultsAndImagesSurviveTheRoundTrip() {
        CommandResult result = CommandResult.fail(CommandResult.Error.TOPIC_EXISTS, "exists").at(17);
        assertThat(MetadataCodec.decodeResult(MetadataCodec.encode(result))).isEqualTo(result);
        ClusterImage image = new ClusterImage(9,
                Map.of(1, new NodeInfo(1, "h1", 1, 5, false), 2, new NodeInfo(2, "h2", 2, 6, true)),
                Map.of("t", new TopicState("t", UUID.randomUUID(),
                        List.of(new PartitionState(List.of(1, 2), 1, 3, List.of(1), 4), new PartitionState(List.of(2, 1), -1, 0, List.of(2), 1)),
                        Map.of("cleanup.policy", "compact"))),
                2000);
        assertThat(MetadataCodec.decodeImage(MetadataCodec.encode(image))).isEqualTo(image);
    }

    @Test
    void anUnknownFormatIsRefused() {
        byte[] bytes = MetadataCodec.encode(new MetadataCommand.DeleteTopic("x"));
        bytes[0] = 99;
        assertThatThrownBy(() -> MetadataCodec.decodeCommand(bytes)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("99");
    }
}
