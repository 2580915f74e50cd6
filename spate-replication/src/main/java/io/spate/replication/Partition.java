package io.spate.replication;

import io.spate.log.AppendOrigin;
import io.spate.log.AppendResult;
import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;

import io.spate.log.LogError;
import io.spate.time.Scheduler;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One partition hosted on this node, as leader (takes writes, tracks what each follower has,
 * moves the high watermark; alone in its in-sync set on a standalone node), follower (copies
 * from the leader) or offline (its log failed).
 *
 * <p>The high watermark is the smallest log end offset over the in-sync set (plus any replica
 * whose joining is not yet committed, so that a record is only acknowledged once every replica
 * that could be elected holds it). Writers waiting for {@code acks=all} park here until it
 * passes their records, or until the leadership they wrote under ends.
 *
 * <p>Role changes take the write lock; appends and follower bookkeeping take the read lock, so
 * a batch is never appended under an epoch that has just ended.
 */
public final class Partition {
    /** Told about new data; must not block (runs on the writer's thread). */
    interface AppendListener {
        /** {@code bytes} more can be read within the listener's bound ({@link Long#MAX_VALUE}: not known, read and see). */
        void onAppend(Partition partition, long bytes);
    }

    public enum Role { LEADER, FOLLOWER, OFFLINE }

    /** How many bytes a marker append made readable, for the readers it wakes: not known here, read and see. */
    private static final long UNKNOWN_BYTES = Long.MAX_VALUE;

    /**
     * How long a follower may go without hearing of a high watermark that moved while no records
     * came to carry it. A follower's answer carries the leader's high watermark, and the next
     * records reach it within one fetch; waking every follower each time the high watermark moves
     * would double the round trips of every append (one to copy the records, one to hear they are
     * committed), for a figure no write waits on: a follower only needs it to serve reads and when
     * it is promoted, and neither needs it within milliseconds.
     */
    static final long FOLLOWER_HIGH_WATERMARK_NOTICE_MS = 10;

    /** Why a write waiting for the in-sync replicas did not complete. */
    public static final class ReplicationException extends RuntimeException {
        public enum Reason { NOT_LEADER, NOT_ENOUGH_REPLICAS_AFTER_APPEND }

        private final Reason reason;

