package io.spate.server.handlers;

import io.spate.log.LogConfig;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.requests.DescribeConfigsResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A topic's settings as Kafka describes them: value, where it comes from, and its type. */
public final class TopicConfigDescriber {
    private static final Map<String, DescribeConfigsResponse.ConfigType> TYPES = Map.ofEntries(
            Map.entry(LogConfig.CLEANUP_POLICY, DescribeConfigsResponse.ConfigType.LIST),
            Map.entry(LogConfig.DELETE_RETENTION_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, DescribeConfigsResponse.ConfigType.DOUBLE),
            Map.entry(LogConfig.FLUSH_MESSAGES, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.FLUSH_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.INDEX_INTERVAL_BYTES, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.MAX_MESSAGE_BYTES, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.MESSAGE_TIMESTAMP_TYPE, DescribeConfigsResponse.ConfigType.STRING),
            Map.entry(LogConfig.MIN_INSYNC_REPLICAS, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.RETENTION_BYTES, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.RETENTION_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.SEGMENT_BYTES, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.SEGMENT_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.COLOCATE_WITH, DescribeConfigsResponse.ConfigType.STRING),
            Map.entry(LogConfig.COMPRESSION_TYPE, DescribeConfigsResponse.ConfigType.STRING),
            Map.entry(LogConfig.COMPRESSION_GZIP_LEVEL, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.COMPRESSION_LZ4_LEVEL, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.COMPRESSION_ZSTD_LEVEL, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.MIN_COMPACTION_LAG_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.MAX_COMPACTION_LAG_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.SEGMENT_JITTER_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.SEGMENT_INDEX_BYTES, DescribeConfigsResponse.ConfigType.INT),
            Map.entry(LogConfig.PREALLOCATE, DescribeConfigsResponse.ConfigType.BOOLEAN),
            Map.entry(LogConfig.FILE_DELETE_DELAY_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.REMOTE_STORAGE_ENABLE, DescribeConfigsResponse.ConfigType.BOOLEAN),
            Map.entry(LogConfig.LOCAL_RETENTION_MS, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.LOCAL_RETENTION_BYTES, DescribeConfigsResponse.ConfigType.LONG),
            Map.entry(LogConfig.REMOTE_LOG_COPY_DISABLE, DescribeConfigsResponse.ConfigType.BOOLEAN),
            Map.entry(LogConfig.REMOTE_LOG_DELETE_ON_DISABLE, DescribeConfigsResponse.ConfigType.BOOLEAN));
    /** What DescribeConfigs says of the Kafka settings Spate stores but does not act on. */
    static final String STORED_ONLY_DOCUMENTATION = "Accepted and stored for compatibility with Kafka; Spate does not act on it.";

    private final TopicRegistry registry;

    public TopicConfigDescriber(TopicRegistry registry) {
        this.registry = registry;
    }

    /** One described setting. */
    public record Entry(String name, String value, DescribeConfigsResponse.ConfigSource source, DescribeConfigsResponse.ConfigType type) {
    }

    public List<Entry> describe(TopicInfo topic) {
        List<Entry> entries = new ArrayList<>();
        registry.effectiveConfig(topic).forEach((name, value) -> {
            DescribeConfigsResponse.ConfigSource source;
            if (topic.overrides().containsKey(name)) {
                source = DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG;
            } else if (!value.equals(LogConfig.DEFAULTS.get(name))) {
                source = DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG;
            } else {
                source = DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG;
            }
            entries.add(new Entry(name, value, source, TYPES.getOrDefault(name, DescribeConfigsResponse.ConfigType.UNKNOWN)));
        });
        return entries;
    }

    List<CreateTopicsResponseData.CreatableTopicConfigs> creatableConfigs(TopicInfo topic) {
        List<CreateTopicsResponseData.CreatableTopicConfigs> configs = new ArrayList<>();
        for (Entry entry : describe(topic)) {
            configs.add(new CreateTopicsResponseData.CreatableTopicConfigs().setName(entry.name()).setValue(entry.value())
                    .setReadOnly(false).setIsSensitive(false).setConfigSource(entry.source().id()));
        }
        return configs;
    }

    static DescribeConfigsResponseData.DescribeConfigsResourceResult toResult(Entry entry, boolean readOnly, short version) {
        DescribeConfigsResponseData.DescribeConfigsResourceResult result = new DescribeConfigsResponseData.DescribeConfigsResourceResult()
                .setName(entry.name()).setValue(entry.value()).setReadOnly(readOnly).setIsSensitive(false)
                .setConfigSource(entry.source().id());
        if (version >= 3) {
            result.setConfigType(entry.type().id()).setDocumentation(LogConfig.STORED_ONLY.contains(entry.name()) ? STORED_ONLY_DOCUMENTATION : null);
        }
        return result;
    }
}
