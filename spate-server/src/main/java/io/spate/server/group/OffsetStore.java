package io.spate.server.group;

import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.partition.LogScanner;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Utils;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Committed offsets and group metadata as records of the compacted internal topic
 * {@code __consumer_offsets}, written through the normal log; the coordinator rebuilds its
 * state by replaying that topic at start-up.
 *
 * <p>Record layout (big-endian; strings are a 2-byte length and UTF-8):
 * <pre>
 * offset key:   version=0 int16, type=1 int8, group, topic, partition int32
 * offset value: version=0 int16, offset int64, leaderEpoch int32, metadata, commitTimestamp int64
 * group key:    version=0 int16, type=2 int8, group
 * group value:  version=0 int16, protocolType, protocolName, generation int32
 * </pre>
 * A null value (tombstone) deletes the key.
 */
final class OffsetStore {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OffsetStore.class);
    static final String TOPIC = "__consumer_offsets";
    /** How long a commit waits for the offsets partition's in-sync replicas (Kafka's offsets.commit.timeout.ms). */
    static final long COMMIT_WAIT_MS = 5_000;
    private static final byte OFFSET_KEY = 1;
    private static final byte GROUP_KEY = 2;

    /** What replay finds, handed to the coordinator. */
    interface Replayed {
        void offset(String group, String topic, int partition, CommittedOffset offset);

        void group(String group, String protocolType, String protocolName, int generation);

        void groupDeleted(String group);
    }

    private final TopicManager topics;
    private final ReplicaManager replicas;
    private final io.spate.time.Time time;
    private final int numPartitions;
    private final short replicationFactor;

    OffsetStore(TopicManager topics, ReplicaManager replicas, io.spate.time.Time time, int numPartitions, short replicationFactor) {
        this.replicationFactor = replicationFactor;
        this.topics = topics;
        this.replicas = replicas;
        this.time = time;
        this.numPartitions = numPartitions;
    }

    /**
     * Creates the internal topic on first use, as Kafka does when the first group appears; never
     * blocks (the callers are network threads and the coordinator's own).
     */
    java.util.concurrent.CompletableFuture<TopicInfo> ensureTopicAsync() {
        TopicInfo topic = topics.registry().get(TOPIC);
        if (topic != null) {
            return java.util.concurrent.CompletableFuture.completedFuture(topic);
        }
        return topics.createInternalAsync(TOPIC, numPartitions, replicationFactor, Map.of("cleanup.policy", "compact", "segment.bytes", "104857600"));
    }

    int partitionFor(String groupId) {
        return Utils.abs(groupId.hashCode()) % partitionCount();
    }

    private int partitionCount() {
        TopicInfo topic = topics.registry().get(TOPIC);
        return topic == null ? numPartitions : topic.partitions();
    }

    static SimpleRecord offsetRecord(String group, String topic, int partition, CommittedOffset value, long now) {
        byte[] key = encodeOffsetKey(group, topic, partition);
        if (value == null) {
            return new SimpleRecord(now, key, null);
        }
        byte[] metadata = utf8(value.metadata() == null ? "" : value.metadata());
        ByteBuffer v = ByteBuffer.allocate(2 + 8 + 4 + 2 + metadata.length + 8);
        v.putShort((short) 0).putLong(value.offset()).putInt(value.leaderEpoch()).putShort((short) metadata.length).put(metadata).putLong(value.commitTimestamp());
        return new SimpleRecord(now, key, v.array());
    }

    static SimpleRecord groupRecord(String group, String protocolType, String protocolName, int generation, boolean tombstone, long now) {
        byte[] g = utf8(group);
        ByteBuffer key = ByteBuffer.allocate(2 + 1 + 2 + g.length).putShort((short) 0).put(GROUP_KEY).putShort((short) g.length).put(g);
        if (tombstone) {
            return new SimpleRecord(now, key.array(), null);
        }
        byte[] type = utf8(protocolType == null ? "" : protocolType);
        byte[] name = utf8(protocolName == null ? "" : protocolName);
        ByteBuffer value = ByteBuffer.allocate(2 + 2 + type.length + 2 + name.length + 4)
                .putShort((short) 0).putShort((short) type.length).put(type).putShort((short) name.length).put(name).putInt(generation);
        return new SimpleRecord(now, key.array(), value.array());
    }

    private static byte[] encodeOffsetKey(String group, String topic, int partition) {
        byte[] g = utf8(group);
        byte[] t = utf8(topic);
        return ByteBuffer.allocate(2 + 1 + 2 + g.length + 2 + t.length + 4)
                .putShort((short) 0).put(OFFSET_KEY).putShort((short) g.length).put(g).putShort((short) t.length).put(t).putInt(partition).array();
    }

    /**
     * Appends records for {@code groupId} with acks=all: completes once the offsets partition's
     * in-sync replicas hold them (so a commit survives failover) and its flush policy is met.
     */
    CompletableFuture<Void> append(String groupId, List<SimpleRecord> records) {
        if (topics.registry().get(TOPIC) == null) {
            // The first commit of a node that has never seen a group (assign() consumers commit without joining).
            return ensureTopicAsync().thenCompose(topic -> appendToPartition(groupId, records));
        }
        return appendToPartition(groupId, records);
    }

    private CompletableFuture<Void> appendToPartition(String groupId, List<SimpleRecord> records) {
        Partition partition = replicas.partition(TOPIC, partitionFor(groupId));
        if (partition == null) {
            return CompletableFuture.failedFuture(new CoordinatorNotAvailableException("offsets partition not hosted"));
        }
        MemoryRecords batch = MemoryRecords.withRecords(Compression.NONE, records.toArray(new SimpleRecord[0]));
        return partition.append(batch.buffer(), Acks.ALL, COMMIT_WAIT_MS, time.millis()).thenCompose(written ->
                written.ok() ? CompletableFuture.<Void>completedFuture(null) : CompletableFuture.failedFuture(coordinatorError(written)));
    }

    /**
     * What a group member is told when its group's records could not be stored: as Kafka's group
     * coordinator does, NOT_COORDINATOR when this node no longer leads (or holds) the offsets
     * partition, so the member looks the coordinator up again; COORDINATOR_NOT_AVAILABLE when the
     * replicas are short or slow, so it retries.
     */
    static RuntimeException coordinatorError(Written written) {
        String message = "could not store group data: " + written.message();
        return switch (written.error()) {
            case NOT_LEADER, NOT_DURABLE -> new org.apache.kafka.common.errors.NotCoordinatorException(message);
            case REFUSED -> switch (written.logError()) {
                case STORAGE_ERROR -> new org.apache.kafka.common.errors.NotCoordinatorException(message);
                // Too many offsets in one commit for the offsets topic's max.message.bytes, as Kafka answers it.
                case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE -> new org.apache.kafka.common.errors.InvalidCommitOffsetSizeException(message);
                default -> new org.apache.kafka.common.errors.UnknownServerException(message);
            };
            default -> new CoordinatorNotAvailableException(message);
        };
    }

    /** Replays every partition of the internal topic, oldest record first. */
    void replay(Replayed into) throws IOException {
        TopicInfo topic = topics.registry().get(TOPIC);
        if (topic == null) {
            return;
        }
        for (int p = 0; p < topic.partitions(); p++) {
            replay(p, into);
        }
    }

    /**
     * Replays one partition. A leader replays its whole log: what it holds beyond the high
     * watermark is what it will replicate, and it is the only history there is now.
     */
    void replay(int p, Replayed into) throws IOException {
        Partition partition = replicas.partition(TOPIC, p);
        if (partition != null && partition.log().isOffline()) {
            // Its groups cannot be loaded; commits to it fail with KAFKA_STORAGE_ERROR until it is repaired.
            log.error("{}-{} is offline ({}): the groups it holds are unavailable on this node", TOPIC, p, partition.log().offlineReason());
            return;
        }
        if (partition != null) {
            long end = replicas.clustered() ? partition.log().logEndOffset() : partition.log().highWatermark();
            LogScanner.forEachBatch(partition.log(), partition.log().logStartOffset(), end,
                    batch -> batch.forEach(record -> apply(record, into)));
        }
    }

    private static void apply(Record record, Replayed into) {
        if (!record.hasKey()) {
            return;
        }
        ByteBuffer key = record.key();
        if (key.getShort() != 0) {
            return;
        }
        byte type = key.get();
        String group = readString(key);
        if (type == OFFSET_KEY) {
            String topic = readString(key);
            int partition = key.getInt();
            if (!record.hasValue()) {
                into.offset(group, topic, partition, null);
                return;
            }
            ByteBuffer value = record.value();
            value.getShort();
            long offset = value.getLong();
            int epoch = value.getInt();
            String metadata = readString(value);
            long ts = value.getLong();
            into.offset(group, topic, partition, new CommittedOffset(offset, epoch, metadata, ts));
        } else if (type == GROUP_KEY) {
            if (!record.hasValue()) {
                into.groupDeleted(group);
                return;
            }
            ByteBuffer value = record.value();
            value.getShort();
            into.group(group, readString(value), readString(value), value.getInt());
        }
    }

    private static String readString(ByteBuffer buffer) {
        int length = buffer.getShort();
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
