package io.spate.server.handlers;

import io.spate.log.AbortedTxn;
import io.spate.log.LogError;
import io.spate.log.LogReadResult;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.server.network.FileSliceRecords;
import io.spate.replication.ParkedReads;
import io.spate.replication.Partition;
import io.spate.replication.node.NodeRoles;
import io.spate.replication.ReadBound;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Fetch: reads file slices below the high watermark, which the network layer sends with
 * sendfile. A fetch that finds fewer than {@code min.bytes} waits, up to {@code max.wait.ms},
 * for appends to any of its partitions (long poll, parked in replication's {@link ParkedReads}),
 * so idle consumers do not spin; woken, it reads again on its connection's event loop.
 */
public final class FetchHandler implements ApiHandler {
    private final TopicRegistry topics;
    private final ReplicaManager replicas;
    private final FetchSessions sessions = new FetchSessions();

    public FetchHandler(TopicRegistry topics, ReplicaManager replicas) {
        this.topics = topics;
        this.replicas = replicas;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.FETCH;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        FetchRequestData data = ((FetchRequest) request).data();
        short version = header.apiVersion();
        int replicaId = FetchRequest.replicaId(data);
        boolean replica = replicaId >= 0;
        FetchSessions.Context context = sessions.open(data.sessionId(), data.sessionEpoch(), targets(data, version, replicaId), forgotten(data, version),
                replica);
        if (context.incremental()) {
            // Partitions the request did not name were checked when they joined the session; since then leadership may
            // have moved or the epoch advanced. Checking again sends the client NOT_LEADER_OR_FOLLOWER or
            // FENCED_LEADER_EPOCH, so it finds the new leader instead of reading a stale replica or waiting forever.
            for (FetchTarget target : context.targets()) {
                resolve(target, replicaId, version);
            }
        }
        boolean redirected = false;
        if (!replica && version >= 11) {
            for (FetchTarget target : context.targets()) {
                target.preferredReadReplica = target.lookupError == Errors.NONE
                        ? target.resolved.preferredReadReplica(data.rackId(), replicas.rack(), target.fetchOffset) : -1;
                redirected |= target.preferredReadReplica >= 0;
            }
        }
        if (context.error() != Errors.NONE) {
            return CompletableFuture.completedFuture(new FetchResponseData().setErrorCode(context.error().code()).setSessionId(0));
        }
        boolean diverged = false;
        for (FetchTarget target : context.targets()) {
            target.diverging = null;
            if (replica && target.lookupError == Errors.NONE) {
                // A follower's fetch offset is what it holds, once its newest epoch is checked
                // against this log (KIP-320): the leader's view of it, and maybe the high
                // watermark, move now. One whose history parts from this log's is told where
                // instead, and its offset counts for nothing until it has truncated.
                target.diverging = target.resolved.log().divergingEpoch(target.lastFetchedEpoch, target.fetchOffset);
                if (target.diverging == null) {
                    replicas.onFollowerFetch(target.resolved, replicaId, target.fetchOffset, target.replicaLogStartOffset, data.rackId());
                } else {
                    diverged = true;
                }
            }
        }
        List<PartitionRead> reads = readAll(context, data.maxBytes(), replicaId, data.isolationLevel());
        long bytes = 0;
        boolean errors = false;
        java.util.Set<FetchTarget> heldBack = null;
        for (PartitionRead read : reads) {
            bytes += read.result == null ? 0 : read.result.sizeInBytes();
            errors |= read.error != Errors.NONE;
            if (read.heldBack) {
                heldBack = heldBack == null ? new java.util.HashSet<>() : heldBack;
                heldBack.add(read.target);
            }
        }
        if (data.maxWaitMs() <= 0 || bytes >= data.minBytes() || errors || redirected || diverged || context.targets().isEmpty()) {
            return CompletableFuture.completedFuture(respond(context, reads, version));
        }
        release(reads);
        List<ParkedReads.Position> positions = new ArrayList<>(context.targets().size());
        for (FetchTarget t : context.targets()) {
            // A copy held back by the quota has data past its offset: waiting on it would wake at once.
            if (heldBack == null || !heldBack.contains(t)) {
                positions.add(new ParkedReads.Position(t.resolved, t.fetchOffset));
            }
        }
        long maxWaitMs = heldBack == null ? data.maxWaitMs() : Math.min(data.maxWaitMs(), THROTTLE_RECHECK_MS);
        return replicas.parkedReads().park(positions, bound(replica, data.isolationLevel()), data.minBytes(), bytes, maxWaitMs,
                        connection.scheduler())
                .<ApiMessage>thenApplyAsync(woken -> {
                    // Leadership may have moved during the wait: the answer says so rather than reading a former leader's log.
                    for (FetchTarget target : context.targets()) {
                        resolve(target, replicaId, version);
                    }
                    return respond(context, readAll(context, data.maxBytes(), replicaId, data.isolationLevel()), version);
                }, connection.eventLoop());
    }

    /** Followers copy everything the leader has; consumers see only what the in-sync replicas hold (and, read_committed, what is decided). */
    private static ReadBound bound(boolean replica, byte isolationLevel) {
        if (replica) {
            return ReadBound.LOG_END;
        }
        return isolationLevel == IsolationLevel.READ_COMMITTED.id() ? ReadBound.LAST_STABLE : ReadBound.HIGH_WATERMARK;
    }

    private List<FetchTarget> targets(FetchRequestData data, short version, int replicaId) {
        List<FetchTarget> targets = new ArrayList<>();
        for (FetchRequestData.FetchTopic topicData : data.topics()) {
            TopicInfo topic = version >= 13 ? topics.get(TopicIds.fromWire(topicData.topicId())) : topics.get(topicData.topic());
            String name = topic == null ? topicData.topic() : topic.name();
            for (FetchRequestData.FetchPartition p : topicData.partitions()) {
                FetchTarget target = new FetchTarget(name, topicData.topicId(), p.partition(), p.currentLeaderEpoch(), p.fetchOffset(), p.partitionMaxBytes());
                target.replicaLogStartOffset = p.logStartOffset();
                target.lastFetchedEpoch = p.lastFetchedEpoch();
                resolve(target, topic, replicaId, version);
                targets.add(target);
            }
        }
        return targets;
    }

    private void resolve(FetchTarget target, int replicaId, short version) {
        resolve(target, version >= 13 ? topics.get(TopicIds.fromWire(target.topicId)) : topics.get(target.topic), replicaId, version);
    }

    /** Finds the partition a target reads and whether this node may serve it to this fetcher at the epoch it sent. */
    private void resolve(FetchTarget target, TopicInfo topic, int replicaId, short version) {
        int index = target.partition;
        Partition partition = topic == null || index < 0 || index >= topic.partitions() ? null : replicas.partition(target.logPartition(topic.name()));
        int epoch = target.currentLeaderEpoch;
        Errors error = Errors.NONE;
        if (topic == null) {
            error = version >= 13 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (index < 0 || index >= topic.partitions()) {
            error = Errors.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (partition == null || !(replicas.servesAsLeader(partition) || servesConsumers(partition, replicaId, version))) {
            error = Errors.NOT_LEADER_OR_FOLLOWER;
        } else if (version >= 13 && partition.log().topicId() != null && !partition.log().topicId().equals(TopicIds.fromWire(target.topicId))) {
            // The log here is still an earlier topic's of this name (the new image is being applied).
            error = Errors.INCONSISTENT_TOPIC_ID;
        } else {
            error = KafkaErrors.of(NodeRoles.epochCheck(partition, epoch));
        }
        target.resolved = partition;
        target.lookupError = error;
    }

    /** Consumers that know about follower fetching (v11+) may read from a follower, below its high watermark. */
    private static boolean servesConsumers(Partition partition, int replicaId, short version) {
        return replicaId < 0 && version >= 11 && partition.role() == Partition.Role.FOLLOWER;
    }

    private static List<String> forgotten(FetchRequestData data, short version) {
        List<String> keys = new ArrayList<>();
        for (FetchRequestData.ForgottenTopic topic : data.forgottenTopicsData()) {
            String prefix = version >= 13 && topic.topicId() != null && !Uuid.ZERO_UUID.equals(topic.topicId()) ? topic.topicId().toString() : topic.topic();
            topic.partitions().forEach(p -> keys.add(prefix + ":" + p));
        }
        return keys;
    }

    /**
     * One partition's read: what was read, the last stable offset, and (read_committed only) the
     * aborted transactions whose records the client must drop, null otherwise as Kafka answers.
     */
    private record PartitionRead(FetchTarget target, Errors error, LogReadResult result, long lastStableOffset, List<AbortedTxn> aborted,
                                 boolean heldBack) {
        PartitionRead(FetchTarget target, Errors error, LogReadResult result) {
            this(target, error, result, result == null ? -1 : result.lastStableOffset(), null, false);
        }

        PartitionRead(FetchTarget target, Errors error, LogReadResult result, long lastStableOffset, List<AbortedTxn> aborted) {
            this(target, error, result, lastStableOffset, aborted, false);
        }
    }

    /** How long a fetch that only throttled copies could feed waits before it looks at the quota again. */
    private static final long THROTTLE_RECHECK_MS = 100;

    /**
     * Reads every target, in order, within the request's total byte budget (KIP-74). In an
     * incremental session a partition with nothing to tell (no records past the fetch offset,
     * and the marks the client was last sent) is left out: the answer would leave it out anyway,
     * and a follower's session holds every partition it copies from this node, most of them
     * quiet, on every round trip.
     */
    private List<PartitionRead> readAll(FetchSessions.Context context, int maxBytes, int replicaId, byte isolationLevel) {
        boolean replica = replicaId >= 0;
        ReadBound bound = bound(replica, isolationLevel);
        io.spate.replication.quota.ReplicationThrottles throttles = replicas.throttles();
        List<PartitionRead> reads = new ArrayList<>(context.targets().size());
        int remaining = maxBytes;
        boolean minOneBatch = true;
        for (FetchTarget target : context.targets()) {
            if (target.lookupError != Errors.NONE) {
                reads.add(new PartitionRead(target, target.lookupError, null));
                continue;
            }
            if (target.diverging != null) {
                var log = target.resolved.log();
                reads.add(new PartitionRead(target, Errors.NONE, new LogReadResult(LogError.NONE, io.spate.log.FileSlice.EMPTY,
                        log.highWatermark(), log.logStartOffset(), log.logEndOffset())));
                continue;
            }
            if (context.incremental() && nothingToTell(target, bound)) {
                continue;
            }
            if (target.preferredReadReplica >= 0) {
                // The marks as a read here would give them: a read_committed consumer takes its lag
                // from the last stable offset until its next fetch from the follower.
                var log = target.resolved.log();
                reads.add(new PartitionRead(target, Errors.NONE, new LogReadResult(LogError.NONE, io.spate.log.FileSlice.EMPTY,
                        log.highWatermark(), log.logStartOffset(), log.logEndOffset(), log.lastStableOffset(), List.of())));
                continue;
            }
            var log = target.resolved.log();
            boolean throttled = replica && throttles.throttledAsLeader(target.resolved.topicPartition())
                    && !target.resolved.isr().contains(replicaId);
            if (throttled && throttles.leaderQuota().exceeded()) {
                // Over this leader's replication quota: a follower catching up gets the marks, not records, this round.
                LogReadResult marks = new LogReadResult(LogError.NONE, io.spate.log.FileSlice.EMPTY, log.highWatermark(), log.logStartOffset(),
                        log.logEndOffset());
                reads.add(new PartitionRead(target, Errors.NONE, marks, marks.lastStableOffset(), null, true));
                continue;
            }
            int budget = Math.max(0, Math.min(target.maxBytes, remaining));
            LogReadResult result = target.resolved.read(target.fetchOffset, budget, bound, minOneBatch);
            if (throttled) {
                throttles.leaderQuota().record(result.sizeInBytes());
            }
            Errors error = result.error() == LogError.NONE ? Errors.NONE : KafkaErrors.of(result.error());
            if (error == Errors.OFFSET_OUT_OF_RANGE && !replica && target.fetchOffset > log.logEndOffset()
                    && !replicas.servesAsLeader(target.resolved)) {
                // Only a leader under its lease is an authority on where the log ends: a follower
                // behind the consumer, or a leader that lost its lease since the lookup above (a pause
                // in between), would send the consumer back to its reset policy (offset 0 with
                // "earliest"); not leader sends it to the leader, clearing a preferred read replica.
                error = Errors.NOT_LEADER_OR_FOLLOWER;
            }
            // Kafka answers read_uncommitted fetches with no aborted-transaction list at all.
            reads.add(new PartitionRead(target, error, result, result.lastStableOffset(),
                    bound == ReadBound.LAST_STABLE ? result.abortedTransactions() : null));
            if (result.sizeInBytes() > 0) {
                remaining -= result.sizeInBytes();
                minOneBatch = false;
            }
        }
        return reads;
    }

    /**
     * Whether an incremental answer would leave {@code target} out: nothing readable past its
     * fetch offset, and the high watermark, log start and last stable offset it was last sent.
     * Each mark is read once and compared as a read would report it; a mark that moves between
     * these reads and the answer is reported by the next fetch, as it would be had it moved just
     * after the answer.
     */
    private static boolean nothingToTell(FetchTarget target, ReadBound bound) {
        if (target.preferredReadReplica >= 0) {
            return false;
        }
        var log = target.resolved.log();
        if (log.isOffline()) {
            return false; // the read reports it
        }
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        long hw = log.highWatermark();
        long stable = Math.max(start, Math.min(log.lastStableOffset(), hw));
        return target.fetchOffset >= target.resolved.readLimit(bound) && target.fetchOffset >= start && target.fetchOffset <= end
                && hw == target.lastSentHighWatermark && start == target.lastSentLogStartOffset && stable == target.lastSentLastStableOffset;
    }

    private static void release(List<PartitionRead> reads) {
        reads.forEach(r -> {
            if (r.result != null) {
                r.result.slice().release();
            }
        });
    }

    private FetchResponseData respond(FetchSessions.Context context, List<PartitionRead> reads, short version) {
        FetchResponseData response = new FetchResponseData().setSessionId(context.responseSessionId());
        Map<String, FetchResponseData.FetchableTopicResponse> byTopic = new LinkedHashMap<>();
        Object lock = context.session() == null ? new Object() : context.session();
        List<FetchTarget> answeredWithData = context.session() == null ? List.of() : new ArrayList<>();
        synchronized (lock) {
            for (PartitionRead read : reads) {
                FetchTarget target = read.target;
                LogReadResult result = read.result;
                long hw = result == null ? -1 : result.highWatermark();
                long logStart = result == null ? -1 : result.logStartOffset();
                boolean hasData = result != null && result.sizeInBytes() > 0;
                long[] diverging = version >= 12 ? target.diverging : null;
                boolean changed = hasData || read.error != Errors.NONE || hw != target.lastSentHighWatermark || logStart != target.lastSentLogStartOffset
                        || read.lastStableOffset != target.lastSentLastStableOffset || target.preferredReadReplica >= 0 || diverging != null;
                if (context.incremental() && !changed) {
                    continue;
                }
                if (hasData && context.session() != null) {
                    answeredWithData.add(target);
                }
                target.lastSentHighWatermark = hw;
                target.lastSentLogStartOffset = logStart;
                target.lastSentLastStableOffset = read.lastStableOffset;
                FetchResponseData.PartitionData partitionData = new FetchResponseData.PartitionData()
                        .setPartitionIndex(target.partition)
                        .setErrorCode(read.error.code())
                        .setHighWatermark(hw)
                        .setLastStableOffset(read.lastStableOffset)
                        .setRecords(hasData ? new FileSliceRecords(result.slice()) : MemoryRecords.EMPTY);
                if (version >= 5) {
                    partitionData.setLogStartOffset(logStart);
                }
                if (read.aborted != null) {
                    List<FetchResponseData.AbortedTransaction> aborted = new ArrayList<>(read.aborted.size());
                    for (AbortedTxn txn : read.aborted) {
                        aborted.add(new FetchResponseData.AbortedTransaction().setProducerId(txn.producerId()).setFirstOffset(txn.firstOffset()));
                    }
                    partitionData.setAbortedTransactions(aborted);
                }
                if (version >= 11) {
                    partitionData.setPreferredReadReplica(target.preferredReadReplica);
                }
                if (diverging != null) {
                    partitionData.setDivergingEpoch(new FetchResponseData.EpochEndOffset().setEpoch((int) diverging[0]).setEndOffset(diverging[1]));
                }
                if (result != null && !hasData) {
                    result.slice().release();
                }
                byTopic.computeIfAbsent(target.topicKey(), k -> {
                    FetchResponseData.FetchableTopicResponse topic = new FetchResponseData.FetchableTopicResponse();
                    if (version >= 13) {
                        topic.setTopicId(target.topicId);
                    } else {
                        topic.setTopic(target.topic);
                    }
                    return topic;
                }).partitions().add(partitionData);
            }
            // A session keeps its partitions in one order and a response is filled in that order up to
            // its byte budget: partitions that just got records go last, so a busy one cannot starve the rest.
            for (FetchTarget target : answeredWithData) {
                FetchTarget held = context.session().partitions.remove(target.key());
                if (held != null) {
                    context.session().partitions.put(target.key(), held);
                }
            }
        }
        response.responses().addAll(byTopic.values());
        return response;
    }
}
