package io.spate.broker;

import io.spate.log.InvalidConfigException;
import io.spate.log.LogConfig;
import io.spate.server.ServerConfig;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A node's settings, under Kafka's broker names where the meaning is the same. Every value is
 * checked at start-up; an unknown name or a bad value stops the node with a message naming it.
 *
 * <p>Broker-level log settings ({@code log.segment.bytes}, {@code log.retention.ms}, ...) are the
 * defaults of the topic-level ones ({@code segment.bytes}, {@code retention.ms}, ...), as in Kafka.
 */
public final class SpateConfig {
    public static final String NODE_ID = "node.id";
    public static final String HOST = "host";
    public static final String PORT = "port";
    public static final String LISTENERS = "listeners";
    public static final String LOG_DIRS = "log.dirs";
    public static final String LOG_DIR = "log.dir";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String AUTO_CREATE_TOPICS = "auto.create.topics.enable";
    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String NUM_IO_THREADS = "num.io.threads";
    /** The Kafka listener's socket layer: auto (epoll where it loads), epoll or nio. */
    public static final String NETWORK_TRANSPORT = "network.transport";
    public static final String RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String OFFSETS_TOPIC_PARTITIONS = "offsets.topic.num.partitions";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";
    public static final String LOG_CLEANER_ENABLE = "log.cleaner.enable";
    public static final String LOG_CLEANER_BACKOFF_MS = "log.cleaner.backoff.ms";
    public static final String LOG_CLEANER_DEDUPE_BUFFER_SIZE = "log.cleaner.dedupe.buffer.size";
    public static final String CONTROLLER_QUORUM_VOTERS = "controller.quorum.voters";
    public static final String BROKER_HEARTBEAT_INTERVAL_MS = "broker.heartbeat.interval.ms";
    public static final String BROKER_SESSION_TIMEOUT_MS = "broker.session.timeout.ms";
    public static final String CONTROLLER_ELECTION_TIMEOUT_MS = "controller.quorum.election.timeout.ms";
    public static final String REPLICA_LAG_TIME_MAX_MS = "replica.lag.time.max.ms";
    public static final String REPLICA_FETCH_WAIT_MAX_MS = "replica.fetch.wait.max.ms";
    public static final String REPLICA_SOCKET_TIMEOUT_MS = "replica.socket.timeout.ms";
    public static final String AUTO_LEADER_REBALANCE = "auto.leader.rebalance.enable";
    public static final String LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS = "leader.imbalance.check.interval.seconds";
    /** Redpanda's names: {@code node_add} moves partitions onto a node that joins empty; {@code off} leaves moves to operators. */
    public static final String PARTITION_AUTOBALANCING_MODE = "partition.autobalancing.mode";
    public static final String PARTITION_AUTOBALANCING_CONCURRENT_MOVES = "partition.autobalancing.concurrent.moves";
    /** With mode {@code continuous}: how long a node may stay unavailable before its replicas move to the live nodes (Redpanda's name). */
    public static final String PARTITION_AUTOBALANCING_NODE_AVAILABILITY_TIMEOUT_SEC = "partition.autobalancing.node.availability.timeout.sec";
    public static final String OFFSETS_TOPIC_REPLICATION_FACTOR = "offsets.topic.replication.factor";
    public static final String BROKER_RACK = "broker.rack";
    public static final String CLUSTER_SECRET = "cluster.secret";
    public static final String QUEUED_MAX_REQUEST_BYTES = "queued.max.request.bytes";
    public static final String MAX_CONNECTIONS = "max.connections";
    public static final String MAX_CONNECTIONS_PER_IP = "max.connections.per.ip";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";
    public static final String PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = "producer.id.expiration.check.interval.ms";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String TRANSACTION_STATE_PARTITIONS = "transaction.state.log.num.partitions";
    public static final String TRANSACTION_STATE_REPLICATION_FACTOR = "transaction.state.log.replication.factor";
    public static final String TRANSACTION_STATE_MIN_ISR = "transaction.state.log.min.isr";
    public static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    public static final String TRANSACTION_ABORT_CHECK_INTERVAL_MS = "transaction.abort.timed.out.transaction.cleanup.interval.ms";
    public static final String TRANSACTIONAL_ID_EXPIRATION_MS = "transactional.id.expiration.ms";
    public static final String TRANSACTION_PARTITION_VERIFICATION_ENABLE = "transaction.partition.verification.enable";
    public static final String HTTP_PORT = "http.port";
    public static final String TABLES_PORT = "tables.port";
    public static final String TABLES_MAX_VALUE_BYTES = "tables.max.value.bytes";
    public static final String TABLES_REQUEST_TIMEOUT_MS = "tables.request.timeout.ms";
    public static final String TABLES_BLOCK_CACHE_BYTES = "tables.block.cache.bytes";
    public static final String HTTP_MAX_BODY_BYTES = "http.max.body.bytes";
    public static final String HTTP_MAX_IN_FLIGHT_BYTES = "http.max.in.flight.bytes";
    public static final String HTTP_CONSUMER_INSTANCE_TIMEOUT_MS = "http.consumer.instance.timeout.ms";
    public static final String HTTP_CONSUMER_MAX_INSTANCES = "http.consumer.max.instances";
    /** The host that binds every interface: {@code listeners=PLAINTEXT://:9092}, as in Kafka. */
    public static final String EVERY_INTERFACE = "0.0.0.0";

