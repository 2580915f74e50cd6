package io.spate.replication;

import io.spate.log.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies the partitions this node follows from one leader node, on a thread of its own: a
 * long-poll Fetch for all of them at once, the batches appended as they arrive, the next fetch
 * sent at once. Each partition's fetch carries the newest leader epoch its log holds; a leader
 * whose history parts from it before the fetch offset says where (the diverging epoch), and the
 * replica truncates there before it copies more, so no offset ever holds different records on two
 * replicas. What to send and what to do with the answers is {@link FollowerFetchLogic}'s; this
 * class only speaks the wire.
 */
final class ReplicaFetcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcher.class);
    /** Fetch by topic id (KIP-516): a leader never answers with the log of an earlier topic of the same name. */
    private static final short FETCH_VERSION = 13;
    /** By name, for partitions whose log knows no topic id (only logs opened without one, in tests). */
    private static final short FETCH_VERSION_BY_NAME = 12;
    private static final long BACKOFF_MS = 100;

    private final int localId;
    private final int leaderId;
    private final ReplicationSettings settings;
    private final FollowerFetchLogic logic;
    private final FollowerFetchSession session = new FollowerFetchSession();
    /** The topic id under which the leader's session holds each partition (what a forget must name). */
    private final Map<TopicPartition, java.util.UUID> sessionIds = new java.util.HashMap<>();
    /** The topic name of each id sent in this session: answers by id are read back by it. */
    private final Map<org.apache.kafka.common.Uuid, String> namesById = new java.util.HashMap<>();
    private boolean sessionById = true;
    private final Object wakeup = new Object();
    private volatile String host;
    private volatile int port;
    private volatile boolean running = true;
    private volatile LeaderConnection connection;
    private Thread thread;

    private final io.spate.time.Time time;

    private final io.spate.replication.quota.ReplicationThrottles throttles;

    ReplicaFetcher(int localId, int leaderId, String host, int port, ReplicationSettings settings) {
        this(localId, leaderId, host, port, settings, io.spate.time.Time.SYSTEM, io.spate.replication.quota.ReplicationThrottles.NONE);
    }

    ReplicaFetcher(int localId, int leaderId, String host, int port, ReplicationSettings settings, io.spate.time.Time time,
                   io.spate.replication.quota.ReplicationThrottles throttles) {
        this.time = time;
        this.throttles = throttles;
        this.localId = localId;
        this.leaderId = leaderId;
        this.host = host;
        this.port = port;
        this.settings = settings;
        this.logic = new FollowerFetchLogic(leaderId);
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
        if (logic.follow(partition, epoch)) {
            synchronized (wakeup) {
                wakeup.notifyAll();
            }
        }
    }

    void unfollow(TopicPartition tp) {
        logic.unfollow(tp);
    }

    boolean isIdle() {
        return logic.isIdle();
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

    /** On the fetcher's thread: a new connection starts a new fetch session (the old one's last answer may be lost). */
    private LeaderConnection connect() throws IOException {
        resetSession();
        LeaderConnection c = new LeaderConnection(host, port, "spate-replica-" + localId + settings.nodeToken(), settings.connectTimeoutMs(),
                settings.socketTimeoutMs());
        connection = c;
        return c;
    }

    @Override
    public void run() {
        while (running) {
            try {
                if (logic.isIdle()) {
                    synchronized (wakeup) {
                        wakeup.wait(BACKOFF_MS);
                    }
                    continue;
                }
                LeaderConnection c = connection;
                if (c == null) {
                    c = connect();
                }
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

    private void fetchOnce(LeaderConnection c) throws IOException {
        List<FollowerFetchLogic.FetchPosition> positions = logic.fetchPositions();
        boolean overFollower = !positions.isEmpty() && throttles.followerQuota().exceeded();
        boolean overMove = !positions.isEmpty() && throttles.moveQuota().exceeded();
        if (overFollower || overMove) {
            // Over a quota: the copies it governs sit this round out (the leader's session forgets
            // them until they come back); in-sync replicas go on.
            List<FollowerFetchLogic.FetchPosition> allowed = new ArrayList<>(positions.size());
            for (FollowerFetchLogic.FetchPosition position : positions) {
                TopicPartition tp = position.partition();
                boolean held = (overFollower && throttledHere(tp)) || (overMove && movingHere(tp));
                if (!held) {
                    allowed.add(position);
                }
            }
            positions = allowed;
        }
        if (positions.isEmpty()) {
            pause();
            return;
        }
        boolean byId = true;
        boolean idChanged = false;
        for (FollowerFetchLogic.FetchPosition position : positions) {
            java.util.UUID id = position.topicId();
            byId &= id != null;
            java.util.UUID held = sessionIds.get(position.partition());
            idChanged |= held != null && !held.equals(id);
        }
        if (idChanged || byId != sessionById) {
            // A topic created again under its name, or a change of how partitions are named: the
            // leader's session would hold the old key as well. Start a new one.
            resetSession();
            sessionById = byId;
        }
        FollowerFetchSession.Request request = session.next(positions);
        Map<String, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
        for (FollowerFetchLogic.FetchPosition position : request.toSend()) {
            TopicPartition tp = position.partition();
            org.apache.kafka.common.Uuid wireId = byId ? wireId(position.topicId()) : org.apache.kafka.common.Uuid.ZERO_UUID;
            if (byId) {
                namesById.putIfAbsent(wireId, tp.topic());
            }
            topics.computeIfAbsent(tp.topic(), t -> new FetchRequestData.FetchTopic().setTopic(t).setTopicId(wireId)).partitions().add(
                    new FetchRequestData.FetchPartition().setPartition(tp.partition()).setCurrentLeaderEpoch(position.currentLeaderEpoch())
                            .setFetchOffset(position.fetchOffset()).setLogStartOffset(position.logStartOffset())
                            .setLastFetchedEpoch(position.lastFetchedEpoch()).setPartitionMaxBytes(settings.fetchMaxBytesPerPartition()));
        }
        Map<String, FetchRequestData.ForgottenTopic> forgotten = new LinkedHashMap<>();
        for (TopicPartition tp : request.toForget()) {
            java.util.UUID held = sessionIds.get(tp);
            org.apache.kafka.common.Uuid wireId = byId && held != null ? wireId(held) : org.apache.kafka.common.Uuid.ZERO_UUID;
            forgotten.computeIfAbsent(tp.topic() + "/" + wireId, t -> new FetchRequestData.ForgottenTopic().setTopic(tp.topic()).setTopicId(wireId))
                    .partitions().add(tp.partition());
        }
        FetchRequestData data = new FetchRequestData().setReplicaId(localId).setMaxWaitMs(settings.fetchWaitMaxMs())
                .setMinBytes(1).setMaxBytes(settings.fetchMaxBytes()).setIsolationLevel((byte) 0)
                .setSessionId(request.sessionId()).setSessionEpoch(request.epoch()).setRackId(settings.rack())
                .setTopics(new ArrayList<>(topics.values())).setForgottenTopicsData(new ArrayList<>(forgotten.values()));
        var response = (FetchResponse) c.send(new FetchRequest(data, byId ? FETCH_VERSION : FETCH_VERSION_BY_NAME));
        Errors topLevel = Errors.forCode(response.data().errorCode());
        FollowerFetchSession.Outcome taken = topLevel == Errors.NONE ? FollowerFetchSession.Outcome.ANSWERED
                : topLevel == Errors.FETCH_SESSION_ID_NOT_FOUND || topLevel == Errors.INVALID_FETCH_SESSION_EPOCH
                ? FollowerFetchSession.Outcome.SESSION_LOST : FollowerFetchSession.Outcome.REFUSED;
        if (!session.onAnswer(request, taken, response.data().sessionId())) {
            if (taken == FollowerFetchSession.Outcome.SESSION_LOST) {
                // The leader lost the session (it restarted, or evicted it): the next fetch opens a new one at once.
                log.debug("fetch session with node {} ended ({}): starting a new one", leaderId, topLevel);
                return;
            }
            log.debug("fetch from node {} failed: {}", leaderId, topLevel);
            pause();
            return;
        }
        Map<TopicPartition, FollowerFetchLogic.FetchPosition> fetchedAt = request.heldAfter();
        sessionIds.keySet().removeAll(request.toForget());
        for (FollowerFetchLogic.FetchPosition position : request.toSend()) {
            if (position.topicId() != null) {
                sessionIds.put(position.partition(), position.topicId());
            }
        }
        List<FollowerFetchLogic.Fetched> answers = new ArrayList<>();
        for (FetchResponseData.FetchableTopicResponse topic : response.data().responses()) {
            String name = byId ? namesById.get(topic.topicId()) : topic.topic();
            if (name == null) {
                continue;
            }
            for (FetchResponseData.PartitionData p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(name, p.partitionIndex());
                FollowerFetchLogic.FetchPosition position = fetchedAt.get(tp);
                if (position == null || (byId && !sameId(topic.topicId(), position.topicId()))) {
                    continue;
                }
                int epoch = position.currentLeaderEpoch();
                Errors error = Errors.forCode(p.errorCode());
                FetchResponseData.EpochEndOffset diverging = p.divergingEpoch();
                if (error == Errors.NONE && (diverging.epoch() >= 0 || diverging.endOffset() >= 0)) {
                    answers.add(FollowerFetchLogic.Fetched.diverging(tp, epoch, p.highWatermark(), p.logStartOffset(), position.topicId(),
                            diverging.epoch(), diverging.endOffset()));
                    continue;
                }
                FollowerFetchLogic.Fetched.Outcome outcome = error == Errors.NONE ? FollowerFetchLogic.Fetched.Outcome.RECORDS
                        : error == Errors.OFFSET_OUT_OF_RANGE ? FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE
                        : FollowerFetchLogic.Fetched.Outcome.REFUSED;
                ByteBuffer records = p.records() instanceof MemoryRecords memory ? memory.buffer() : null;
                answers.add(new FollowerFetchLogic.Fetched(tp, epoch, outcome, records, p.highWatermark(), p.logStartOffset(), position.topicId()));
            }
        }
        for (FollowerFetchLogic.Fetched answer : answers) {
            if (answer.records() != null && answer.records().remaining() > 0) {
                if (throttledHere(answer.partition())) {
                    throttles.followerQuota().record(answer.records().remaining());
                }
                if (movingHere(answer.partition())) {
                    throttles.moveQuota().record(answer.records().remaining());
                }
            }
        }
        if (logic.onFetched(answers, time.millis())) {
            pause();
        }
    }

    private static org.apache.kafka.common.Uuid wireId(java.util.UUID id) {
        return new org.apache.kafka.common.Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    private void resetSession() {
        session.reset();
        sessionIds.clear();
        namesById.clear();
    }

    private static boolean sameId(org.apache.kafka.common.Uuid wire, java.util.UUID id) {
        return id != null && wire.getMostSignificantBits() == id.getMostSignificantBits()
                && wire.getLeastSignificantBits() == id.getLeastSignificantBits();
    }

    /** A throttled copy: listed for this node, and this replica not in the partition's in-sync set. */
    private boolean throttledHere(TopicPartition tp) {
        return throttles.throttledAsFollower(tp) && !inSyncHere(tp);
    }

    /** A replica a move is adding to this node, not in sync yet: copied within the node's move rate. */
    private boolean movingHere(TopicPartition tp) {
        return throttles.movingHere(tp) && !inSyncHere(tp);
    }

    private boolean inSyncHere(TopicPartition tp) {
        Partition partition = logic.partition(tp);
        return partition != null && partition.isr().contains(localId);
    }
}
