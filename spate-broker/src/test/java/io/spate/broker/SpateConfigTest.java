package io.spate.broker;

import io.spate.log.InvalidConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpateConfigTest {
    @Test
    void theResourceBoundsHaveKafkasNamesAndDefaults() {
        SpateConfig config = SpateConfig.from(Map.of());
        assertThat(config.networkLimits().queuedMaxRequestBytes()).isEqualTo(-1);
        assertThat(config.networkLimits().maxConnections()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.networkLimits().maxConnectionsPerIp()).isEqualTo(Integer.MAX_VALUE);
        assertThat(config.networkLimits().connectionsMaxIdleMs()).isEqualTo(600_000L);
        assertThat(config.producerIdExpirationMs()).isEqualTo(86_400_000L);
        assertThat(config.groupSettings().offsetsRetentionMs()).isEqualTo(10_080L * 60_000);

        SpateConfig set = SpateConfig.from(Map.of("queued.max.request.bytes", "1048576", "max.connections", "100",
                "max.connections.per.ip", "10", "connections.max.idle.ms", "30000", "producer.id.expiration.ms", "5000", "offsets.retention.minutes", "3"));
        assertThat(set.networkLimits()).isEqualTo(new io.spate.server.network.KafkaServer.Limits(1_048_576, 100, 10, 30_000));
        assertThat(set.producerIdExpirationMs()).isEqualTo(5_000);
        assertThat(set.groupSettings().offsetsRetentionMs()).isEqualTo(180_000);
    }

    @ParameterizedTest
    @CsvSource({"queued.max.request.bytes,0", "queued.max.request.bytes,-2", "max.connections,0", "max.connections.per.ip,0",
            "producer.id.expiration.ms,0", "producer.id.expiration.check.interval.ms,0", "offsets.retention.minutes,0",
            "offsets.retention.check.interval.ms,0", "max.connections,lots", "partition.autobalancing.mode,always",
            "partition.autobalancing.concurrent.moves,0", "partition.autobalancing.node.availability.timeout.sec,0"})
    void badValuesAreRefusedWithTheirName(String name, String value) {
        assertThatThrownBy(() -> SpateConfig.from(Map.of(name, value))).isInstanceOf(InvalidConfigException.class).hasMessageContaining(name);
    }

    @Test
    void whatNodeCredentialsComeFromIsNotShownToClients() {
        SpateConfig config = SpateConfig.from(Map.of("controller.quorum.voters", "1@127.0.0.1:9093", "cluster.secret", "s3cret"));
        assertThat(config.toServerConfig(9092).brokerConfigs()).doesNotContainKeys("cluster.secret", "controller.quorum.voters");
        assertThat(config.nodeCredentials().token(1)).isNotEmpty();
        assertThat(SpateConfig.from(Map.of()).nodeCredentials().token(1)).as("standalone").isEmpty();
    }

    @Test
    void aClusterFillsAnAddedNodeUnlessAutobalancingIsOff() {
        Map<String, String> cluster = Map.of("controller.quorum.voters", "1@127.0.0.1:9093");
        assertThat(SpateConfig.from(cluster).clusterSettings().nodeAddMoves()).isEqualTo(10);
        var withMoves = new java.util.HashMap<>(cluster);
        withMoves.put("partition.autobalancing.concurrent.moves", "3");
        assertThat(SpateConfig.from(withMoves).clusterSettings().nodeAddMoves()).isEqualTo(3);
        assertThat(SpateConfig.from(withMoves).clusterSettings().unavailableMoveAfterMs()).as("node_add leaves a dead node's replicas").isZero();
        withMoves.put("partition.autobalancing.mode", "continuous");
        withMoves.put("partition.autobalancing.node.availability.timeout.sec", "30");
        assertThat(SpateConfig.from(withMoves).clusterSettings().nodeAddMoves()).isEqualTo(3);
        assertThat(SpateConfig.from(withMoves).clusterSettings().unavailableMoveAfterMs()).isEqualTo(30_000);
        withMoves.put("partition.autobalancing.mode", "off");
        assertThat(SpateConfig.from(withMoves).clusterSettings().nodeAddMoves()).isZero();
        assertThat(SpateConfig.from(withMoves).clusterSettings().unavailableMoveAfterMs()).isZero();
    }
}
