package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Kafka's standard topic settings through the real AdminClient: taken, refused and described as a Kafka broker does. */
class TopicSettingsTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("auto.create.topics.enable", "false").start();
        admin = Clients.admin(node.bootstrapServers());
    }

    @AfterAll
    static void stop() {
        admin.close();
        node.close();
    }

    @Test
    void kafkasStandardSettingsAreTakenAndTheOnesSpateDoesNotActOnSaySo() throws Exception {
        admin.createTopics(List.of(new NewTopic("standard", 1, (short) 1).configs(Map.of("compression.type", "producer",
                "min.compaction.lag.ms", "1000", "max.compaction.lag.ms", "60000", "segment.jitter.ms", "5",
                "segment.index.bytes", "1048576", "preallocate", "false")))).all().get();
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "standard");
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry("preallocate", "true"),
                AlterConfigOp.OpType.SET)))).all().get();

        Config config = admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeDocumentation(true)).all().get()
                .get(resource);
        assertThat(config.get("min.compaction.lag.ms").value()).isEqualTo("1000");
        assertThat(config.get("preallocate").value()).isEqualTo("true");
        assertThat(config.get("preallocate").documentation()).contains("does not act on it");
        assertThat(config.get("compression.type").value()).isEqualTo("producer");

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("gzip", 1, (short) 1).configs(Map.of("compression.type", "gzip"))))
                .all().get()).hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("producer");
    }

    @Test
    void aSettingWithoutAValueIsAnInvalidConfig() throws Exception {
        Map<String, String> noValue = new HashMap<>();
        noValue.put("retention.ms", null);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("no-value", 1, (short) 1).configs(noValue))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("retention.ms");

        admin.createTopics(List.of(new NewTopic("set-no-value", 1, (short) 1))).all().get();
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "set-no-value");
        assertThatThrownBy(() -> admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", null),
                AlterConfigOp.OpType.SET)))).all().get()).hasCauseInstanceOf(InvalidConfigurationException.class);
    }
}
