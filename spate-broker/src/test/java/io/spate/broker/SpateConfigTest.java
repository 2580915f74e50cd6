package io.spate.broker;

import io.spate.log.InvalidConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
            "partition.autobalancing.concurrent.moves,0", "partition.autobalancing.node.availability.timeout.sec,0",
            "tables.max.value.bytes,0", "tables.max.value.bytes,66060289", "tables.max.value.bytes,2147483647"})
    void badValuesAreRefusedWithTheirName(String name, String value) {
        assertThatThrownBy(() -> SpateConfig.from(Map.of(name, value))).isInstanceOf(InvalidConfigException.class).hasMessageContaining(name);
    }

    @ParameterizedTest
    @CsvSource({"transaction.partition.verification.enable,yes", "transaction.partition.verification.enable,1",
            "auto.create.topics.enable,on", "log.cleaner.enable,no", "auto.leader.rebalance.enable,''"})
    void everyFlagIsTrueOrFalse(String name, String value) {
        assertThatThrownBy(() -> SpateConfig.from(Map.of(name, value))).isInstanceOf(InvalidConfigException.class)
                .hasMessage(name + " must be true or false, not '" + value + "'");
        assertThat(SpateConfig.from(Map.of(name, "false")).toServerConfig(9092).brokerConfigs()).containsEntry(name, "false");
    }

    @Test
    void aTableValueMayBeAsLargeAsTheTablesNetworkFrameCarries() {
        int limit = io.spate.tables.service.TableService.MAX_VALUE_BYTES_LIMIT;
        assertThat(SpateConfig.from(Map.of("tables.max.value.bytes", String.valueOf(limit))).tablesMaxValueBytes()).isEqualTo(limit);
        assertThat(limit).isEqualTo(66_060_288); // one more is refused above
    }

    @Test
    void transactionVerificationCanBeTurnedOff() {
        assertThat(SpateConfig.from(Map.of()).transactionVerification()).isTrue();
        assertThat(SpateConfig.from(Map.of("transaction.partition.verification.enable", "false")).transactionVerification()).isFalse();
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

    @TempDir
    Path dir;

    /** A properties file of {@code lines} plus the first {@code fillers} of the defaults, so its keys hash into tables of several sizes. */
    private Path configFile(int fillers, List<String> lines) throws IOException {
        List<String> all = new ArrayList<>(lines);
        SpateConfig.from(Map.of()).toServerConfig(9092).brokerConfigs().entrySet().stream()
                .filter(e -> !e.getKey().startsWith("log.") && !e.getKey().equals("host") && !e.getKey().equals("port"))
                .limit(fillers).forEach(e -> all.add(e.getKey() + "=" + e.getValue()));
        assertThat(all).hasSize(lines.size() + fillers);
        Path file = Files.createTempFile(dir, "spate", ".properties");
        Files.write(file, all);
        return file;
    }

    @ParameterizedTest
    @CsvSource({"0", "5", "13", "20", "25", "33", "40"})
    void aFileWithSeveralAliasesOfASettingGetsKafkasPrecedenceWhateverItsSize(int fillers) throws IOException {
        List<String> aliases = List.of("log.retention.hours=5", "log.retention.minutes=7", "log.retention.ms=1234",
                "log.roll.hours=2", "log.roll.ms=4321", "log.dir=/tmp/spate-low", "log.dirs=/tmp/spate-high",
                "listeners=PLAINTEXT://127.0.0.2:9300", "host=127.0.0.3", "port=9400");
        for (List<String> lines : List.of(aliases, aliases.reversed())) {
            SpateConfig config = SpateConfig.from(SpateConfig.readFile(configFile(fillers, lines)));
            assertThat(config.topicDefaults()).as("%d fillers, lines %s", fillers, lines)
                    .containsEntry("retention.ms", "1234").containsEntry("segment.ms", "4321");
            assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/spate-high"));
            assertThat(config.host()).isEqualTo("127.0.0.2");
            assertThat(config.port()).isEqualTo(9300);
        }
        SpateConfig minutes = SpateConfig.from(SpateConfig.readFile(configFile(fillers, List.of("log.retention.hours=5", "log.retention.minutes=7"))));
        assertThat(minutes.topicDefaults()).containsEntry("retention.ms", "420000");
    }

    @Test
    void anOverrideOfAnyAliasReplacesTheFilesAliasesOfThatSetting() throws IOException {
        Map<String, String> file = SpateConfig.readFile(configFile(25, List.of("log.retention.minutes=7", "log.roll.ms=4321", "log.dirs=/tmp/from-file")));
        SpateConfig config = SpateConfig.from(List.of(file, Map.of("log.retention.ms", "1000", "log.roll.hours", "1", "log.dir", "/tmp/from-override")));
        assertThat(config.topicDefaults()).containsEntry("retention.ms", "1000").containsEntry("segment.ms", "3600000");
        assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/from-override"));
        // and the flags (--port) beat an override's listeners
        SpateConfig flags = SpateConfig.from(List.of(Map.of("listeners", "PLAINTEXT://127.0.0.2:9300"), Map.of("port", "9500")));
        assertThat(flags.host()).isEqualTo("127.0.0.2");
        assertThat(flags.port()).isEqualTo(9500);
        assertThat(config.with("log.retention.hours", "2").topicDefaults()).containsEntry("retention.ms", "7200000");
    }

    @ParameterizedTest
    @CsvSource({"log.retention.hours", "log.retention.minutes", "log.retention.ms"})
    void aNegativeRetentionInAnyUnitMeansNoTimeLimit(String name) {
        assertThat(SpateConfig.from(Map.of(name, "-1")).topicDefaults()).containsEntry("retention.ms", "-1");
    }

    @ParameterizedTest
    @CsvSource({"log.retention.hours,lots", "log.roll.hours,0", "log.retention.hours,9999999999999999"})
    void badCoarserUnitsAreRefusedWithTheirName(String name, String value) {
        assertThatThrownBy(() -> SpateConfig.from(Map.of(name, value, "log.retention.ms", "1000")))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining(name);
    }

    @ParameterizedTest
    @CsvSource({"log.dirs,''", "log.dirs,'  '", "log.dir,''"})
    void anEmptyDataDirectoryIsRefusedRatherThanTheWorkingDirectory(String name, String value) {
        assertThatThrownBy(() -> SpateConfig.from(Map.of(name, value))).isInstanceOf(InvalidConfigException.class)
                .hasMessage("log.dirs (--data-dir) is empty; name the directory for the node's data");
    }

    @Test
    void severalDataDirectoriesAreRefusedRatherThanAllButOneIgnored() {
        assertThatThrownBy(() -> SpateConfig.from(Map.of("log.dirs", "/data/a,/data/b"))).isInstanceOf(InvalidConfigException.class)
                .hasMessage("log.dirs names several directories ('/data/a,/data/b'); a Spate node keeps its data in one");
        assertThat(SpateConfig.from(Map.of("log.dirs", " /data/a ")).dataDir()).isEqualTo(Path.of("/data/a"));
    }

    @Test
    void aListenerWithoutAHostListensOnEveryInterfaceAndAdvertisesTheHostName() throws Exception {
        SpateConfig config = SpateConfig.from(Map.of("listeners", "PLAINTEXT://:9300"));
        assertThat(config.listenHost()).isEqualTo("0.0.0.0");
        assertThat(config.port()).isEqualTo(9300);
        assertThat(config.host()).isEqualTo(java.net.InetAddress.getLocalHost().getCanonicalHostName()).isNotEqualTo("0.0.0.0");
        assertThat(SpateConfig.from(Map.of("host", "0.0.0.0")).host()).isEqualTo(config.host());

        SpateConfig named = SpateConfig.from(Map.of("listeners", "PLAINTEXT://10.1.2.3:9300"));
        assertThat(named.listenHost()).isEqualTo("10.1.2.3");
        assertThat(named.host()).isEqualTo("10.1.2.3");
        assertThat(SpateConfig.from(Map.of()).host()).as("the default").isEqualTo("127.0.0.1");
    }
}