        ReplicationException(Reason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    private final TopicPartition topicPartition;
    private final PartitionLog log;
    private final int localId;
    private final PartitionContext context;
    private final ReentrantReadWriteLock roleLock = new ReentrantReadWriteLock();
    /** Consumers and other readers bounded by the high watermark. */
    private final Set<AppendListener> readers = ConcurrentHashMap.newKeySet();
    /** read_committed consumers, bounded by the last stable offset: woken when it moves, which an open transaction holds back. */
    private final Set<AppendListener> stableReaders = ConcurrentHashMap.newKeySet();
    /** Followers' fetches, bounded by the log end offset. */
    private final Set<AppendListener> replicaReaders = ConcurrentHashMap.newKeySet();
    private final Map<Integer, FollowerProgress> followers = new ConcurrentHashMap<>();
    /** A notice of the high watermark to the followers is asked for. */
    private final java.util.concurrent.atomic.AtomicBoolean highWatermarkNoticePending = new java.util.concurrent.atomic.AtomicBoolean();
    private final FollowerNotices.Waiting notice = this::noticeFollowersIfDue;
    /** The high watermark when followers were last woken, and when (the answers they got carry at least it). */
    private volatile long highWatermarkToldFollowers;
    private volatile long followersWokenAtNanos;
    /** acks=all writes waiting for the high watermark, by the offset it must reach. */
    private final TreeMap<Long, List<AckWaiter>> ackWaiters = new TreeMap<>();
    /** DeleteRecords requests waiting for the low watermark; {@code lowWatermarkWaited} lets follower fetches skip the lock. */
    private final List<LowWatermarkWaiter> lowWatermarkWaiters = new ArrayList<>();
    private volatile boolean lowWatermarkWaited;

    private record LowWatermarkWaiter(long offset, CompletableFuture<Long> done) {
    }

    /** A waiting write: answered when the high watermark passes it, if the in-sync set is then still large enough. */
    private record AckWaiter(CompletableFuture<Void> done, int minInsync) {
    }

    private volatile Role role;
    private volatile int leaderEpoch;
    private volatile int leaderId;
    private volatile int partitionEpoch;
    private volatile List<Integer> replicas = List.of();
    private volatile List<Integer> isr = List.of();
    /**
     * Replicas whose joining the in-sync set has been asked for and whose outcome is not known:
     * they count for the high watermark (the "maximal" in-sync set of Kafka's KIP-497), since the
     * controller may have committed the change, and then elect one of them, before this leader
     * hears of it. A shrink needs no such set: {@link #isr} keeps the larger, committed set until
     * the metadata carries the smaller one. Guarded by the role lock.
     */
    private final Set<Integer> pendingJoins = new HashSet<>();
    private volatile boolean isrChangeInFlight;
    /** The partition epoch the change in flight was asked at: only its answer ends it. */
    private volatile int isrChangeInFlightAt = -1;
    /** A change whose answer was lost (timeout, quorum down): sent again until one is known. */
    private volatile List<Integer> unresolvedIsrChange;
    /** The log end offset when this leader's epoch began; a follower must reach it to rejoin. */
    private volatile long epochStartOffset;

    public Partition(TopicPartition topicPartition, PartitionLog log, int localId, Role role) {
        this(topicPartition, log, localId, role, PartitionContext.defaults());
    }

    public Partition(TopicPartition topicPartition, PartitionLog log, int localId, Role role, PartitionContext context) {
        this.topicPartition = topicPartition;
        this.log = log;
        this.localId = localId;
        this.context = context;
        this.role = role;
        this.leaderId = -1;
        this.isr = List.of();
        this.replicas = isr;
        // The log moves the last stable offset (the high watermark passing a marker, the log start
        // passing an open transaction's start, retention and DeleteRecords included) and says so.
        log.onLastStableOffsetAdvanced(bytes -> wake(stableReaders, bytes));
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public PartitionLog log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public int leaderId() {
        return leaderId;
    }

    public int partitionEpoch() {
        return partitionEpoch;
    }

    public Role role() {
        return role;
    }

    /**
     * Whether this leader's high watermark has reached the log end it took over with. Until its
     * followers next report, it can trail records an earlier leader had already acknowledged, so
     * "everything committed" read from it then stops short (Kafka's ListOffsets answers
     * OFFSET_NOT_AVAILABLE meanwhile, KIP-207).
     */
    public boolean caughtUpToEpochStart() {
        return log.highWatermark() >= epochStartOffset;
    }

    /** Whether this replica takes writes and serves consumers now. */
    public boolean isLeader() {
        Role r = role;
        return r == Role.LEADER;
    }

    /**
     * Whether this replica may answer clients as leader now: it leads in the metadata it holds,
     * and the node's lease says that leadership cannot have moved while it was paused or cut off.
     */
    public boolean servesAsLeader() {
        return isLeader() && context.lease().holds();
    }

    public List<Integer> isr() {
        return isr;
    }

    public List<Integer> replicas() {
        return replicas;
    }

    /**
     * Takes leadership at {@code epoch}. Followers' positions are unknown until they fetch, so
     * the high watermark stays where it is (never beyond what this replica could vouch for).
     */
    public void becomeLeader(int epoch, int newPartitionEpoch, List<Integer> newReplicas, List<Integer> newIsr, long nowMs) {
        boolean newTerm;
        roleLock.writeLock().lock();
        try {
            newTerm = role != Role.LEADER || epoch != leaderEpoch;
            int partitionEpochBefore = partitionEpoch;
            role = Role.LEADER;
            leaderId = localId;
            leaderEpoch = epoch;
            partitionEpoch = newPartitionEpoch;
            replicas = List.copyOf(newReplicas);
            isr = List.copyOf(newIsr);
            if (newTerm || newPartitionEpoch != partitionEpochBefore) {
                // The metadata moved past the partition epoch every pending change was based on:
                // the controller takes a change only at the epoch it names, so each one is now either
                // in this in-sync set or can never be committed. The image is the answer.
                pendingJoins.clear();
                unresolvedIsrChange = null;
                // Nor does the change in flight hold up the next one any more: its answer can only be
                // a refusal (or what the image already says), and it may be long in coming, from a
                // controller that stopped answering (fault campaigns, seed 622: a leader waited 3.7 s
                // for a paused controller, its in-sync set one short of min.insync.replicas meanwhile).
                isrChangeInFlight = false;
            }
            if (newTerm) {
                followers.clear();
                epochStartOffset = log.logEndOffset();
            }
            for (int id : newReplicas) {
                if (id != localId) {
                    followers.computeIfAbsent(id, k -> new FollowerProgress(nowMs));
                }
            }
            followers.keySet().retainAll(newReplicas);
        } finally {
            roleLock.writeLock().unlock();
        }
        maybeAdvanceHighWatermark();
        if (newTerm) {
            context.leadership().onBecameLeader(this, epoch);
        }
    }

    /** Follows {@code leader} at {@code epoch}; writes still waiting here will not be acknowledged by this replica. */
    public void becomeFollower(int epoch, int newPartitionEpoch, int leader, List<Integer> newReplicas, List<Integer> newIsr) {
        boolean wasLeading;
        int ledAt;
        roleLock.writeLock().lock();
        try {
            wasLeading = isLeader();
            ledAt = leaderEpoch;
            role = leader < 0 ? Role.OFFLINE : Role.FOLLOWER;
            leaderId = leader;
            leaderEpoch = epoch;
            partitionEpoch = newPartitionEpoch;
            replicas = List.copyOf(newReplicas);
            isr = List.copyOf(newIsr);
            followers.clear();
            pendingJoins.clear();
            unresolvedIsrChange = null;
            isrChangeInFlight = false;
        } finally {
            roleLock.writeLock().unlock();
        }
        failAckWaiters(new ReplicationException(ReplicationException.Reason.NOT_LEADER,
                topicPartition + " is no longer led by this node"));
        failLowWatermarkWaiters(new ReplicationException(ReplicationException.Reason.NOT_LEADER,
                topicPartition + " is no longer led by this node"));
        if (wasLeading) {
            context.leadership().onResigned(this, ledAt);
        }
    }

    /**
     * The one way to write to a partition this replica leads: checks the role (and lease), appends
     * under the current epoch, and completes once the write is as safe as {@code acks} asks: the
     * topic's flush policy met (acks 1 and all), and every in-sync replica holding it, with at
     * least {@code min.insync.replicas} of them (acks all). {@code replicationWaitMs} bounds the
     * wait for the in-sync replicas; the records stay in the log when it runs out (a retry is
     * recognised by its producer sequence). Never completes exceptionally: failures are in the
     * {@link Written}. Completes on the thread that made the write safe (the caller's, a follower
     * fetch's, the group commit's or the deadline scheduler's); callers hop to their own.
     */
    public CompletableFuture<Written> append(ByteBuffer records, Acks acks, long replicationWaitMs, long nowMs) {
        return append(records, acks, replicationWaitMs, nowMs, AppendOrigin.CLIENT);
    }

    /**
     * As above, for a writer of {@code origin}: the node's coordinators pass
     * {@link AppendOrigin#COORDINATOR} (a transaction's offsets are written with the producer's id
     * and epoch and no sequence, as in Kafka).
     */
    public CompletableFuture<Written> append(ByteBuffer records, Acks acks, long replicationWaitMs, long nowMs, AppendOrigin origin) {
        return append(records, acks, replicationWaitMs, nowMs, origin, null);
    }

    /**
     * As above, with the guard of a transaction verified with its coordinator (KIP-890 part 1; see
     * {@link PartitionLog#beginTransactionVerification}); null when none was asked for.
     */
    public CompletableFuture<Written> append(ByteBuffer records, Acks acks, long replicationWaitMs, long nowMs, AppendOrigin origin,
                                             io.spate.log.TxnVerificationGuard verified) {
        int bytes = records.remaining();
        return write(epoch -> log.appendAsLeader(records, epoch, nowMs, origin, verified), bytes, acks, replicationWaitMs, nowMs);
    }

    /**
     * Writes an end-transaction marker for {@code producerId} as leader with acks=all (what
     * WriteTxnMarkers asks of a partition): completes, as {@link #append} does, once the in-sync
     * replicas hold it (and the topic's flush policy is met), or with why not: refused by the log
     * ({@link io.spate.log.LogError#INVALID_PRODUCER_EPOCH}, {@link io.spate.log.LogError#TRANSACTION_COORDINATOR_FENCED}
     * in {@link Written#logError()}), not leader, not enough replicas, timed out.
     */
    public CompletableFuture<Written> appendControl(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                                                    long replicationWaitMs, long nowMs) {
        return write(epoch -> log.appendControlAsLeader(producerId, producerEpoch, coordinatorEpoch, commit, epoch, nowMs),
                UNKNOWN_BYTES, Acks.ALL, replicationWaitMs, nowMs);
    }

    /** An append to the log as leader at {@code epoch}; under the role lock. */
    @FunctionalInterface
    private interface LeaderWrite {
        AppendResult appendAt(int epoch);
    }

    private CompletableFuture<Written> write(LeaderWrite write, long bytes, Acks acks, long replicationWaitMs, long nowMs) {
        if (!context.lease().holds()) {
            return CompletableFuture.completedFuture(Written.refused(WriteError.NOT_LEADER,
                    topicPartition + ": this node has not heard from the controller within its lease"));
        }
        int minInsync = log.config().minInsyncReplicas();
        LeaderAppend appended = leaderAppend(write, bytes, acks == Acks.ALL ? minInsync : 0);
        if (appended.refusal() != null) {
            return CompletableFuture.completedFuture(appended.refusal());
        }
        AppendResult result = appended.result();
        int epoch = appended.epoch();
        Written written = Written.of(result);
        if (written.error() == WriteError.REFUSED || acks == Acks.NONE) {
            return CompletableFuture.completedFuture(written);
        }
        // A retried batch waits too (its first attempt may have timed out unreplicated), and for
        // an old one whose offsets are forgotten, what precedes the batches the log remembers.
        long next = result.nextOffset();
        boolean flush = log.needsFlushBeforeAck(next);
        if (!flush && acks != Acks.ALL) {
            return CompletableFuture.completedFuture(written); // acks=1 with no fsync asked for: nothing to wait for
        }
        CompletableFuture<WriteError> durable = flush
                ? context.groupCommit().flush(log, nowMs).handle((ok, failure) -> failure == null ? WriteError.NONE : WriteError.NOT_DURABLE)
                : null;
        CompletableFuture<WriteError> replicated = acks == Acks.ALL
                ? awaitReplication(next, minInsync, epoch, replicationWaitMs).handle((ok, failure) -> replicationError(failure))
                : null;
        if (durable == null) {
            return replicated.thenApply(r -> settle(written, WriteError.NONE, r, epoch, minInsync, replicationWaitMs));
        }
        if (replicated == null) {
            return durable.thenApply(d -> settle(written, d, WriteError.NONE, epoch, minInsync, replicationWaitMs));
        }
        return durable.thenCombine(replicated, (d, r) -> settle(written, d, r, epoch, minInsync, replicationWaitMs));
    }

    /** The answer once the fsync ({@code durable}) and the in-sync replicas ({@code replicated}) have had their say. */
    private Written settle(Written written, WriteError durable, WriteError replicated, int epoch, int minInsync, long replicationWaitMs) {
        if (durable != WriteError.NONE) {
            return written.failed(durable, "the fsync of " + topicPartition + " failed; the partition is offline on this node");
        }
        if (replicated != WriteError.NONE) {
            return written.failed(replicated, switch (replicated) {
                case TIMED_OUT -> "the in-sync replicas of " + topicPartition + " did not catch up in " + replicationWaitMs + " ms";
                case NOT_LEADER -> "the leadership of " + topicPartition + " at epoch " + epoch + " ended before the in-sync replicas held the write";
                default -> "the in-sync set of " + topicPartition + " shrank below min.insync.replicas=" + minInsync;
            });
        }
        return written;
    }

    private static WriteError replicationError(Throwable failure) {
        if (failure == null) {
            return WriteError.NONE;
        }
        Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
        if (cause instanceof TimeoutException) {
            return WriteError.TIMED_OUT;
        }
        if (cause instanceof ReplicationException r && r.reason() == ReplicationException.Reason.NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
            return WriteError.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
        }
        return WriteError.NOT_LEADER;
    }

    /**
     * Appends as leader under the current epoch and returns at once, waiting for nothing (what
     * {@link #append} with acks=0 does, without the lease check); null when this replica does
     * not lead. For tests that drive the high watermark step by step.
     */
    public AppendResult appendAsLeader(ByteBuffer records, long nowMs) {
        return leaderAppend(epoch -> log.appendAsLeader(records, epoch, nowMs), records.remaining(), 0).result();
    }

    /** An append under the role lock: the result and the epoch it went in under, or why nothing was appended. */
    private record LeaderAppend(AppendResult result, int epoch, Written refusal) {
    }

    private LeaderAppend leaderAppend(LeaderWrite write, long bytes, int requiredInsync) {
        int epoch;
        AppendResult result;
        roleLock.readLock().lock();
        try {
            if (!isLeader()) {
                return new LeaderAppend(null, -1, Written.refused(WriteError.NOT_LEADER, topicPartition + " is not led by this node"));
            }
            if (isr.size() < requiredInsync) {
                return new LeaderAppend(null, -1, Written.refused(WriteError.NOT_ENOUGH_REPLICAS,
                        "the in-sync set of " + topicPartition + " is " + isr + ", below min.insync.replicas=" + requiredInsync));
            }
            epoch = leaderEpoch;
            result = write.appendAt(epoch);
        } finally {
            roleLock.readLock().unlock();
        }
        if (result.ok() && !result.duplicate()) {
            wakeFollowers(bytes);
            maybeAdvanceHighWatermark();
        }
        return new LeaderAppend(result, epoch, null);
    }

    /**
     * Appends batches fetched from the leader of {@code fetchEpoch}, then takes the leader's high
     * watermark as far as this log reaches. Returns null, appending nothing, when the partition
     * has since moved to another epoch: a fetch answered by an old leader must never land after
     * this replica aligned itself with the new one.
     */
    public AppendResult appendAsFollower(ByteBuffer records, long leaderHighWatermark, long nowMs, int fetchEpoch) {
        return appendAsFollower(records, leaderHighWatermark, -1, nowMs, fetchEpoch);
    }

    /**
     * As above, and the log start offset follows the leader's ({@code leaderLogStartOffset},
     * from the fetch response; -1 when unknown): what retention removed there goes here too.
     */
    public AppendResult appendAsFollower(ByteBuffer records, long leaderHighWatermark, long leaderLogStartOffset, long nowMs, int fetchEpoch) {
        AppendResult result = AppendResult.NOTHING;
        roleLock.readLock().lock();
        try {
            if (role != Role.FOLLOWER || leaderEpoch != fetchEpoch) {
                return null;
            }
            if (records.hasRemaining()) {
                result = log.appendAsFollower(records, nowMs, fetchEpoch);
                if (!result.ok()) {
                    return result;
                }
            }
            if (leaderLogStartOffset > log.logStartOffset()) {
                try {
                    log.advanceLogStartOffset(leaderLogStartOffset);
                } catch (java.io.IOException e) {
                    // The records were appended; only the snapshot or epoch checkpoint of the move
                    // failed. The next fetch tries again.
                    return AppendResult.failed(LogError.STORAGE_ERROR, "could not move the log start offset: " + e.getMessage(),
                            log.logStartOffset());
                }
            }
        } finally {
            roleLock.readLock().unlock();
        }
        if (result.ok() && result != AppendResult.NOTHING && log.needsFlushBeforeAck(log.logEndOffset())) {
            // The topic fsyncs before it acknowledges: a follower does so before its next fetch
            // reports these records, so the high watermark only passes what every in-sync replica
            // has on disk, and a power loss of every node loses no acknowledged write (Kafka's
            // followers flush by flush.messages too). Outside the role lock: a slow fsync must not
            // hold up a role change.
            try {
                context.groupCommit().flush(log, nowMs).join();
            } catch (java.util.concurrent.CompletionException e) {
                return AppendResult.failed(LogError.STORAGE_ERROR, "the fsync of replicated records failed: " + e.getCause().getMessage(),
                        log.logStartOffset());
            }
        }
        long madeReadable = log.advanceHighWatermark(leaderHighWatermark);
        if (madeReadable > 0) {
            wake(readers, madeReadable);
        }
        return result;
    }

    /** Truncates to where this replica's history and the leader's of {@code fetchEpoch} part; false when the epoch has moved on. */
    public boolean truncateAsFollower(long offset, int fetchEpoch) throws java.io.IOException {
        roleLock.readLock().lock();
        try {
            if (role != Role.FOLLOWER || leaderEpoch != fetchEpoch) {
                return false;
            }
            log.truncateTo(offset);
            return true;
        } finally {
            roleLock.readLock().unlock();
        }
    }

    /**
     * Empties the log and starts it at the leader's log start offset: this replica's log ends
     * below it, so the offsets in between are gone everywhere and can never be fetched; or this
     * log holds no batch and ends past the leader's end. False (nothing done) when the epoch has
     * moved on, or when this log holds records the leader's start does not cover.
     */
    public boolean truncateFullyAsFollower(long leaderLogStartOffset, int fetchEpoch) throws java.io.IOException {
        return startOver(leaderLogStartOffset, fetchEpoch, false);
    }

    /**
     * Empties the log and starts it at the leader's log start offset, whatever it holds: the
     * leader holds no epoch as old as this log's newest, so nothing here at or past that start is
     * the leader's history (see FollowerFetchLogic), and nothing committed lies past it: records
     * below this replica's high watermark are in the leader's log with their epochs unless it
     * deleted them. False (nothing done) when the epoch has moved on or the leader's log start is
     * unknown.
     */
    public boolean startOverAsFollower(long leaderLogStartOffset, int fetchEpoch) throws java.io.IOException {
        return startOver(leaderLogStartOffset, fetchEpoch, true);
    }

    /** Both of the above; {@code whateverItHolds} skips the check that the leader's start lies outside this log. */
    private boolean startOver(long leaderLogStartOffset, int fetchEpoch, boolean whateverItHolds) throws java.io.IOException {
        roleLock.readLock().lock();
        try {
            long end = log.logEndOffset();
            boolean endsBelowLeadersStart = leaderLogStartOffset > end;
            boolean emptyElsewhere = leaderLogStartOffset != end && holdsNoBatch();
            if (role != Role.FOLLOWER || leaderEpoch != fetchEpoch || leaderLogStartOffset < 0
                    || !(whateverItHolds || endsBelowLeadersStart || emptyElsewhere)) {
                return false;
            }
            log.truncateFullyAndStartAt(leaderLogStartOffset);
            return true;
        } finally {
            roleLock.readLock().unlock();
        }
    }

    /**
     * No batch lies between this log's start and its end: an empty log, or one that a cut inside
     * a compacted copy's gap left with an end past its start and nothing before it. Such a log
     * has no epoch to send with its fetches, so a leader whose log ends below it can only answer
     * that the offset is out of range, and a log start below its end kept it from starting over:
     * the follower fetched the same offset for good (found by a review of fix 67).
     */
    private boolean holdsNoBatch() {
        if (log.logStartOffset() == log.logEndOffset()) {
            return true;
        }
        if (log.latestEpoch() >= 0) {
            return false;
        }
        io.spate.log.LogReadResult read = log.read(log.logStartOffset(), 1, log.logEndOffset(), true);
        try {
            return read.error() == io.spate.log.LogError.NONE && read.sizeInBytes() == 0;
        } finally {
            read.slice().release();
        }
    }

    /**
     * Records a follower's fetch at {@code fetchOffset} (it holds everything below). Returns the
     * in-sync set this leader would now like to have, or null when no change is due.
     */
    public List<Integer> onFollowerFetch(int followerId, long fetchOffset, long nowMs, String followerRack) {
        return onFollowerFetch(followerId, fetchOffset, nowMs, followerRack, true);
    }

    /**
     * As above; {@code mayJoin} false when the metadata this leader holds says the follower may
     * not join the in-sync set now (it is fenced: the controller would refuse, KIP-841). Without
     * that check every fetch of a fenced follower that had caught up was asked for, refused and
     * asked for again: a metadata log entry per fetch (found by the replication simulation).
     */
    public List<Integer> onFollowerFetch(int followerId, long fetchOffset, long nowMs, String followerRack, boolean mayJoin) {
        return onFollowerFetch(followerId, fetchOffset, -1, nowMs, followerRack, mayJoin);
    }

    /** As above, with the log start offset the follower reported ({@code followerLogStart}; -1: not told). */
    public List<Integer> onFollowerFetch(int followerId, long fetchOffset, long followerLogStart, long nowMs, String followerRack, boolean mayJoin) {
        List<Integer> proposal = null;
        roleLock.readLock().lock();
        try {
            if (role != Role.LEADER) {
                return null;
            }
            FollowerProgress progress = followers.get(followerId);
            if (progress == null) {
                return null;
            }
            if (fetchOffset > log.logEndOffset()) {
                // Beyond what this leader holds (a follower with an empty log starting further on,
                // which names no epoch to check): answered OFFSET_OUT_OF_RANGE, and it vouches for
                // nothing, as in Kafka; counted, it moved the high watermark and joined the in-sync
                // set holding none of it.
                return null;
            }
            progress.onFetch(fetchOffset, followerLogStart, log.logEndOffset(), nowMs, followerRack);
            List<Integer> current = isr;
            if (mayJoin && !current.contains(followerId) && !isrChangeInFlight && fetchOffset >= log.highWatermark()
                    && fetchOffset >= epochStartOffset) {
                List<Integer> expanded = new ArrayList<>(current);
                expanded.add(followerId);
                // In the replica list's order, not the order the followers caught up in: a fail-over
                // elects the first live replica of the in-sync set, and partitions placed together
                // (one replica list) then elect the same node, so a task's input and its
                // co-located outputs stay led together.
                List<Integer> order = replicas;
                expanded.sort(java.util.Comparator.comparingInt(id -> order.contains(id) ? order.indexOf(id) : Integer.MAX_VALUE));
                proposal = expanded;
            }
        } finally {
            roleLock.readLock().unlock();
        }
        maybeAdvanceHighWatermark();
        completeLowWatermarkWaiters();
        return proposal;
    }

    /**
     * Kafka's low watermark: the lowest log start offset of this leader and its in-sync followers
     * (-1 while one of them has not reported its own). DeleteRecords answers with it once it
     * reached the offset asked for, so that the records are gone from every in-sync replica.
     */
    public long lowWatermark() {
        long low = log.logStartOffset();
        for (int id : isr) {
            if (id != localId) {
                FollowerProgress progress = followers.get(id);
                low = Math.min(low, progress == null ? -1 : progress.logStartOffset());
            }
        }
        return low;
    }

    /**
     * Completes with the low watermark once it reaches {@code offset}; fails with NOT_LEADER when
     * this node stops leading, or with a {@link TimeoutException} after {@code timeoutMs}.
     */
    public CompletableFuture<Long> awaitLowWatermark(long offset, long timeoutMs) {
        CompletableFuture<Long> future = new CompletableFuture<>();
        roleLock.readLock().lock();
        try {
            if (!isLeader()) {
                future.completeExceptionally(new ReplicationException(ReplicationException.Reason.NOT_LEADER,
                        topicPartition + " is not led by this node"));
                return future;
            }
            synchronized (lowWatermarkWaiters) {
                lowWatermarkWaiters.add(new LowWatermarkWaiter(offset, future));
                lowWatermarkWaited = true;
            }
        } finally {
            roleLock.readLock().unlock();
        }
        completeLowWatermarkWaiters();
        return expiring(future, timeoutMs, "the in-sync replicas' log start did not reach " + offset, () -> {
            synchronized (lowWatermarkWaiters) {
                lowWatermarkWaiters.removeIf(w -> w.done() == future);
                lowWatermarkWaited = !lowWatermarkWaiters.isEmpty();
            }
        });
    }

    /**
     * {@code future}, failed with a {@link TimeoutException} if still waiting after {@code timeoutMs};
     * {@code onFailure} then takes the waiter out (a waiter that completed was taken out by whoever completed it).
     */
    private <T> CompletableFuture<T> expiring(CompletableFuture<T> future, long timeoutMs, String what, Runnable onFailure) {
        if (future.isDone()) {
            return future;
        }
        Scheduler.Timer deadline = context.scheduler().schedule(Math.max(1, timeoutMs), () -> future.completeExceptionally(
                new TimeoutException(topicPartition + ": " + what + " in " + timeoutMs + " ms")));
        future.whenComplete((result, failure) -> {
            deadline.cancel();
            if (failure != null) {
                onFailure.run(); // timed out, or cancelled by the caller
            }
        });
        return future;
    }

    private void completeLowWatermarkWaiters() {
        if (!lowWatermarkWaited) {
            return; // nearly always: one volatile read per follower fetch
        }
        long low = lowWatermark();
        List<LowWatermarkWaiter> due = new ArrayList<>();
        synchronized (lowWatermarkWaiters) {
            lowWatermarkWaiters.removeIf(w -> w.offset() <= low && due.add(w));
            lowWatermarkWaited = !lowWatermarkWaiters.isEmpty();
        }
        due.forEach(w -> w.done().complete(low));
    }

    private void failLowWatermarkWaiters(RuntimeException cause) {
        List<LowWatermarkWaiter> all;
        synchronized (lowWatermarkWaiters) {
            all = new ArrayList<>(lowWatermarkWaiters);
            lowWatermarkWaiters.clear();
            lowWatermarkWaited = false;
        }
        all.forEach(w -> w.done().completeExceptionally(cause));
    }

    /**
     * Follower fetching (KIP-392): an in-sync follower in the consumer's rack that holds
     * {@code fetchOffset} (between its log start and its end, as last reported), when this leader
     * is in another rack; -1 when the consumer should read here. A fetch below this leader's log
     * start is read here too, and answered out of range: the consumer resets only on that answer
     * from its leader. Sent to a follower that no longer holds the offset, it is told out of range
     * there, drops the preferred replica and asks the leader again, which would send it back for
     * good (as Kafka's selector, which keeps only replicas holding the offset).
     */
    public int preferredReadReplica(String clientRack, String localRack, long fetchOffset) {
        if (clientRack == null || clientRack.isEmpty() || clientRack.equals(localRack) || role != Role.LEADER
                || fetchOffset < log.logStartOffset()) {
            return -1;
        }
        for (int id : isr) {
            FollowerProgress progress = followers.get(id);
            if (id != localId && progress != null && clientRack.equals(progress.rack()) && progress.logEndOffset() >= fetchOffset
                    && progress.logStartOffset() >= 0 && progress.logStartOffset() <= fetchOffset) {
                return id;
            }
        }
        return -1;
    }

    /**
     * Whether {@code proposed} is a change this leader could have worked out from its current
     * in-sync set: followers dropped (a shrink, or the current set itself), or exactly one added.
     * A proposal from an older set that added or dropped others is neither. A stale shrink is let
     * through: dropping a replica is the safe direction, nothing acknowledged relies on it.
     */
    private boolean followsFromCurrentIsr(List<Integer> proposed) {
        int added = 0;
        for (int id : proposed) {
            if (!isr.contains(id)) {
                added++;
            }
        }
        return added == 0 || (added == 1 && proposed.containsAll(isr));
    }

    /** In-sync followers that have not caught up for {@code lagMaxMs}; null when none. */
    public List<Integer> laggingIsr(long nowMs, long lagMaxMs) {
        roleLock.readLock().lock();
        try {
            if (role != Role.LEADER || isrChangeInFlight) {
                return null;
            }
            List<Integer> shrunk = new ArrayList<>(isr);
            boolean changed = shrunk.removeIf(id -> {
                if (id == localId) {
                    return false;
                }
                FollowerProgress progress = followers.get(id);
                return progress == null || progress.lagMs(log.logEndOffset(), nowMs) > lagMaxMs;
            });
            return changed ? shrunk : null;
        } finally {
            roleLock.readLock().unlock();
        }
    }

    /** What the controller said to a proposed in-sync set change. */
    public enum IsrChangeOutcome {
        /** Committed: the next metadata image carries the new set. */
        COMMITTED,
        /** Refused, and this node's metadata has caught up with the refusal: it was not applied. */
        REFUSED,
        /** Unknown: the request failed or timed out, and the controller may still have committed it. */
        UNKNOWN
    }

    /**
     * Marks a change to {@code proposed} as asked for; only one may be in flight at a time. A
     * joining replica counts for the high watermark from now on, since the controller may commit
     * its joining (and later elect it) before this leader hears back.
     */
    public boolean beginIsrChange(List<Integer> proposed) {
        return beginIsrChangeAt(proposed) >= 0;
    }

    /** As {@link #beginIsrChange}: the partition epoch the change is asked at, or -1 when it may not be. */
    public int beginIsrChangeAt(List<Integer> proposed) {
        roleLock.writeLock().lock();
        try {
            if (isrChangeInFlight || role != Role.LEADER) {
                return -1;
            }
            if (!proposed.equals(unresolvedIsrChange) && !followsFromCurrentIsr(proposed)) {
                // Worked out under the read lock from an in-sync set that an image replaced before
                // this write lock: sent with the new partition epoch, it would put back a replica the
                // image had just dropped as lagging (a review found the window). The next fetch or
                // check proposes again from the current set.
                return -1;
            }
            if (!proposed.equals(unresolvedIsrChange)) {
                // A joiner caught up when its fetch was seen, under the read lock; writes acknowledged
                // by the set without it may have moved the high watermark past it since. Joining now,
                // it could be elected without them (as Kafka checks again under its write lock).
                for (int id : proposed) {
                    FollowerProgress joining = isr.contains(id) ? null : followers.get(id);
                    if (joining != null && (joining.logEndOffset() < log.highWatermark() || joining.logEndOffset() < epochStartOffset)) {
                        return -1;
                    }
                }
            }
            isrChangeInFlight = true;
            isrChangeInFlightAt = partitionEpoch;
            for (int id : proposed) {
                if (!isr.contains(id)) {
                    pendingJoins.add(id);
                }
            }
            return partitionEpoch;
        } finally {
            roleLock.writeLock().unlock();
        }
    }

    /**
     * The controller's answer to {@code proposed}, a change asked for at {@code basedOnPartitionEpoch}.
     * Only a known refusal lets the replicas it would have added stop counting for the high
     * watermark; an unknown outcome keeps them (the maximal set) and the change is sent again
     * ({@link #isrChangeToRetry}) until an answer or a newer partition epoch settles it.
     */
    public void endIsrChange(List<Integer> proposed, int basedOnPartitionEpoch, IsrChangeOutcome outcome) {
        roleLock.writeLock().lock();
        try {
            if (isrChangeInFlightAt == basedOnPartitionEpoch) {
                isrChangeInFlight = false; // not one asked for since, at a newer epoch
            }
            if (role != Role.LEADER || partitionEpoch != basedOnPartitionEpoch) {
                return; // the metadata already answered (becomeLeader/becomeFollower settled it)
            }
            switch (outcome) {
                case COMMITTED -> unresolvedIsrChange = null;
                case REFUSED -> {
                    unresolvedIsrChange = null;
                    for (int id : proposed) {
                        if (!isr.contains(id)) {
                            pendingJoins.remove(id);
                        }
                    }
                }
                case UNKNOWN -> unresolvedIsrChange = List.copyOf(proposed);
            }
        } finally {
            roleLock.writeLock().unlock();
        }
        maybeAdvanceHighWatermark();
    }

    /** A change whose outcome is unknown, to send again now; null when there is none or one is in flight. */
    public List<Integer> isrChangeToRetry() {
        List<Integer> unresolved = unresolvedIsrChange;
        return unresolved == null || isrChangeInFlight || role != Role.LEADER ? null : unresolved;
    }

    /** The replicas counted for the high watermark now: the in-sync set plus pending joins. */
    public Set<Integer> maximalIsr() {
        roleLock.readLock().lock();
        try {
            Set<Integer> maximal = new java.util.TreeSet<>(isr);
            maximal.addAll(pendingJoins);
            return maximal;
        } finally {
            roleLock.readLock().unlock();
        }
    }

    /** Recomputes the high watermark; wakes readers and writers it lets through. */
    public void maybeAdvanceHighWatermark() {
        long newHw;
        roleLock.readLock().lock();
        try {
            Role r = role;
            if (r == Role.LEADER) {
                newHw = log.logEndOffset();
                List<Integer> committedIsr = isr;
                if (committedIsr.size() < Math.min(log.config().minInsyncReplicas(), replicas.size())) {
                    // KIP-966: nothing is committed while the in-sync set the controller holds is
                    // below min.insync.replicas, so the replicas that left it hold all that is and
                    // may lead. A set holding every replica has nobody outside it to vouch for
                    // anything: a partition with fewer replicas than min.insync.replicas (one, on a
                    // standalone node) commits what they all hold; acks=all is refused all the same. The committed set, not the larger one with joins in flight: a join
                    // that never commits must not have let the high watermark pass them.
                    return;
                }
                // Every follower fetch lands here: the in-sync set and the pending joins (stable
                // under the read lock) are walked in place rather than merged into a new set.
                newHw = lowestVouched(committedIsr, newHw);
                if (!pendingJoins.isEmpty()) {
                    newHw = lowestVouched(pendingJoins, newHw);
                }
            } else {
                return;
            }
        } finally {
            roleLock.readLock().unlock();
        }
        long madeReadable = log.advanceHighWatermark(newHw);
        long after = log.highWatermark();
        if (madeReadable > 0) {
            wake(readers, madeReadable);
            noticeFollowersSoon();
        }
        completeAckWaiters(after);
    }

    private long lowestVouched(Iterable<Integer> ids, long hw) {
        for (int id : ids) {
            if (id != localId) {
                FollowerProgress progress = followers.get(id);
                hw = Math.min(hw, progress == null ? 0 : progress.logEndOffset());
            }
        }
        return hw;
    }

    /**
     * Completes once the high watermark reaches {@code nextOffset}: every in-sync replica holds
     * the records below it. Fails if this replica stops leading first, or if the in-sync set is
     * then smaller than {@code minInsync}. For records appended while this replica led at
     * {@code appendEpoch} (read before the append). An acks=all write is only ever acknowledged by the leadership it was written
     * under: if that ended, even briefly (leader, follower, leader again), the records may have
     * been truncated and the offset reused, so the wait fails with NOT_LEADER and the producer
     * retries. Registration happens under the role lock, so a role change either sees the waiter
     * (and fails it) or the waiter sees the change.
     *
     * <p>What a leader cut off from the controller can still acknowledge: with acks=all, nothing
     * past what its in-sync followers fetch; followers that moved to a new leader stop fetching
     * here, so such writes time out or fail once it learns of the new epoch (or fences itself
     * after broker.session.timeout.ms without the controller). Only if its in-sync set was
     * already just itself can it acknowledge acks=all writes, and then no other replica can have
     * been elected cleanly. With acks=1 it acknowledges every append until it learns of the new
     * epoch or fences itself: those records were never replicated, and when it returns as a
     * follower they are truncated away (acks=1 trades exactly this window for latency).
     */
    public CompletableFuture<Void> awaitReplication(long nextOffset, int minInsync, int appendEpoch) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        roleLock.readLock().lock();
        try {
            if (!isLeader() || leaderEpoch != appendEpoch) {
                future.completeExceptionally(new ReplicationException(ReplicationException.Reason.NOT_LEADER,
                        topicPartition + " is no longer led by this node at epoch " + appendEpoch));
                return future;
            }
            synchronized (ackWaiters) {
                ackWaiters.computeIfAbsent(nextOffset, k -> new ArrayList<>()).add(new AckWaiter(future, minInsync));
            }
            completeAckWaiters(log.highWatermark());
        } finally {
            roleLock.readLock().unlock();
        }
        return future;
    }

    /**
     * As {@link #awaitReplication(long, int, int)}, giving up after {@code timeoutMs}: the future then
     * fails with a {@link java.util.concurrent.TimeoutException} and the write stops waiting here
     * (its records may still replicate later).
     */
    public CompletableFuture<Void> awaitReplication(long nextOffset, int minInsync, int appendEpoch, long timeoutMs) {
        CompletableFuture<Void> future = awaitReplication(nextOffset, minInsync, appendEpoch);
        return expiring(future, timeoutMs, "the in-sync replicas did not reach " + nextOffset, () -> forget(nextOffset, future));
    }

    /** acks=all writes waiting here for the high watermark. */
    public int waitingAcks() {
        synchronized (ackWaiters) {
            return ackWaiters.values().stream().mapToInt(List::size).sum();
        }
    }

    private void forget(long nextOffset, CompletableFuture<Void> future) {
        synchronized (ackWaiters) {
            List<AckWaiter> list = ackWaiters.get(nextOffset);
            if (list != null && list.removeIf(w -> w.done() == future) && list.isEmpty()) {
                ackWaiters.remove(nextOffset);
            }
        }
    }

    private void completeAckWaiters(long highWatermark) {
        List<AckWaiter> due = null;
        synchronized (ackWaiters) {
            // Called at every follower fetch: most find nobody due, and allocate nothing then
            // (firstKey returns the stored key; firstEntry would copy the entry).
            while (!ackWaiters.isEmpty() && ackWaiters.firstKey() <= highWatermark) {
                List<AckWaiter> waiters = ackWaiters.pollFirstEntry().getValue();
                if (due == null) {
                    due = waiters;
                } else {
                    due.addAll(waiters);
                }
            }
        }
        if (due == null) {
            return;
        }
        int insync = isr.size();
        for (AckWaiter w : due) {
            if (insync < w.minInsync()) {
                w.done().completeExceptionally(new ReplicationException(ReplicationException.Reason.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                        "the in-sync set of " + topicPartition + " shrank to " + insync + " below min.insync.replicas=" + w.minInsync()));
            } else {
                w.done().complete(null);
            }
        }
    }

    private void failAckWaiters(RuntimeException cause) {
        List<AckWaiter> all = new ArrayList<>();
        synchronized (ackWaiters) {
            ackWaiters.values().forEach(all::addAll);
            ackWaiters.clear();
        }
        all.forEach(w -> w.done().completeExceptionally(cause));
    }

    private void wakeFollowers(long bytes) {
        highWatermarkToldFollowers = log.highWatermark();
        followersWokenAtNanos = context.scheduler().time().nanos();
        wake(replicaReaders, bytes);
    }

    /**
     * Followers learn a high watermark that moved within about {@link #FOLLOWER_HIGH_WATERMARK_NOTICE_MS}
     * (not at their next fetch timeout, so that a follower read from, or promoted, is not far
     * behind on what is committed), by the records that come next or, when none come, by a wake
     * of their own from the node's {@link FollowerNotices} (within two notice periods). The notice
     * is asked for whether or not a follower's fetch is waiting at the move: the fetch that moved
     * it (the only follower's, with two replicas) parks just after. One case waits longer, until
     * the follower's next answer (at the latest after its fetch wait): a follower whose fetch was on
     * its way when the notice (or records) woke the others and found nothing new. Committed data is
     * never at stake, only how fresh a follower's figure is.
     */
    private void noticeFollowersSoon() {
        if (replicas.size() > 1 && highWatermarkNoticePending.compareAndSet(false, true)) {
            context.notices().request(notice);
        }
    }

    private boolean noticeFollowersIfDue() {
        long sinceWokenMs = (context.scheduler().time().nanos() - followersWokenAtNanos) / 1_000_000;
        if (sinceWokenMs < FOLLOWER_HIGH_WATERMARK_NOTICE_MS) {
            // Records went to the followers lately, carrying the high watermark as it was then; a
            // later tick covers what moved after them.
            return false;
        }
        // Cleared before the high watermark is read: a move after this asks again.
        highWatermarkNoticePending.set(false);
        if (log.highWatermark() > highWatermarkToldFollowers) {
            wakeFollowers(UNKNOWN_BYTES);
        }
        return true;
    }

    private void wake(Set<AppendListener> listeners, long bytes) {
        for (AppendListener listener : listeners) {
            listener.onAppend(this, bytes);
        }
    }

    /** The offset a reader with {@code bound} reads up to (exclusive). */
    public long readLimit(ReadBound bound) {
        return switch (bound) {
            case LOG_END -> log.logEndOffset();
            case HIGH_WATERMARK -> log.highWatermark();
            case LAST_STABLE -> lastStableOffset();
        };
    }

    /** Where read_committed readers stop: below the first transaction not yet decided, at most the high watermark. */
    public long lastStableOffset() {
        return log.lastStableOffset();
    }

    /**
     * Reads from {@code offset} up to {@code bound}, at most {@code maxBytes} (but one whole batch
     * if {@code minOneBatch}). A read to {@link ReadBound#LAST_STABLE} also returns the aborted
     * transactions whose records may lie in what it read ({@link LogReadResult#abortedTransactions()}).
     */
    public LogReadResult read(long offset, int maxBytes, ReadBound bound, boolean minOneBatch) {
        return log.read(offset, maxBytes, readLimit(bound), minOneBatch, bound == ReadBound.LAST_STABLE);
    }

    /** Registers a waiting read, woken as data within {@code bound} grows; see {@link ParkedReads}. */
    void addWaiter(AppendListener listener, ReadBound bound) {
        (switch (bound) {
            case LOG_END -> replicaReaders;
            case HIGH_WATERMARK -> readers;
            case LAST_STABLE -> stableReaders;
        }).add(listener);
    }

    void removeWaiter(AppendListener listener) {
        readers.remove(listener);
        replicaReaders.remove(listener);
        stableReaders.remove(listener);
    }

    /** Reads parked here: a completed read must leave none behind. */
    int parkedReads() {
        return readers.size() + replicaReaders.size() + stableReaders.size();
    }

    @Override
    public String toString() {
        return "Partition[" + topicPartition + " " + role + " epoch=" + leaderEpoch + " isr=" + isr + " " + log + "]";
    }
}
