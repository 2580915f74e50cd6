package io.spate.replication;

import io.spate.log.AppendResult;
import io.spate.log.LogError;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Copies the partitions this node follows from one leader node, on a thread of its own: a
 * long-poll Fetch for all of them at once, the batches appended as they arrive, the next fetch
 * sent at once. A partition that has just started following (or whose leader changed) first
 * asks the leader where their histories part (OffsetForLeaderEpoch) and truncates there, so no
 * offset ever holds different records on two replicas.
 */
final class ReplicaFetcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcher.class);
    private static final short FETCH_VERSION = 12;
    private static final short EPOCH_VERSION = 4;
    private static final long BACKOFF_MS = 100;

    private static final class Followed {
        final Partition partition;
        final int epoch;
        volatile boolean truncated;

        Followed(Partition partition, int epoch) {
            this.partition = partition;
            this.epoch = epoch;
        }
    }

    private final int localId;
    private final int leaderId;
    private final ReplicationSettings settings;
    private final Map<TopicPartition, Followed> followed = new ConcurrentHashMap<>();
    private final Object wakeup = new Object();
    private volatile String host;
    private volatile int port;
    private volatile boolean running = true;
    private volatile LeaderConnection connection;
    private Thread thread;
    private long rounds;

    ReplicaFetcher(int localId, int leaderId, String host, int port, ReplicationSettings settings) {
        this.localId = localId;
        this.leaderId = leaderId;
        this.host = host;
        this.port = port;
        this.settings = settings;
    }

    void start() {
        thread = Thread.ofPlatform().name("spate-replica-fetcher-" + leaderId).daemon().start(this);
    }

    int leaderId() {
        return leaderId;
    }

    /** The leader moved to another address (it restarted): reconnect there. */
    void updateAddress(String newHost, int newPort) {
        if (!newHost.equals(host) || newPort != port) {
            host = newHost;
            port = newPort;
            dropConnection();
        }
    }

    void follow(Partition partition, int epoch) {
        Followed current = followed.get(partition.topicPartition());
        if (current != null && current.epoch == epoch && current.partition == partition) {
            return;
        }
        followed.put(partition.topicPartition(), new Followed(partition, epoch));
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
    }

    void unfollow(TopicPartition tp) {
        followed.remove(tp);
    }

    boolean isIdle() {
        return followed.isEmpty();
    }

    /** Stops the thread; {@code wait} joins it (on close), otherwise it ends on its own shortly. */
    void shutdown(boolean wait) {
        running = false;
        dropConnection();
        synchronized (wakeup) {
            wakeup.notifyAll();
        }
        if (wait && thread != null) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void dropConnection() {
        LeaderConnection c = connection;
        connection = null;
        if (c != null) {
            c.close();
        }
    }

    @Override
    public void run() {
        while (running) {
            try {
                if (followed.isEmpty()) {
                    synchronized (wakeup) {
                        wakeup.wait(BACKOFF_MS);
                    }
                    continue;
                }
                LeaderConnection c = connection;
                if (c == null) {
                    c = new LeaderConnection(host, port, "spate-replica-" + localId + settings.nodeToken(), settings.connectTimeoutMs(), settings.socketTimeoutMs());
                    connection = c;
                }
                truncateWhereNeeded(c);
                fetchOnce(c);
            } catch (java.net.SocketTimeoutException e) {
                if (running) {
                    log.info("no answer from leader {} within replica.socket.timeout.ms={} ms: reconnecting", leaderId, settings.socketTimeoutMs());
                }
                dropConnection();
                pause();
            } catch (IOException e) {
                if (running) {
                    log.debug("fetching from node {} failed: {}", leaderId, e.toString());
                }
                dropConnection();
                pause();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("replica fetcher for node {} hit an unexpected error", leaderId, e);
                dropConnection();
                pause();
            }
        }
        dropConnection();
    }

    private void pause() {
        synchronized (wakeup) {
            try {
                wakeup.wait(BACKOFF_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    /** Aligns each newly followed partition with the leader's history before copying anything. */
    private void truncateWhereNeeded(LeaderConnection c) throws IOException {
        List<Followed> pending = new ArrayList<>();
        for (Followed f : followed.values()) {
            if (!f.truncated) {
                if (f.partition.log().latestEpoch() < 0) {
                    f.truncated = true;
                } else {
                    pending.add(f);
                }
            }
        }
        if (pending.isEmpty()) {
            return;
        }
        OffsetForLeaderEpochRequestData data = new OffsetForLeaderEpochRequestData().setReplicaId(localId);
        for (Followed f : pending) {
            TopicPartition tp = f.partition.topicPartition();
            var topic = data.topics().find(tp.topic());
            if (topic == null) {
                topic = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(tp.topic());
                data.topics().add(topic);
            }
            topic.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                    .setPartition(tp.partition()).setCurrentLeaderEpoch(f.epoch).setLeaderEpoch(f.partition.log().latestEpoch()));
        }
        var response = (OffsetsForLeaderEpochResponse) c.send(new OffsetsForLeaderEpochRequest(data, EPOCH_VERSION));
        for (OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult topic : response.data().topics()) {
            for (OffsetForLeaderEpochResponseData.EpochEndOffset result : topic.partitions()) {
                Followed f = followed.get(new TopicPartition(topic.topic(), result.partition()));
                if (f == null || f.truncated) {
                    continue;
                }
                if (result.errorCode() != Errors.NONE.code()) {
                    log.debug("{}: leader {} cannot answer OffsetForLeaderEpoch yet: {}", f.partition.topicPartition(), leaderId, Errors.forCode(result.errorCode()));
                    continue;
                }
                truncate(f, result.leaderEpoch(), result.endOffset());
            }
        }
    }

    private void truncate(Followed f, int leaderEpoch, long leaderEndOffset) throws IOException {
        PartitionLog partitionLog = f.partition.log();
        long target;
        if (leaderEpoch < 0 || leaderEndOffset < 0) {
            // The leader holds no epoch this old: nothing here is known to be shared with it.
            target = partitionLog.logStartOffset();
        } else if (leaderEpoch == partitionLog.latestEpoch()) {
            target = Math.min(leaderEndOffset, partitionLog.logEndOffset());
        } else {
            long[] ours = partitionLog.endOffsetForEpoch(leaderEpoch);
            target = Math.min(leaderEndOffset, ours[1] < 0 ? partitionLog.logStartOffset() : ours[1]);
        }
        if (target < partitionLog.logEndOffset()) {
            log.info("{}: truncating from {} to {} to match leader {} (epoch {})", f.partition.topicPartition(),
                    partitionLog.logEndOffset(), target, leaderId, leaderEpoch);
            if (!f.partition.truncateAsFollower(target, f.epoch)) {
                return;
            }
        }
        f.truncated = true;
    }

    /**
     * The leader cannot serve this replica's fetch offset. Either this log ends below the
     * leader's log start ({@code leaderLogStartOffset}: retention ran there while this replica
     * was away, or it is new), and then it starts over at the leader's log start, as Kafka's
     * followers do; or it ends past the leader's log end, and then it realigns by leader epoch
     * first. Returns true when the next fetch can go out at once.
     */
    private boolean onOutOfRange(Followed f, long leaderLogStartOffset) throws IOException {
        PartitionLog partitionLog = f.partition.log();
        if (leaderLogStartOffset > partitionLog.logEndOffset()) {
            log.info("{}: the log ends at {}, below leader {}'s log start {}: starting over there", f.partition.topicPartition(),
                    partitionLog.logEndOffset(), leaderId, leaderLogStartOffset);
            return f.partition.truncateFullyAsFollower(leaderLogStartOffset, f.epoch);
        }
        f.truncated = false;
        return false;
    }

    /**
     * The leader may end a response with the first part of a batch that did not fit its byte
     * budget (as Kafka does); only whole batches are appended, the rest comes with the next fetch.
     */
    static ByteBuffer wholeBatches(ByteBuffer records) {
        int start = records.position();
        int position = start;
        while (records.limit() - position >= 12) {
            int size = 12 + records.getInt(position + 8);
            if (size < 12 || records.limit() - position < size) {
                break;
            }
            position += size;
        }
        ByteBuffer whole = records.duplicate();
        whole.limit(position);
        return whole;
    }

    private void fetchOnce(LeaderConnection c) throws IOException {
        Map<String, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
        List<Followed> ready = new ArrayList<>();
        // The leader fills the response in request order until its byte budget runs out: rotate
        // the order so that no partition is always last and starved.
        List<Followed> order = new ArrayList<>(followed.values());
        if (!order.isEmpty()) {
            java.util.Collections.rotate(order, -(int) (rounds++ % order.size()));
        }
        for (Followed f : order) {
            if (!f.truncated) {
                continue;
            }
            ready.add(f);
            TopicPartition tp = f.partition.topicPartition();
            PartitionLog partitionLog = f.partition.log();
            topics.computeIfAbsent(tp.topic(), t -> new FetchRequestData.FetchTopic().setTopic(t)).partitions().add(
                    new FetchRequestData.FetchPartition().setPartition(tp.partition()).setCurrentLeaderEpoch(f.epoch)
                            .setFetchOffset(partitionLog.logEndOffset()).setLogStartOffset(partitionLog.logStartOffset())
                            .setLastFetchedEpoch(-1).setPartitionMaxBytes(settings.fetchMaxBytesPerPartition()));
        }
        if (ready.isEmpty()) {
            pause();
            return;
        }
        FetchRequestData data = new FetchRequestData().setReplicaId(localId).setMaxWaitMs(settings.fetchWaitMaxMs())
                .setMinBytes(1).setMaxBytes(settings.fetchMaxBytes()).setIsolationLevel((byte) 0)
                .setSessionId(0).setSessionEpoch(-1).setRackId(settings.rack()).setTopics(new ArrayList<>(topics.values()));
        var response = (FetchResponse) c.send(new FetchRequest(data, FETCH_VERSION));
        if (response.data().errorCode() != Errors.NONE.code()) {
            log.debug("fetch from node {} failed: {}", leaderId, Errors.forCode(response.data().errorCode()));
            pause();
            return;
        }
        long now = System.currentTimeMillis();
        boolean backOff = false;
        for (FetchResponseData.FetchableTopicResponse topic : response.data().responses()) {
            for (FetchResponseData.PartitionData p : topic.partitions()) {
                Followed f = followed.get(new TopicPartition(topic.topic(), p.partitionIndex()));
                if (f == null) {
                    continue;
                }
                Errors error = Errors.forCode(p.errorCode());
                if (error != Errors.NONE) {
                    // Out of range: start over or realign (onOutOfRange). Any other error: a leader change
                    // is on its way in the metadata, and the new assignment will re-add the partition.
                    if (error != Errors.OFFSET_OUT_OF_RANGE || !onOutOfRange(f, p.logStartOffset())) {
                        backOff = true;
                    }
                    continue;
                }
                ByteBuffer records = wholeBatches(p.records() instanceof MemoryRecords memory ? memory.buffer() : ByteBuffer.allocate(0));
                AppendResult result = f.partition.appendAsFollower(records, p.highWatermark(), p.logStartOffset(), now, f.epoch);
                if (result == null) {
                    // The partition moved to another epoch while this fetch was out: drop what it brought.
                    continue;
                }
                if (!result.ok()) {
                    log.warn("{}: could not append what leader {} sent: {}", f.partition.topicPartition(), leaderId, result.message());
                    if (result.error() == LogError.OFFSET_OUT_OF_RANGE) {
                        f.truncated = false;
                    }
                    backOff = true;
                }
            }
        }
        if (backOff) {
            pause();
        }
    }
}
