package io.spate.replication.quota;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.TopicState;
import io.spate.log.LogConfig;
import io.spate.log.TopicPartition;
import io.spate.time.Time;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's replication quotas (KIP-73) on one node, as {@code kafka-reassign-partitions.sh
 * --throttle} sets them: a node's {@code leader.replication.throttled.rate} bounds the bytes per
 * second it sends to followers of the replicas its topics list in
 * {@code leader.replication.throttled.replicas}, and its {@code follower.replication.throttled.rate}
 * the bytes per second it copies for the replicas listed in
 * {@code follower.replication.throttled.replicas}. A replica in the in-sync set is never held
 * back: throttles slow the copies that catch up (moves, replicas back from a long absence), not
 * the replication that acknowledgements wait for.
 *
 * <p>A move adds replicas to nodes that copy the whole partition, and most moves are the
 * controller's own (filling a node that joined empty, emptying an unavailable or drained one),
 * where no operator set a throttle. So a node also bounds the bytes per second it copies, in all,
 * for replicas a move is adding to it and that are not yet in sync, by its
 * {@code move.replication.throttled.rate} ({@link #DEFAULT_MOVE_RATE} unless set; Redpanda bounds
 * its learners' recovery the same way). The KIP-73 throttles above apply on top of it.
 *
 * <p>Follows the cluster image: {@link #update} runs on every image the node applies.
 */
public final class ReplicationThrottles {
    public static final String LEADER_RATE = "leader.replication.throttled.rate";
    public static final String FOLLOWER_RATE = "follower.replication.throttled.rate";
    /** Accepted and kept (the tool sets it with {@code --replica-alter-log-dirs-throttle}); a node here has one log directory. */
    public static final String LOG_DIRS_RATE = "replica.alter.log.dirs.io.max.bytes.per.second";
    /** What a node copies per second, in all, for the replicas moves are adding to it. */
    public static final String MOVE_RATE = "move.replication.throttled.rate";
    /** 100 MiB/s: well under what a disk or a 10 Gb/s link moves, so a move leaves room for the traffic acknowledgements wait for. */
    public static final long DEFAULT_MOVE_RATE = 100L * 1024 * 1024;
    public static final Set<String> NODE_KEYS = Set.of(LEADER_RATE, FOLLOWER_RATE, LOG_DIRS_RATE, MOVE_RATE);

    /** No throttles at all: for nodes and tests that do not follow an image. */
    public static final ReplicationThrottles NONE = new ReplicationThrottles(-1, Time.SYSTEM);

    private final int localId;
    private final ByteRateQuota leader;
    private final ByteRateQuota follower;
    private final ByteRateQuota move;
    private volatile Map<String, ThrottledReplicas> leaderLists = Map.of();
    private volatile Map<String, ThrottledReplicas> followerLists = Map.of();
    private volatile Map<String, String> ownSettings = Map.of();
    private volatile Map<String, String> everyNodeSettings = Map.of();
    /** The partitions a move is adding this node to (in the image last applied). */
    private volatile Set<TopicPartition> addingHere = Set.of();

    public ReplicationThrottles(int localId, Time time) {
        this.localId = localId;
        this.leader = new ByteRateQuota(time);
        this.follower = new ByteRateQuota(time);
        this.move = new ByteRateQuota(time);
        if (localId >= 0) {
            move.setRate(DEFAULT_MOVE_RATE);
        }
    }

    /** Takes this node's rates and every topic's throttled replicas from {@code image}. */
    public void update(ClusterImage image) {
        leader.setRate(rate(image.nodeConfig(localId, LEADER_RATE)));
        follower.setRate(rate(image.nodeConfig(localId, FOLLOWER_RATE)));
        String moveRate = image.nodeConfig(localId, MOVE_RATE);
        move.setRate(moveRate == null ? DEFAULT_MOVE_RATE : rate(moveRate));
        Map<String, ThrottledReplicas> leaders = new HashMap<>();
        Map<String, ThrottledReplicas> followers = new HashMap<>();
        Set<TopicPartition> adding = new HashSet<>();
        for (TopicState topic : image.topics().values()) {
            put(leaders, topic, LogConfig.LEADER_REPLICATION_THROTTLED_REPLICAS);
            put(followers, topic, LogConfig.FOLLOWER_REPLICATION_THROTTLED_REPLICAS);
            for (int p = 0; p < topic.partitions().size(); p++) {
                if (topic.partitions().get(p).adding().contains(localId)) {
                    adding.add(new TopicPartition(topic.name(), p));
                }
            }
        }
        addingHere = adding;
        leaderLists = leaders;
        followerLists = followers;
        ownSettings = image.nodeConfigs().getOrDefault(localId, Map.of());
        everyNodeSettings = image.nodeConfigs().getOrDefault(ClusterImage.EVERY_NODE, Map.of());
    }

    private static void put(Map<String, ThrottledReplicas> lists, TopicState topic, String key) {
        String value = topic.overrides().get(key);
        if (value == null || value.isBlank()) {
            return;
        }
        try {
            lists.put(topic.name(), ThrottledReplicas.parse(value));
        } catch (IllegalArgumentException e) {
            // Validated when set; a value that slipped through throttles nothing rather than stalling replication.
        }
    }

    private static long rate(String value) {
        if (value == null) {
            return ByteRateQuota.UNLIMITED;
        }
        try {
            long rate = Long.parseLong(value.strip());
            return rate < 0 ? ByteRateQuota.UNLIMITED : rate;
        } catch (NumberFormatException e) {
            return ByteRateQuota.UNLIMITED;
        }
    }

    /** Checks a node rate setting's value, as Kafka does (a non-negative number of bytes per second). */
    public static void validateRate(String key, String value) {
        try {
            if (value == null || Long.parseLong(value.strip()) < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a non-negative number of bytes per second, not '" + value + "'");
        }
    }

    /** Whether this node, leading {@code tp}, holds back what it sends to a follower not in sync. */
    public boolean throttledAsLeader(TopicPartition tp) {
        ThrottledReplicas list = leaderLists.get(tp.topic());
        return list != null && leader.limited() && list.contains(tp.partition(), localId);
    }

    /** Whether this node, following {@code tp} while not in sync, holds back its copying. */
    public boolean throttledAsFollower(TopicPartition tp) {
        ThrottledReplicas list = followerLists.get(tp.topic());
        return list != null && follower.limited() && list.contains(tp.partition(), localId);
    }

    /**
     * Whether {@code tp} is a replica a move is adding to this node, copied within the node's move
     * rate while it is not in sync.
     */
    public boolean movingHere(TopicPartition tp) {
        return move.limited() && addingHere.contains(tp);
    }

    public ByteRateQuota moveQuota() {
        return move;
    }

    public ByteRateQuota leaderQuota() {
        return leader;
    }

    public ByteRateQuota followerQuota() {
        return follower;
    }

    /** The dynamic settings set for this node itself ({@code --entity-name N}). */
    public Map<String, String> ownSettings() {
        return ownSettings;
    }

    /** The dynamic settings set for every node ({@code --entity-default}). */
    public Map<String, String> everyNodeSettings() {
        return everyNodeSettings;
    }
}
