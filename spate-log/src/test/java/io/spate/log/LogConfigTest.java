package io.spate.log;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogConfigTest {

    @Test
    void defaultsAreKafkas() {
        LogConfig c = LogConfig.defaultConfig();
        assertThat(c.segmentBytes()).isEqualTo(1_073_741_824L);
        assertThat(c.segmentMs()).isEqualTo(604_800_000L);
        assertThat(c.retentionMs()).isEqualTo(604_800_000L);
        assertThat(c.retentionBytes()).isEqualTo(-1);
        assertThat(c.flushMessages()).isEqualTo(Long.MAX_VALUE);
        assertThat(c.flushMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(c.indexIntervalBytes()).isEqualTo(4096);
        assertThat(c.maxMessageBytes()).isEqualTo(1_048_588);
        assertThat(c.logAppendTime()).isFalse();
        assertThat(c.cleanupPolicy()).isEqualTo("delete");
        assertThat(c.delete()).isTrue();
        assertThat(c.compact()).isFalse();
        assertThat(c.minInsyncReplicas()).isEqualTo(1);
        assertThat(c.flushesEveryMessage()).isFalse();
        assertThat(c.deleteRetentionMs()).isEqualTo(86_400_000L);
        assertThat(c.minCleanableDirtyRatio()).isEqualTo(0.5);
        assertThat(c.timestampAfterMaxMs()).as("Kafka 4.0's default").isEqualTo(3_600_000L);
        assertThat(c.timestampBeforeMaxMs()).isEqualTo(Long.MAX_VALUE);
        assertThat(LogConfig.DEFAULTS).hasSize(34).containsEntry(LogConfig.UNCLEAN_LEADER_ELECTION_ENABLE, "false")
                .as("Spate's own, empty: the usual placement").containsEntry(LogConfig.COLOCATE_WITH, "");
        assertThatThrownBy(() -> LogConfig.DEFAULTS.put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void kafkasOtherTopicSettingsAreTakenAndCheckedAsKafkaChecksThem() {
        assertThatCode(() -> LogConfig.from(Map.of("compression.type", "producer", "min.compaction.lag.ms", "1000",
                "max.compaction.lag.ms", "2000", "segment.jitter.ms", "10", "segment.index.bytes", "4096", "preallocate", "true",
                "compression.zstd.level", "-5", "file.delete.delay.ms", "0", "local.retention.ms", "-2",
                "remote.storage.enable", "false"))).doesNotThrowAnyException();
        assertThat(LogConfig.STORED_ONLY).allSatisfy(key -> assertThat(LogConfig.DEFAULTS).containsKey(key));

        assertThatThrownBy(() -> LogConfig.from(Map.of("compression.type", "gzip"))).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("producer");
        assertThatThrownBy(() -> LogConfig.from(Map.of("remote.storage.enable", "true"))).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("tiered storage");
        assertThatThrownBy(() -> LogConfig.from(Map.of("min.compaction.lag.ms", "5", "max.compaction.lag.ms", "4")))
                .isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> LogConfig.from(Map.of("preallocate", "maybe"))).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> LogConfig.from(Map.of("compression.gzip.level", "0"))).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> LogConfig.from(Map.of("segment.index.bytes", "3"))).isInstanceOf(InvalidConfigException.class);
        assertThatThrownBy(() -> LogConfig.from(Map.of("message.format.version", "3.0"))).as("removed in Kafka 4.0")
                .isInstanceOf(InvalidConfigException.class);
    }

    @Test
    void aSettingWithoutAValueIsInvalidNotAnError() {
        Map<String, String> noValue = new java.util.HashMap<>();
        noValue.put("retention.ms", null);
        assertThatThrownBy(() -> LogConfig.from(noValue)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("retention.ms");
    }

    @Test
    void dirtyRatioMustBeBetweenZeroAndOne() {
        assertThat(LogConfig.from(Map.of(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "0.01")).minCleanableDirtyRatio()).isEqualTo(0.01);
        assertThatThrownBy(() -> LogConfig.from(Map.of(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "1.5")))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining(LogConfig.MIN_CLEANABLE_DIRTY_RATIO);
        assertThatThrownBy(() -> LogConfig.from(Map.of(LogConfig.MIN_CLEANABLE_DIRTY_RATIO, "half")))
                .isInstanceOf(InvalidConfigException.class);
    }

    @Test
    void overridesApply() {
        LogConfig c = LogConfig.from(Map.of(
                LogConfig.SEGMENT_BYTES, "2048",
                LogConfig.RETENTION_MS, "-1",
                LogConfig.RETENTION_BYTES, "1000",
                LogConfig.FLUSH_MESSAGES, "1",
                LogConfig.FLUSH_MS, "0",
                LogConfig.MESSAGE_TIMESTAMP_TYPE, "LogAppendTime",
                LogConfig.CLEANUP_POLICY, "compact,delete",
                LogConfig.MIN_INSYNC_REPLICAS, "2",
                LogConfig.MAX_MESSAGE_BYTES, " 500 "));
        assertThat(c.segmentBytes()).isEqualTo(2048);
        assertThat(c.retentionMs()).isEqualTo(-1);
        assertThat(c.retentionBytes()).isEqualTo(1000);
        assertThat(c.flushesEveryMessage()).isTrue();
        assertThat(c.flushMs()).isZero();
        assertThat(c.logAppendTime()).isTrue();
        assertThat(c.compact()).isTrue();
        assertThat(c.delete()).isTrue();
        assertThat(c.minInsyncReplicas()).isEqualTo(2);
        assertThat(c.maxMessageBytes()).isEqualTo(500);
    }

    @Test
    void cleanupPolicyIsCaseInsensitive() {
        LogConfig c = LogConfig.from(Map.of(LogConfig.CLEANUP_POLICY, "Compact"));
        assertThat(c.compact()).isTrue();
        assertThat(c.delete()).isFalse();
    }

    @Test
    void unknownNamesAreRejected() {
        assertThatThrownBy(() -> LogConfig.from(Map.of("segment.byte", "1024")))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("unknown topic config 'segment.byte'");
        assertThatThrownBy(() -> LogConfig.validate("retention.hours", "1"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("retention.hours");
    }

    @Test
    void nonNumbersAreRejected() {
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.SEGMENT_BYTES, "1GB"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("segment.bytes must be a whole number, not '1GB'");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.RETENTION_MS, "1.5"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("retention.ms must be a whole number");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.FLUSH_MS, ""))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("flush.ms");
    }

    @Test
    void valuesBelowTheMinimumAreRejected() {
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.SEGMENT_BYTES, "1023"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("segment.bytes must be at least 1024, not 1023");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.SEGMENT_MS, "0"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("segment.ms must be at least 1");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.RETENTION_MS, "-2"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("retention.ms must be at least -1");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.RETENTION_BYTES, "-5"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("retention.bytes");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.FLUSH_MESSAGES, "0"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("flush.messages must be at least 1");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.FLUSH_MS, "-1"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("flush.ms must be at least 0");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.MIN_INSYNC_REPLICAS, "0"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("min.insync.replicas");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.MAX_MESSAGE_BYTES, "-1"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("max.message.bytes");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.INDEX_INTERVAL_BYTES, "-1"))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("index.interval.bytes");
    }

    @Test
    void badEnumValuesAreRejected() {
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.MESSAGE_TIMESTAMP_TYPE, "createtime"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("message.timestamp.type must be CreateTime or LogAppendTime, not 'createtime'");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.CLEANUP_POLICY, "delete,archive"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("cleanup.policy must be delete, compact or both");
        assertThatThrownBy(() -> LogConfig.validate(LogConfig.CLEANUP_POLICY, ""))
                .isInstanceOf(InvalidConfigException.class);
    }

    @Test
    void validValuesPassValidation() {
        assertThatCode(() -> {
            LogConfig.validate(LogConfig.SEGMENT_BYTES, "1024");
            LogConfig.validate(LogConfig.RETENTION_BYTES, "-1");
            LogConfig.validate(LogConfig.FLUSH_MESSAGES, String.valueOf(Long.MAX_VALUE));
            LogConfig.validate(LogConfig.CLEANUP_POLICY, "delete, compact");
            LogConfig.validate(LogConfig.MESSAGE_TIMESTAMP_TYPE, "CreateTime");
        }).doesNotThrowAnyException();
    }
}