    /** Broker-level name of each topic-level log setting. */
    private static final Map<String, String> BROKER_TO_TOPIC = Map.ofEntries(
            Map.entry("log.segment.bytes", LogConfig.SEGMENT_BYTES),
            Map.entry("log.roll.ms", LogConfig.SEGMENT_MS),
            Map.entry("log.retention.ms", LogConfig.RETENTION_MS),
            Map.entry("log.retention.bytes", LogConfig.RETENTION_BYTES),
            Map.entry("log.flush.interval.messages", LogConfig.FLUSH_MESSAGES),
            Map.entry("log.flush.interval.ms", LogConfig.FLUSH_MS),
            Map.entry("log.index.interval.bytes", LogConfig.INDEX_INTERVAL_BYTES),
            Map.entry("message.max.bytes", LogConfig.MAX_MESSAGE_BYTES),
            Map.entry("log.message.timestamp.type", LogConfig.MESSAGE_TIMESTAMP_TYPE),
            Map.entry("log.message.timestamp.before.max.ms", LogConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS),
            Map.entry("log.message.timestamp.after.max.ms", LogConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS),
            Map.entry("log.cleanup.policy", LogConfig.CLEANUP_POLICY),
            Map.entry("min.insync.replicas", LogConfig.MIN_INSYNC_REPLICAS),
            Map.entry("log.cleaner.delete.retention.ms", LogConfig.DELETE_RETENTION_MS),
            Map.entry("log.cleaner.min.cleanable.ratio", LogConfig.MIN_CLEANABLE_DIRTY_RATIO));
    private static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(NODE_ID, "1");
        d.put(HOST, "127.0.0.1");
        d.put(PORT, "9092");
        d.put(LOG_DIRS, "./spate-data");
        d.put(NUM_PARTITIONS, "1");
        d.put(DEFAULT_REPLICATION_FACTOR, "1");
        d.put(AUTO_CREATE_TOPICS, "true");
        d.put(SOCKET_REQUEST_MAX_BYTES, "104857600");
        d.put(NUM_IO_THREADS, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
        d.put(NETWORK_TRANSPORT, io.spate.server.network.Transport.AUTO);
        d.put(RETENTION_CHECK_INTERVAL_MS, "300000");
        d.put(GROUP_MIN_SESSION_TIMEOUT_MS, "6000");
        d.put(GROUP_MAX_SESSION_TIMEOUT_MS, "1800000");
        d.put(GROUP_INITIAL_REBALANCE_DELAY_MS, "3000");
        d.put(OFFSETS_TOPIC_PARTITIONS, "50");
        d.put(OFFSET_METADATA_MAX_BYTES, "4096");
        d.put(LOG_CLEANER_ENABLE, "true");
        d.put(LOG_CLEANER_BACKOFF_MS, "15000");
        // Bytes of keys the cleaner maps per pass (Kafka's name; its default is 128 MB shared by
        // its cleaner threads). A log with more distinct keys is compacted in several passes.
        d.put(LOG_CLEANER_DEDUPE_BUFFER_SIZE, String.valueOf(32L << 20));
        // Empty: a standalone node. Otherwise the Ratis voters, id@host:port, this node among them or not.
        d.put(CONTROLLER_QUORUM_VOTERS, "");
        // Kafka's defaults (2 s and 9 s) leave partitions leaderless for ~9 s after a crash; these
        // bring a new leader within ~1.5 s at the cost of a heartbeat every 200 ms per node.
        d.put(BROKER_HEARTBEAT_INTERVAL_MS, "200");
        d.put(BROKER_SESSION_TIMEOUT_MS, "1000");
        d.put(CONTROLLER_ELECTION_TIMEOUT_MS, "300");
        d.put(REPLICA_LAG_TIME_MAX_MS, "10000");
        d.put(REPLICA_FETCH_WAIT_MAX_MS, "500");
        // How long a follower waits for any answer from its leader before it drops the connection
        // (a half-open one after a leader froze or its host vanished) and dials again. Kafka's 30 s
        // also covers a fetch lost in a network partition: TCP then retransmits at growing intervals
        // (several seconds after a 15 s loss), and the follower sat out that backoff after the heal
        // (fault campaigns, seed 2014). Well below replica.lag.time.max.ms, so a follower whose
        // fetch was lost reconnects before it is dropped from the in-sync set.
        d.put(REPLICA_SOCKET_TIMEOUT_MS, "5000");
        d.put(AUTO_LEADER_REBALANCE, "true");
        d.put(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS, "30");
        d.put(PARTITION_AUTOBALANCING_MODE, "node_add");
        d.put(PARTITION_AUTOBALANCING_CONCURRENT_MOVES, "10");
        d.put(PARTITION_AUTOBALANCING_NODE_AVAILABILITY_TIMEOUT_SEC, "900");
        d.put(OFFSETS_TOPIC_REPLICATION_FACTOR, "3");
        // Set on nodes (and client.rack on consumers) to let consumers read from a follower in their rack.
        d.put(BROKER_RACK, "");
        // Shared by every node of a cluster: signs node-to-node requests. Empty: derived from controller.quorum.voters.
        d.put(CLUSTER_SECRET, "");
        // Bounds on what clients can make a node hold; Kafka's names and defaults (-1: request memory unbounded).
        d.put(QUEUED_MAX_REQUEST_BYTES, "-1");
        d.put(MAX_CONNECTIONS, String.valueOf(Integer.MAX_VALUE));
        d.put(MAX_CONNECTIONS_PER_IP, String.valueOf(Integer.MAX_VALUE));
        // A client connection with no request in flight and no bytes either way for this long is closed (Kafka's default).
        d.put(CONNECTIONS_MAX_IDLE_MS, "600000");
        d.put(PRODUCER_ID_EXPIRATION_MS, "86400000");
        d.put(PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, "600000");
        d.put(OFFSETS_RETENTION_MINUTES, "10080");
        d.put(OFFSETS_RETENTION_CHECK_INTERVAL_MS, "600000");
        d.put(TRANSACTION_STATE_PARTITIONS, "50");
        d.put(TRANSACTION_STATE_REPLICATION_FACTOR, "3");
        d.put(TRANSACTION_STATE_MIN_ISR, "2");
        d.put(TRANSACTION_MAX_TIMEOUT_MS, "900000");
        d.put(TRANSACTION_ABORT_CHECK_INTERVAL_MS, "10000");
        d.put(TRANSACTIONAL_ID_EXPIRATION_MS, "604800000");
        d.put(TRANSACTION_PARTITION_VERIFICATION_ENABLE, "true");
        // The HTTP API (spate-http): -1 serves none (an embedded node); `spate start` asks for 8082.
        d.put(HTTP_PORT, "-1");
        d.put(HTTP_MAX_BODY_BYTES, String.valueOf(8 << 20));
        d.put(HTTP_MAX_IN_FLIGHT_BYTES, String.valueOf(64L << 20));
        // REST Proxy v2 consumer instances: closed after this long unused (Confluent's default), at most this many per node.
        d.put(HTTP_CONSUMER_INSTANCE_TIMEOUT_MS, "300000");
        d.put(HTTP_CONSUMER_MAX_INSTANCES, "100");
        // The masterless tables (spate-tables): the port other nodes send table messages to (0: a free
        // one, advertised in the node's registration), the largest value, a coordinator's wait for replicas.
        d.put(TABLES_PORT, "0");
        d.put(TABLES_MAX_VALUE_BYTES, String.valueOf(1 << 20));
        d.put(TABLES_REQUEST_TIMEOUT_MS, "2000");
        // RocksDB's block cache, shared by the node's table stores, off the Java heap (Cassandra's
        // chunk cache is a quarter of its heap, at most 512 MiB).
        d.put(TABLES_BLOCK_CACHE_BYTES, String.valueOf(256L << 20));
        return d;
    }

