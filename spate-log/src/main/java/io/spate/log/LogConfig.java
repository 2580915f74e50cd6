package io.spate.log;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The per-topic settings the log obeys, under Kafka's topic-level names.
 *
 * <p>Durability is chosen with Kafka's two flush settings:
 * <ul>
 *   <li>{@code flush.messages=1}: every produce waits for an fsync before it is acknowledged;
 *       concurrent producers share one fsync (group commit).</li>
 *   <li>{@code flush.messages=N}: a produce that leaves N or more messages unflushed waits for
 *       an fsync, so at most N-1 acknowledged messages can be lost on power loss.</li>
 *   <li>{@code flush.ms=M}: a background flusher fsyncs every log at least every M ms.</li>
 *   <li>neither (the default, as in Kafka): the OS page cache decides; a process crash loses
 *       nothing, a machine crash can lose the unflushed tail.</li>
 * </ul>
 */
public record LogConfig(
        long segmentBytes,
        long segmentMs,
        long retentionMs,
        long retentionBytes,
        long flushMessages,
        long flushMs,
        int indexIntervalBytes,
        int maxMessageBytes,
        boolean logAppendTime,
        String cleanupPolicy,
        int minInsyncReplicas,
        long deleteRetentionMs,
        double minCleanableDirtyRatio,
        long timestampBeforeMaxMs,
        long timestampAfterMaxMs) {

    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String FLUSH_MESSAGES = "flush.messages";
    public static final String FLUSH_MS = "flush.ms";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";
    /** How far before the broker's clock a CreateTime timestamp may be (INVALID_TIMESTAMP beyond). */
    public static final String MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";
    /** How far after the broker's clock a CreateTime timestamp may be (Kafka 4.0's default: one hour). */
    public static final String MESSAGE_TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    /** Read by the controller, not the log: may an out-of-sync replica lead when no in-sync one is alive? */
    public static final String UNCLEAN_LEADER_ELECTION_ENABLE = "unclean.leader.election.enable";

    /**
     * Spate stores batches as producers compressed them: {@code producer} is the only value it
     * takes (Kafka's default); recompressing to one codec is not done.
     */
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String COMPRESSION_GZIP_LEVEL = "compression.gzip.level";
    public static final String COMPRESSION_LZ4_LEVEL = "compression.lz4.level";
    public static final String COMPRESSION_ZSTD_LEVEL = "compression.zstd.level";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MAX_COMPACTION_LAG_MS = "max.compaction.lag.ms";
    public static final String SEGMENT_JITTER_MS = "segment.jitter.ms";
    public static final String SEGMENT_INDEX_BYTES = "segment.index.bytes";
    public static final String PREALLOCATE = "preallocate";
    public static final String FILE_DELETE_DELAY_MS = "file.delete.delay.ms";
    /** Tiered storage (KIP-405): Spate has none, so only {@code false} is taken, as a Kafka broker without it answers. */
    public static final String REMOTE_STORAGE_ENABLE = "remote.storage.enable";
    public static final String LOCAL_RETENTION_MS = "local.retention.ms";
    public static final String LOCAL_RETENTION_BYTES = "local.retention.bytes";
    public static final String REMOTE_LOG_COPY_DISABLE = "remote.log.copy.disable";
    public static final String REMOTE_LOG_DELETE_ON_DISABLE = "remote.log.delete.on.disable";

    /**
     * Kafka topic settings that Spate accepts, validates and stores (tools and clients set them,
     * and a topic copied from Kafka carries them) but does not act on.
     */
    public static final java.util.Set<String> STORED_ONLY = java.util.Set.of(COMPRESSION_GZIP_LEVEL, COMPRESSION_LZ4_LEVEL,
            COMPRESSION_ZSTD_LEVEL, MIN_COMPACTION_LAG_MS, MAX_COMPACTION_LAG_MS, SEGMENT_JITTER_MS, SEGMENT_INDEX_BYTES, PREALLOCATE,
            FILE_DELETE_DELAY_MS, LOCAL_RETENTION_MS, LOCAL_RETENTION_BYTES, REMOTE_LOG_COPY_DISABLE, REMOTE_LOG_DELETE_ON_DISABLE);

    /**
     * Spate's own: place this topic's partition p on the replicas of partition p of the named topic,
     * led by the same node (a pipeline's internal topics next to its input). A placement hint read
     * once, at creation; empty: the usual spread.
     */
    public static final String COLOCATE_WITH = "spate.colocate.with";
    /** Kafka's replication throttles (KIP-73): which replicas the nodes' throttled rates apply to ({@code *} or partition:node,...). */
    public static final String LEADER_REPLICATION_THROTTLED_REPLICAS = "leader.replication.throttled.replicas";
    public static final String FOLLOWER_REPLICATION_THROTTLED_REPLICAS = "follower.replication.throttled.replicas";
    private static final java.util.regex.Pattern THROTTLED_REPLICAS =
            java.util.regex.Pattern.compile("\\s*(\\*|\\d+\\s*:\\s*\\d+(\\s*,\\s*\\d+\\s*:\\s*\\d+)*)?\\s*");
    /** Kafka's defaults for each topic-level setting, as strings, in a stable order. */
    public static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new java.util.LinkedHashMap<>();
        d.put(CLEANUP_POLICY, "delete");
        d.put(DELETE_RETENTION_MS, "86400000");
        d.put(FLUSH_MESSAGES, String.valueOf(Long.MAX_VALUE));
        d.put(FLUSH_MS, String.valueOf(Long.MAX_VALUE));
        d.put(INDEX_INTERVAL_BYTES, "4096");
        d.put(MAX_MESSAGE_BYTES, "1048588");
        d.put(MESSAGE_TIMESTAMP_TYPE, "CreateTime");
        d.put(MESSAGE_TIMESTAMP_AFTER_MAX_MS, "3600000");
        d.put(MESSAGE_TIMESTAMP_BEFORE_MAX_MS, String.valueOf(Long.MAX_VALUE));
        d.put(MIN_CLEANABLE_DIRTY_RATIO, "0.5");
        d.put(MIN_INSYNC_REPLICAS, "1");
        d.put(RETENTION_BYTES, "-1");
        d.put(RETENTION_MS, "604800000");
        d.put(SEGMENT_BYTES, "1073741824");
        d.put(SEGMENT_MS, "604800000");
        d.put(UNCLEAN_LEADER_ELECTION_ENABLE, "false");
        d.put(COLOCATE_WITH, "");
        d.put(LEADER_REPLICATION_THROTTLED_REPLICAS, "");
        d.put(FOLLOWER_REPLICATION_THROTTLED_REPLICAS, "");
        d.put(COMPRESSION_TYPE, "producer");
        d.put(COMPRESSION_GZIP_LEVEL, "-1");
        d.put(COMPRESSION_LZ4_LEVEL, "9");
        d.put(COMPRESSION_ZSTD_LEVEL, "3");
        d.put(MIN_COMPACTION_LAG_MS, "0");
        d.put(MAX_COMPACTION_LAG_MS, String.valueOf(Long.MAX_VALUE));
        d.put(SEGMENT_JITTER_MS, "0");
        d.put(SEGMENT_INDEX_BYTES, "10485760");
        d.put(PREALLOCATE, "false");
        d.put(FILE_DELETE_DELAY_MS, "60000");
        d.put(REMOTE_STORAGE_ENABLE, "false");
        d.put(LOCAL_RETENTION_MS, "-2");
        d.put(LOCAL_RETENTION_BYTES, "-2");
        d.put(REMOTE_LOG_COPY_DISABLE, "false");
        d.put(REMOTE_LOG_DELETE_ON_DISABLE, "false");
        return java.util.Collections.unmodifiableMap(d);
    }

    public static LogConfig defaultConfig() {
        return from(Map.of());
    }

    /** Builds a config from {@code overrides} on top of {@link #DEFAULTS}; rejects unknown names and bad values. */
    public static LogConfig from(Map<String, String> overrides) {
        Map<String, String> all = new HashMap<>(DEFAULTS);
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!DEFAULTS.containsKey(e.getKey())) {
                throw new InvalidConfigException("unknown topic config '" + e.getKey() + "'");
            }
            if (e.getValue() == null) {
                throw new InvalidConfigException("topic config '" + e.getKey() + "' is given no value");
            }
            all.put(e.getKey(), e.getValue());
        }
        validateStoredOnly(all);
        String tsType = all.get(MESSAGE_TIMESTAMP_TYPE);
        if (!tsType.equals("CreateTime") && !tsType.equals("LogAppendTime")) {
            throw new InvalidConfigException(MESSAGE_TIMESTAMP_TYPE + " must be CreateTime or LogAppendTime, not '" + tsType + "'");
        }
        String unclean = all.get(UNCLEAN_LEADER_ELECTION_ENABLE);
        if (!unclean.equals("true") && !unclean.equals("false")) {
            throw new InvalidConfigException(UNCLEAN_LEADER_ELECTION_ENABLE + " must be true or false, not '" + unclean + "'");
        }
        for (String key : new String[] {LEADER_REPLICATION_THROTTLED_REPLICAS, FOLLOWER_REPLICATION_THROTTLED_REPLICAS}) {
            if (!THROTTLED_REPLICAS.matcher(all.get(key)).matches()) {
                throw new InvalidConfigException(key + " must be '*' or a list of partition:node, not '" + all.get(key) + "'");
            }
        }
        String cleanup = all.get(CLEANUP_POLICY).toLowerCase(Locale.ROOT);
        for (String p : cleanup.split(",")) {
            if (!p.trim().equals("delete") && !p.trim().equals("compact")) {
                throw new InvalidConfigException(CLEANUP_POLICY + " must be delete, compact or both, not '" + cleanup + "'");
            }
        }
        return new LogConfig(
                positive(all, SEGMENT_BYTES, 1024),
                positive(all, SEGMENT_MS, 1),
                atLeast(all, RETENTION_MS, -1),
                atLeast(all, RETENTION_BYTES, -1),
                positive(all, FLUSH_MESSAGES, 1),
                atLeast(all, FLUSH_MS, 0),
                (int) Math.min(Integer.MAX_VALUE, atLeast(all, INDEX_INTERVAL_BYTES, 0)),
                (int) Math.min(Integer.MAX_VALUE, atLeast(all, MAX_MESSAGE_BYTES, 0)),
                tsType.equals("LogAppendTime"),
                cleanup,
                (int) Math.min(Integer.MAX_VALUE, positive(all, MIN_INSYNC_REPLICAS, 1)),
                atLeast(all, DELETE_RETENTION_MS, 0),
                ratio(all, MIN_CLEANABLE_DIRTY_RATIO),
                atLeast(all, MESSAGE_TIMESTAMP_BEFORE_MAX_MS, 0),
                atLeast(all, MESSAGE_TIMESTAMP_AFTER_MAX_MS, 0));
    }

    /**
     * The settings Spate stores without acting on, and the two it takes one value of, checked as
     * Kafka checks them, so that what a Kafka broker refuses is refused here too.
     */
    private static void validateStoredOnly(Map<String, String> all) {
        String compression = all.get(COMPRESSION_TYPE).trim().toLowerCase(Locale.ROOT);
        if (!compression.equals("producer")) {
            throw new InvalidConfigException(COMPRESSION_TYPE + " must be 'producer': Spate keeps batches as producers compressed them"
                    + " and does not recompress to '" + all.get(COMPRESSION_TYPE) + "' (set the codec on the producers instead)");
        }
        if (!all.get(REMOTE_STORAGE_ENABLE).trim().equals("false")) {
            throw new InvalidConfigException(REMOTE_STORAGE_ENABLE + " must be false: Spate has no tiered storage");
        }
        long gzip = atLeast(all, COMPRESSION_GZIP_LEVEL, -1);
        if (gzip == 0 || gzip > 9) {
            throw new InvalidConfigException(COMPRESSION_GZIP_LEVEL + " must be -1 or between 1 and 9, not " + gzip);
        }
        atMost(all, COMPRESSION_LZ4_LEVEL, 1, 17);
        atMost(all, COMPRESSION_ZSTD_LEVEL, -131072, 22);
        long minLag = atLeast(all, MIN_COMPACTION_LAG_MS, 0);
        long maxLag = atLeast(all, MAX_COMPACTION_LAG_MS, 1);
        if (minLag > maxLag) {
            throw new InvalidConfigException(MIN_COMPACTION_LAG_MS + " (" + minLag + ") must not be above " + MAX_COMPACTION_LAG_MS
                    + " (" + maxLag + ")");
        }
        atLeast(all, SEGMENT_JITTER_MS, 0);
        atMost(all, SEGMENT_INDEX_BYTES, 4, Integer.MAX_VALUE);
        atLeast(all, FILE_DELETE_DELAY_MS, 0);
        atLeast(all, LOCAL_RETENTION_MS, -2);
        atLeast(all, LOCAL_RETENTION_BYTES, -2);
        for (String key : new String[] {PREALLOCATE, REMOTE_LOG_COPY_DISABLE, REMOTE_LOG_DELETE_ON_DISABLE}) {
            String value = all.get(key).trim().toLowerCase(Locale.ROOT);
            if (!value.equals("true") && !value.equals("false")) {
                throw new InvalidConfigException(key + " must be true or false, not '" + all.get(key) + "'");
            }
        }
    }

    private static long atMost(Map<String, String> all, String name, long min, long max) {
        long value = atLeast(all, name, min);
        if (value > max) {
            throw new InvalidConfigException(name + " must be at most " + max + ", not " + value);
        }
        return value;
    }

    /** Validates one topic-level setting, as an AlterConfigs request would. */
    public static void validate(String name, String value) {
        from(Map.of(name, value));
    }

    public boolean flushesEveryMessage() {
        return flushMessages == 1;
    }

    public boolean compact() {
        return cleanupPolicy.contains("compact");
    }

    public boolean delete() {
        return cleanupPolicy.contains("delete");
    }

    private static double ratio(Map<String, String> all, String name) {
        String raw = all.get(name).trim();
        double value;
        try {
            value = Double.parseDouble(raw);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(name + " must be a number between 0 and 1, not '" + raw + "'");
        }
        if (!(value >= 0 && value <= 1)) {
            throw new InvalidConfigException(name + " must be between 0 and 1, not " + raw);
        }
        return value;
    }

    private static long positive(Map<String, String> all, String name, long min) {
        return atLeast(all, name, min);
    }

    private static long atLeast(Map<String, String> all, String name, long min) {
        String raw = all.get(name).trim();
        long value;
        try {
            value = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(name + " must be a whole number, not '" + raw + "'");
        }
        if (value < min) {
            throw new InvalidConfigException(name + " must be at least " + min + ", not " + value);
        }
        return value;
    }
}