    private final Map<String, String> values;
    /** Looked up once: what a node bound to every interface tells clients and other nodes to dial. */
    private volatile String advertisedWildcardHost;

    private SpateConfig(Map<String, String> values) {
        this.values = values;
    }

    /** Reads a properties file; names and values are checked by {@link #from}. */
    public static Map<String, String> readFile(Path file) {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (IOException e) {
            throw new InvalidConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        // Sorted, so the first bad setting reported is the same on every run.
        Map<String, String> map = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k).trim()));
        return map;
    }

    /**
     * Settings from several sources, each later one winning setting by setting: a source that
     * names any of a setting's aliases (log.retention.hours for log.retention.ms) replaces what
     * earlier ones said of that setting under any of its names.
     */
    public static SpateConfig from(List<Map<String, String>> sources) {
        return from(SettingAliases.overlay(sources));
    }

    /** Validates {@code settings} (broker names, or topic-level defaults under broker names). */
    public static SpateConfig from(Map<String, String> given) {
        Map<String, String> settings = SettingAliases.resolve(given);
        Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String name = e.getKey();
            if (DEFAULTS.containsKey(name) || BROKER_TO_TOPIC.containsKey(name)) {
                values.put(name, e.getValue());
            } else {
                Set<String> known = new TreeSet<>(DEFAULTS.keySet());
                known.addAll(BROKER_TO_TOPIC.keySet());
                known.addAll(SettingAliases.ALIASES);
                throw new InvalidConfigException("unknown setting '" + name + "'; Spate understands: " + String.join(", ", known));
            }
        }
        String voters = values.get(CONTROLLER_QUORUM_VOTERS).trim();
        if (!settings.containsKey(OFFSETS_TOPIC_REPLICATION_FACTOR) && voters.isEmpty()) {
            values.put(OFFSETS_TOPIC_REPLICATION_FACTOR, "1"); // a standalone node holds the only replica
        } else if (!settings.containsKey(OFFSETS_TOPIC_REPLICATION_FACTOR)) {
            // A one- or two-voter cluster gets an offsets topic it can create; the factor is never
            // lowered later for nodes that happen to be down (the topic then waits for them).
            int voterCount = voters.split(",").length;
            values.put(OFFSETS_TOPIC_REPLICATION_FACTOR, String.valueOf(Math.min(3, voterCount)));
        }
        if (!settings.containsKey(TRANSACTION_STATE_REPLICATION_FACTOR)) {
            // As the offsets topic: one replica alone, at most three in a cluster, never more than its voters.
            values.put(TRANSACTION_STATE_REPLICATION_FACTOR, values.get(OFFSETS_TOPIC_REPLICATION_FACTOR));
        }
        SpateConfig config = new SpateConfig(values);
        config.validate();
        return config;
    }

    private void validate() {
        nodeId();
        String dirs = values.get(LOG_DIRS);
        if (dirs.isBlank()) {
            // Path.of("") is the working directory: the logs would land wherever the node was started.
            throw new InvalidConfigException(LOG_DIRS + " (--data-dir) is empty; name the directory for the node's data");
        }
        if (dirs.contains(",")) {
            throw new InvalidConfigException(LOG_DIRS + " names several directories ('" + dirs + "'); a Spate node keeps its data in one");
        }
        if (values.get(HOST).isBlank()) {
            throw new InvalidConfigException(HOST + " is empty; use " + EVERY_INTERFACE + " to listen on every interface");
        }
        int port = intValue(PORT);
        if (port < 0 || port > 65535) {
            throw new InvalidConfigException("port must be between 0 and 65535, not " + port);
        }
        int httpPort = intValue(HTTP_PORT);
        if (httpPort < -1 || httpPort > 65535) {
            throw new InvalidConfigException(HTTP_PORT + " must be between 0 and 65535, or -1 for no HTTP, not " + httpPort);
        }
        int tablesPort = intValue(TABLES_PORT);
        if (tablesPort < 0 || tablesPort > 65535) {
            throw new InvalidConfigException(TABLES_PORT + " must be between 0 and 65535, not " + tablesPort);
        }
        if (parseLong(TABLES_BLOCK_CACHE_BYTES, values.get(TABLES_BLOCK_CACHE_BYTES)) < 1) {
            throw new InvalidConfigException(TABLES_BLOCK_CACHE_BYTES + " must be positive");
        }
        if (intValue(TABLES_MAX_VALUE_BYTES) < 1 || intValue(TABLES_REQUEST_TIMEOUT_MS) < 1) {
            throw new InvalidConfigException(TABLES_MAX_VALUE_BYTES + " and " + TABLES_REQUEST_TIMEOUT_MS + " must be positive");
        }
        if (intValue(TABLES_MAX_VALUE_BYTES) > io.spate.tables.service.TableService.MAX_VALUE_BYTES_LIMIT) {
            // A replica's copy of a larger value would not fit the tables' network frame: every such write would time out.
            throw new InvalidConfigException(TABLES_MAX_VALUE_BYTES + " must be at most "
                    + io.spate.tables.service.TableService.MAX_VALUE_BYTES_LIMIT + " (the tables' network frame less room for the key)");
        }
        if (httpMaxBodyBytes() < 1 || httpMaxBodyBytes() > httpMaxInFlightBytes()) {
            throw new InvalidConfigException(HTTP_MAX_BODY_BYTES + " must be at least 1 and at most " + HTTP_MAX_IN_FLIGHT_BYTES);
        }
        if (httpConsumerInstanceTimeoutMs() < 1) {
            throw new InvalidConfigException(HTTP_CONSUMER_INSTANCE_TIMEOUT_MS + " must be at least 1");
        }
        if (httpConsumerMaxInstances() < 0) {
            throw new InvalidConfigException(HTTP_CONSUMER_MAX_INSTANCES + " must not be negative");
        }
        if (numPartitions() < 1) {
            throw new InvalidConfigException(NUM_PARTITIONS + " must be at least 1");
        }
        if (intValue(DEFAULT_REPLICATION_FACTOR) < 1) {
            throw new InvalidConfigException(DEFAULT_REPLICATION_FACTOR + " must be at least 1");
        }
        if (!clustered() && intValue(DEFAULT_REPLICATION_FACTOR) != 1) {
            throw new InvalidConfigException(DEFAULT_REPLICATION_FACTOR + " must be 1 on a standalone node (no " + CONTROLLER_QUORUM_VOTERS + ")");
        }
        if (!clustered() && intValue(OFFSETS_TOPIC_REPLICATION_FACTOR) != 1) {
            throw new InvalidConfigException(OFFSETS_TOPIC_REPLICATION_FACTOR + " must be 1 on a standalone node (no " + CONTROLLER_QUORUM_VOTERS + ")");
        }
        if (!clustered() && intValue(TRANSACTION_STATE_REPLICATION_FACTOR) != 1) {
            throw new InvalidConfigException(TRANSACTION_STATE_REPLICATION_FACTOR + " must be 1 on a standalone node (no " + CONTROLLER_QUORUM_VOTERS + ")");
        }
        if (clustered()) {
            clusterSettings();
        }
        for (String name : new String[]{BROKER_HEARTBEAT_INTERVAL_MS, BROKER_SESSION_TIMEOUT_MS, CONTROLLER_ELECTION_TIMEOUT_MS,
                REPLICA_LAG_TIME_MAX_MS, REPLICA_FETCH_WAIT_MAX_MS, REPLICA_SOCKET_TIMEOUT_MS, LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS, OFFSETS_TOPIC_REPLICATION_FACTOR,
                PARTITION_AUTOBALANCING_CONCURRENT_MOVES, PARTITION_AUTOBALANCING_NODE_AVAILABILITY_TIMEOUT_SEC}) {
            if (intValue(name) < 1) {
                throw new InvalidConfigException(name + " must be at least 1");
            }
        }
        if (intValue(REPLICA_SOCKET_TIMEOUT_MS) <= intValue(REPLICA_FETCH_WAIT_MAX_MS)) {
            // A fetch waits up to replica.fetch.wait.max.ms at the leader by design: that silence is not a dead leader.
            throw new InvalidConfigException(REPLICA_SOCKET_TIMEOUT_MS + " must be longer than " + REPLICA_FETCH_WAIT_MAX_MS);
        }
        if (intValue(BROKER_SESSION_TIMEOUT_MS) <= intValue(BROKER_HEARTBEAT_INTERVAL_MS)) {
            throw new InvalidConfigException(BROKER_SESSION_TIMEOUT_MS + " must be longer than " + BROKER_HEARTBEAT_INTERVAL_MS);
        }
        String autobalancing = values.get(PARTITION_AUTOBALANCING_MODE);
        if (!autobalancing.equals("node_add") && !autobalancing.equals("continuous") && !autobalancing.equals("off")) {
            throw new InvalidConfigException(PARTITION_AUTOBALANCING_MODE + " must be node_add, continuous or off, not '" + autobalancing + "'");
        }
        // Every setting whose default is true or false is a flag: Boolean.parseBoolean would read "yes" or "on" as false.
        for (String flag : DEFAULTS.keySet().stream().filter(name -> isTrueOrFalse(DEFAULTS.get(name))).toList()) {
            String value = values.get(flag);
            if (!isTrueOrFalse(value)) {
                throw new InvalidConfigException(flag + " must be true or false, not '" + value + "'");
            }
        }
        if (cleanerKeyMapBytes() < 1024) {
            throw new InvalidConfigException(LOG_CLEANER_DEDUPE_BUFFER_SIZE + " must be at least 1024");
        }
        if (parseLong(LOG_CLEANER_BACKOFF_MS, values.get(LOG_CLEANER_BACKOFF_MS)) < 1) {
            throw new InvalidConfigException(LOG_CLEANER_BACKOFF_MS + " must be at least 1");
        }
        if (intValue(SOCKET_REQUEST_MAX_BYTES) < 1024) {
            throw new InvalidConfigException(SOCKET_REQUEST_MAX_BYTES + " must be at least 1024");
        }
        if (intValue(NUM_IO_THREADS) < 1) {
            throw new InvalidConfigException(NUM_IO_THREADS + " must be at least 1");
        }
        try {
            networkTransport();
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(e.getMessage());
        }
        if (parseLong(RETENTION_CHECK_INTERVAL_MS, values.get(RETENTION_CHECK_INTERVAL_MS)) < 1) {
            throw new InvalidConfigException(RETENTION_CHECK_INTERVAL_MS + " must be at least 1");
        }
        if (intValue(GROUP_MIN_SESSION_TIMEOUT_MS) < 1 || intValue(GROUP_MAX_SESSION_TIMEOUT_MS) < intValue(GROUP_MIN_SESSION_TIMEOUT_MS)) {
            throw new InvalidConfigException(GROUP_MAX_SESSION_TIMEOUT_MS + " must be at least " + GROUP_MIN_SESSION_TIMEOUT_MS + ", which must be positive");
        }
        if (intValue(GROUP_INITIAL_REBALANCE_DELAY_MS) < 0) {
            throw new InvalidConfigException(GROUP_INITIAL_REBALANCE_DELAY_MS + " must not be negative");
        }
        if (intValue(OFFSETS_TOPIC_PARTITIONS) < 1 || intValue(OFFSET_METADATA_MAX_BYTES) < 0) {
            throw new InvalidConfigException(OFFSETS_TOPIC_PARTITIONS + " must be positive and " + OFFSET_METADATA_MAX_BYTES + " not negative");
        }
        long queued = parseLong(QUEUED_MAX_REQUEST_BYTES, values.get(QUEUED_MAX_REQUEST_BYTES));
        if (queued != -1 && queued < 1) {
            throw new InvalidConfigException(QUEUED_MAX_REQUEST_BYTES + " must be -1 (no bound) or positive, not " + queued);
        }
        for (String name : new String[]{MAX_CONNECTIONS, MAX_CONNECTIONS_PER_IP, OFFSETS_RETENTION_MINUTES, TRANSACTION_STATE_PARTITIONS,
                TRANSACTION_STATE_REPLICATION_FACTOR, TRANSACTION_STATE_MIN_ISR, TRANSACTION_MAX_TIMEOUT_MS}) {
            if (intValue(name) < 1) {
                throw new InvalidConfigException(name + " must be at least 1");
            }
        }
        for (String name : new String[]{CONNECTIONS_MAX_IDLE_MS, PRODUCER_ID_EXPIRATION_MS, PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, OFFSETS_RETENTION_CHECK_INTERVAL_MS,
                TRANSACTION_ABORT_CHECK_INTERVAL_MS, TRANSACTIONAL_ID_EXPIRATION_MS}) {
            if (parseLong(name, values.get(name)) < 1) {
                throw new InvalidConfigException(name + " must be at least 1");
            }
        }
        try {
            LogConfig.from(topicDefaults());
        } catch (InvalidConfigException e) {
            throw new InvalidConfigException("invalid log default: " + e.getMessage());
        }
    }

    public int nodeId() {
        int id = intValue(NODE_ID);
        if (id < 0) {
            throw new InvalidConfigException(NODE_ID + " must not be negative");
        }
        return id;
    }

    /** Whether this node is part of a cluster coordinated by a controller quorum. */
    public boolean clustered() {
        return !values.get(CONTROLLER_QUORUM_VOTERS).isBlank();
    }

    public io.spate.cluster.ClusterSettings clusterSettings() {
        java.util.List<io.spate.cluster.ClusterSettings.Voter> voters;
        try {
            voters = clustered() ? io.spate.cluster.ClusterSettings.parseVoters(values.get(CONTROLLER_QUORUM_VOTERS)) : java.util.List.of();
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(CONTROLLER_QUORUM_VOTERS + ": " + e.getMessage());
        }
        long rebalanceMs = Boolean.parseBoolean(values.get(AUTO_LEADER_REBALANCE)) ? intValue(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS) * 1000L : 0;
        if (voters.isEmpty()) {
            // Standalone: the node is its own, only voter, over a metadata log in a local file.
            return new io.spate.cluster.ClusterSettings(nodeId(), java.util.List.of(new io.spate.cluster.ClusterSettings.Voter(nodeId(), host(), port())),
                    dataDir().resolve("meta").resolve("metadata"), intValue(BROKER_HEARTBEAT_INTERVAL_MS), intValue(BROKER_SESSION_TIMEOUT_MS),
                    intValue(CONTROLLER_ELECTION_TIMEOUT_MS), rebalanceMs);
        }
        String mode = values.get(PARTITION_AUTOBALANCING_MODE);
        // continuous does what node_add does, and also moves the replicas of a node unavailable past the timeout.
        int nodeAddMoves = mode.equals("off") ? 0 : intValue(PARTITION_AUTOBALANCING_CONCURRENT_MOVES);
        long unavailableMoveAfterMs = mode.equals("continuous") ? intValue(PARTITION_AUTOBALANCING_NODE_AVAILABILITY_TIMEOUT_SEC) * 1000L : 0;
        return new io.spate.cluster.ClusterSettings(nodeId(), voters, dataDir().resolve("meta").resolve("raft"),
                intValue(BROKER_HEARTBEAT_INTERVAL_MS), intValue(BROKER_SESSION_TIMEOUT_MS), intValue(CONTROLLER_ELECTION_TIMEOUT_MS), rebalanceMs,
                nodeAddMoves, unavailableMoveAfterMs);
    }

    /**
     * How long a follower's connection to its leader may take to open before it dials again. One
     * second: the handshake is the kernels' (not the leader's busy JVM), and a dial begun while a
     * link was down waits out SYN retransmissions (1 s, then 3 s) once the link is back; with 3 s
     * a follower isolated for a while started copying again 2 s after its node was back in touch
     * (fault campaign seed 512), which a partition waiting on it for min.insync.replicas felt.
     */
    private static final int REPLICA_CONNECT_TIMEOUT_MS = 1_000;

    public io.spate.replication.ReplicationSettings replicationSettings() {
        return new io.spate.replication.ReplicationSettings(replicaFetchWaitMaxMs(), 10 * 1024 * 1024, 1024 * 1024, replicaLagTimeMaxMs(),
                REPLICA_CONNECT_TIMEOUT_MS,
                intValue(REPLICA_SOCKET_TIMEOUT_MS), values.get(BROKER_RACK).trim(), nodeCredentials().token(nodeId()));
    }

    /** What node-to-node requests are signed and checked with; none on a standalone node. */
    public io.spate.cluster.NodeCredentials nodeCredentials() {
        return clustered() ? io.spate.cluster.NodeCredentials.forCluster(values.get(CLUSTER_SECRET), clusterSettings().voters())
                : io.spate.cluster.NodeCredentials.none();
    }

    /** How long a starting node waits for the controller quorum to take its registration. */
    public long clusterJoinTimeoutMs() {
        return 60_000;
    }

    public long replicaLagTimeMaxMs() {
        return intValue(REPLICA_LAG_TIME_MAX_MS);
    }

    public int replicaFetchWaitMaxMs() {
        return intValue(REPLICA_FETCH_WAIT_MAX_MS);
    }

    public short offsetsTopicReplicationFactor() {
        return (short) Math.min(Short.MAX_VALUE, intValue(OFFSETS_TOPIC_REPLICATION_FACTOR));
    }

    /**
     * The host clients and other nodes are told to dial. For a node listening on every interface,
     * the machine's canonical host name, as Kafka advertises it then: 0.0.0.0 is no address to dial.
     */
    public String host() {
        String host = listenHost();
        if (!isWildcard(host)) {
            return host;
        }
        String advertised = advertisedWildcardHost;
        if (advertised == null) {
            try {
                advertised = java.net.InetAddress.getLocalHost().getCanonicalHostName();
            } catch (java.net.UnknownHostException e) {
                advertised = "127.0.0.1"; // a host without a name of its own: at least local clients can dial it
            }
            advertisedWildcardHost = advertised;
        }
        return advertised;
    }

    /** The address the node's listeners bind: {@link #EVERY_INTERFACE} for all of them. */
    public String listenHost() {
        return values.get(HOST);
    }

    private static boolean isWildcard(String host) {
        return host.equals(EVERY_INTERFACE) || host.equals("::") || host.equals("[::]");
    }

    public int port() {
        return intValue(PORT);
    }

    /** Where other nodes send this node's table messages: 0 for any free port. */
    public int tablesPort() {
        return intValue(TABLES_PORT);
    }

    public int tablesMaxValueBytes() {
        return intValue(TABLES_MAX_VALUE_BYTES);
    }

    public int tablesRequestTimeoutMs() {
        return intValue(TABLES_REQUEST_TIMEOUT_MS);
    }

    public long tablesBlockCacheBytes() {
        return parseLong(TABLES_BLOCK_CACHE_BYTES, values.get(TABLES_BLOCK_CACHE_BYTES));
    }

    /** The HTTP API's port: 0 for any free one, -1 for none. */
    public int httpPort() {
        return intValue(HTTP_PORT);
    }

    public int httpMaxBodyBytes() {
        return intValue(HTTP_MAX_BODY_BYTES);
    }

    public long httpMaxInFlightBytes() {
        return parseLong(HTTP_MAX_IN_FLIGHT_BYTES, values.get(HTTP_MAX_IN_FLIGHT_BYTES));
    }

    /** A REST Proxy v2 consumer instance unused this long is closed. */
    public long httpConsumerInstanceTimeoutMs() {
        return parseLong(HTTP_CONSUMER_INSTANCE_TIMEOUT_MS, values.get(HTTP_CONSUMER_INSTANCE_TIMEOUT_MS));
    }

    /** REST Proxy v2 consumer instances one node keeps at once. */
    public int httpConsumerMaxInstances() {
        return intValue(HTTP_CONSUMER_MAX_INSTANCES);
    }

    public Path dataDir() {
        return Path.of(values.get(LOG_DIRS).trim());
    }

    public int numPartitions() {
        return intValue(NUM_PARTITIONS);
    }

    /** Topic-level defaults under topic-level names, from the broker-level settings. */
    public Map<String, String> topicDefaults() {
        Map<String, String> topic = new TreeMap<>(LogConfig.DEFAULTS);
        BROKER_TO_TOPIC.forEach((broker, topicName) -> {
            if (values.containsKey(broker)) {
                topic.put(topicName, values.get(broker));
            }
        });
        return topic;
    }

    public SpateConfig with(String name, String value) {
        return from(List.of(values, Map.of(name, value)));
    }

    public ServerConfig toServerConfig(int boundPort) {
        return new ServerConfig(nodeId(), host(), boundPort, dataDir(), intValue(SOCKET_REQUEST_MAX_BYTES), numPartitions(),
                (short) intValue(DEFAULT_REPLICATION_FACTOR), Boolean.parseBoolean(values.get(AUTO_CREATE_TOPICS)),
                intValue(NUM_IO_THREADS), parseLong(RETENTION_CHECK_INTERVAL_MS, values.get(RETENTION_CHECK_INTERVAL_MS)),
                topicDefaults(), describableValues());
    }

    /**
     * Every setting but those node credentials derive from: DescribeConfigs is open to any client.
     * Concurrent because the node writes the ports it bound (0 asks for any free one) once it has
     * them: a client that only knows a bootstrap server learns the nodes' HTTP and tables ports here.
     */
    private Map<String, String> describableValues() {
        Map<String, String> shown = new java.util.concurrent.ConcurrentSkipListMap<>(values);
        shown.remove(CLUSTER_SECRET);
        shown.remove(CONTROLLER_QUORUM_VOTERS);
        return shown;
    }

    public io.spate.server.group.GroupCoordinator.Settings groupSettings() {
        return new io.spate.server.group.GroupCoordinator.Settings(intValue(GROUP_MIN_SESSION_TIMEOUT_MS), intValue(GROUP_MAX_SESSION_TIMEOUT_MS),
                intValue(GROUP_INITIAL_REBALANCE_DELAY_MS), intValue(OFFSET_METADATA_MAX_BYTES), intValue(OFFSETS_TOPIC_PARTITIONS),
                offsetsTopicReplicationFactor(), intValue(OFFSETS_RETENTION_MINUTES) * 60_000L,
                parseLong(OFFSETS_RETENTION_CHECK_INTERVAL_MS, values.get(OFFSETS_RETENTION_CHECK_INTERVAL_MS)));
    }

    /** KIP-890 part 1: partition leaders ask the coordinator before a transaction's first write (Kafka's default: on). */
    public boolean transactionVerification() {
        return Boolean.parseBoolean(values.get(TRANSACTION_PARTITION_VERIFICATION_ENABLE));
    }

    public io.spate.server.txn.TransactionCoordinator.Settings transactionSettings() {
        return new io.spate.server.txn.TransactionCoordinator.Settings(intValue(TRANSACTION_STATE_PARTITIONS),
                (short) Math.min(Short.MAX_VALUE, intValue(TRANSACTION_STATE_REPLICATION_FACTOR)), intValue(TRANSACTION_STATE_MIN_ISR),
                intValue(TRANSACTION_MAX_TIMEOUT_MS), parseLong(TRANSACTION_ABORT_CHECK_INTERVAL_MS, values.get(TRANSACTION_ABORT_CHECK_INTERVAL_MS)),
                parseLong(TRANSACTIONAL_ID_EXPIRATION_MS, values.get(TRANSACTIONAL_ID_EXPIRATION_MS)));
    }

    /** Milliseconds between compaction passes, or 0 when the cleaner is off. */
    public long cleanerBackoffMs() {
        return Boolean.parseBoolean(values.get(LOG_CLEANER_ENABLE)) ? parseLong(LOG_CLEANER_BACKOFF_MS, values.get(LOG_CLEANER_BACKOFF_MS)) : 0;
    }

    /** Bytes of keys one compaction pass may map ({@code log.cleaner.dedupe.buffer.size}). */
    public long cleanerKeyMapBytes() {
        return parseLong(LOG_CLEANER_DEDUPE_BUFFER_SIZE, values.get(LOG_CLEANER_DEDUPE_BUFFER_SIZE));
    }

    public io.spate.server.network.KafkaServer.Limits networkLimits() {
        return new io.spate.server.network.KafkaServer.Limits(parseLong(QUEUED_MAX_REQUEST_BYTES, values.get(QUEUED_MAX_REQUEST_BYTES)),
                intValue(MAX_CONNECTIONS), intValue(MAX_CONNECTIONS_PER_IP), parseLong(CONNECTIONS_MAX_IDLE_MS, values.get(CONNECTIONS_MAX_IDLE_MS)));
    }

    /** producer.id.expiration.ms: a producer id with no append for this long is forgotten by each partition. */
    public long producerIdExpirationMs() {
        return parseLong(PRODUCER_ID_EXPIRATION_MS, values.get(PRODUCER_ID_EXPIRATION_MS));
    }

    public long producerIdExpirationCheckIntervalMs() {
        return parseLong(PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, values.get(PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS));
    }

    public int ioThreads() {
        return intValue(NUM_IO_THREADS);
    }

    /** network.transport, resolved: epoll where it loads unless nio is asked for. */
    public io.spate.server.network.Transport networkTransport() {
        return io.spate.server.network.Transport.of(values.get(NETWORK_TRANSPORT));
    }

    public int socketRequestMaxBytes() {
        return intValue(SOCKET_REQUEST_MAX_BYTES);
    }

    public long retentionCheckIntervalMs() {
        return parseLong(RETENTION_CHECK_INTERVAL_MS, values.get(RETENTION_CHECK_INTERVAL_MS));
    }

    private int intValue(String name) {
        long value = parseLong(name, values.get(name));
        if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
            throw new InvalidConfigException(name + " is out of range: " + value);
        }
        return (int) value;
    }

    private static boolean isTrueOrFalse(String value) {
        return value.equals("true") || value.equals("false");
    }

    private static long parseLong(String name, String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidConfigException(name + " must be a whole number, not '" + value + "'");
        }
    }
}
