package io.spate.replication;

import io.spate.log.AppendResult;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a follower does for the partitions it copies from one leader, without the wire: where
 * each fetch starts (with the newest leader epoch this log holds, so that the leader checks the
 * two histories agree up to there), where to truncate when the leader says they part, and what
 * to do with what a fetch brought. {@link ReplicaFetcher} carries the fetches and answers over a
 * connection; a simulation can carry them any other way. The time comes in with each call.
 *
 * <p>Truncation is decided from the fetch itself (the diverging epoch of KIP-320, as Kafka's
 * followers have truncated since 2.7), not from an OffsetForLeaderEpoch round trip before it: a
 * fetch names its topic by id, an OffsetForLeaderEpoch request only by name, so a leader still
 * holding an earlier topic of the same name answered epoch questions from the wrong log.
 *
 * <p>{@link #follow} and {@link #unfollow} may be called from any thread; the rest from the one
 * thread that talks to the leader.
 */
public final class FollowerFetchLogic {
    private static final Logger log = LoggerFactory.getLogger(FollowerFetchLogic.class);

    /**
     * Where a partition's next fetch starts; {@code lastFetchedEpoch} is the newest leader epoch
     * its log holds (-1: none), {@code topicId} names the topic whose log it is (null: not known).
     */
    public record FetchPosition(TopicPartition partition, int currentLeaderEpoch, long fetchOffset, long logStartOffset, int lastFetchedEpoch,
                                UUID topicId) {
    }

    /**
     * What the leader answered for one partition of a fetch sent at {@code currentLeaderEpoch}
     * for the topic {@code topicId} (null: not known). For {@link Outcome#DIVERGING},
     * {@code divergingEpoch} and {@code divergingEndOffset} are the largest epoch the leader holds
     * at or below the fetch's last fetched epoch and where it ends there (epoch -1: none that old).
     */
    public record Fetched(TopicPartition partition, int currentLeaderEpoch, Outcome outcome, ByteBuffer records, long highWatermark,
                          long logStartOffset, UUID topicId, int divergingEpoch, long divergingEndOffset) {
        public Fetched(TopicPartition partition, int currentLeaderEpoch, Outcome outcome, ByteBuffer records, long highWatermark,
                       long logStartOffset, UUID topicId) {
            this(partition, currentLeaderEpoch, outcome, records, highWatermark, logStartOffset, topicId, -1, -1);
        }

        public Fetched(TopicPartition partition, int currentLeaderEpoch, Outcome outcome, ByteBuffer records, long highWatermark,
                       long logStartOffset) {
            this(partition, currentLeaderEpoch, outcome, records, highWatermark, logStartOffset, null);
        }

        /** The leader's answer that this replica's history parts from its own before the fetch offset. */
        public static Fetched diverging(TopicPartition partition, int currentLeaderEpoch, long highWatermark, long logStartOffset, UUID topicId,
                                        int divergingEpoch, long divergingEndOffset) {
            return new Fetched(partition, currentLeaderEpoch, Outcome.DIVERGING, null, highWatermark, logStartOffset, topicId, divergingEpoch,
                    divergingEndOffset);
        }

        public enum Outcome {
            /** Records (possibly none) from the fetch offset on. */
            RECORDS,
            /** The leader does not hold the fetch offset. */
            OUT_OF_RANGE,
            /** This replica's history parts from the leader's before the fetch offset: truncate, then fetch again. */
            DIVERGING,
            /** Anything else (not leader, fenced epoch, storage): a change is on its way in the metadata. */
            REFUSED
        }
    }

    private static final class Followed {
        final Partition partition;
        final int epoch;
        /** The position last handed out: a partition that has not moved hands out the same one (most of them, every round). */
        private FetchPosition position;

        Followed(Partition partition, int epoch) {
            this.partition = partition;
            this.epoch = epoch;
        }

        FetchPosition position() {
            PartitionLog partitionLog = partition.log();
            long end = partitionLog.logEndOffset();
            long start = partitionLog.logStartOffset();
            FetchPosition last = position;
            if (last == null || last.fetchOffset() != end || last.logStartOffset() != start) {
                // The newest epoch changes only with the log end (an append or a truncation), each of which moves the end first.
                last = new FetchPosition(partition.topicPartition(), epoch, end, start, partitionLog.latestEpoch(), partitionLog.topicId());
                position = last;
            }
            return last;
        }
    }

    private final int leaderId;
    private final Map<TopicPartition, Followed> followed = new ConcurrentHashMap<>();
    private long rounds;

    public FollowerFetchLogic(int leaderId) {
        this.leaderId = leaderId;
    }

    /** Starts (or restarts, at a new epoch) copying {@code partition}; false when it already copies it at that epoch. */
    public boolean follow(Partition partition, int epoch) {
        Followed current = followed.get(partition.topicPartition());
        if (current != null && current.epoch == epoch && current.partition == partition) {
            return false;
        }
        followed.put(partition.topicPartition(), new Followed(partition, epoch));
        return true;
    }

    /** The partition copied under {@code tp}, or null. */
    public Partition partition(TopicPartition tp) {
        Followed f = followed.get(tp);
        return f == null ? null : f.partition;
    }

    public void unfollow(TopicPartition tp) {
        followed.remove(tp);
    }

    public boolean isIdle() {
        return followed.isEmpty();
    }

    /**
     * Where this replica's history and the leader's part: the end of the newest epoch both hold,
     * never past either log's end. {@code leaderEpoch} and {@code leaderEndOffset} answer the
     * question for this log's newest epoch: the largest epoch the leader holds at or below it,
     * and where that epoch ends there (negative when the leader holds no epoch that old).
     */
    static long truncationOffset(PartitionLog local, int leaderEpoch, long leaderEndOffset) {
        if (leaderEpoch < 0 || leaderEndOffset < 0) {
            // The leader holds no epoch this old: nothing here is known to be shared with it.
            return local.logStartOffset();
        }
        if (leaderEpoch == local.latestEpoch()) {
            return Math.min(leaderEndOffset, local.logEndOffset());
        }
        long[] ours = local.endOffsetForEpoch(leaderEpoch);
        return Math.min(leaderEndOffset, ours[1] < 0 ? local.logStartOffset() : ours[1]);
    }

    /**
     * The leader holds no epoch as old as this log's newest, and this log runs past where the
     * leader's oldest epoch begins ({@code oldestEpochStart}): everything the leader holds from
     * there on was written in later epochs, so this log parts from it there, and what it holds
     * below is history the leader compacted or deleted. It is cut there and keeps the rest, with
     * its high watermark (cutting back to its own log start moved the high watermark back: found
     * by the replication simulation with DeleteRecords, then with compaction, where a copy of a
     * compacted log begins its oldest epoch at its first surviving batch). When that point lies
     * below this log's start, it starts over at the leader's log start. False when that could not
     * be done this round.
     */
    private boolean cutAtLeadersOldestEpoch(Followed f, long oldestEpochStart, long leaderLogStartOffset) throws IOException {
        PartitionLog partitionLog = f.partition.log();
        long end = partitionLog.logEndOffset();
        if (oldestEpochStart < 0 || oldestEpochStart >= end) {
            return true; // nothing past that point; the next fetch, from the same end, passes the leader's check
        }
        // That point may fall inside one of this log's batches (it is where a batch begins in the
        // leader's log, not in this one): the cut goes before that batch, as Kafka's does.
        long cut = batchStartHolding(partitionLog, oldestEpochStart);
        if (cut >= partitionLog.logStartOffset()) {
            log.info("{}: truncating from {} to {}, where leader {}'s oldest epoch begins (it holds none as old as this log's newest)",
                    f.partition.topicPartition(), end, cut, leaderId);
            return cutTo(f, cut);
        }
        if (!f.partition.startOverAsFollower(leaderLogStartOffset, f.epoch)) {
            return false;
        }
        log.info("{}: leader {}'s oldest epoch begins at {}, below this log's start: started over at its log start {}; the log ended at {}",
                f.partition.topicPartition(), leaderId, oldestEpochStart, leaderLogStartOffset, end);
        return true;
    }

    /** The base offset of this log's batch holding {@code offset} (itself when a batch begins there or none holds it). */
    private static long batchStartHolding(PartitionLog partitionLog, long offset) {
        io.spate.log.LogReadResult read = partitionLog.read(offset, 1, partitionLog.logEndOffset(), true);
        if (read.error() != io.spate.log.LogError.NONE || read.sizeInBytes() == 0) {
            return offset;
        }
        try {
            ByteBuffer batch = read.slice().readIntoHeap();
            long base = batch.getLong(batch.position());
            return base < offset && base >= partitionLog.logStartOffset() ? base : offset;
        } catch (IOException | RuntimeException e) {
            return offset;
        } finally {
            read.slice().release();
        }
    }

    /** Truncates to where the histories agree; false when that could not be done this round. */
    private boolean truncate(Followed f, int leaderEpoch, long leaderEndOffset) throws IOException {
        PartitionLog partitionLog = f.partition.log();
        long target = truncationOffset(partitionLog, leaderEpoch, leaderEndOffset);
        if (target >= partitionLog.logEndOffset()) {
            // Nothing past the point to cut; the next fetch (from the same end) is checked again.
            return true;
        }
        log.info("{}: truncating from {} to {} to match leader {} (epoch {})", f.partition.topicPartition(),
                partitionLog.logEndOffset(), target, leaderId, leaderEpoch);
        return cutTo(f, target);
    }

    /** Cuts the log at {@code target}; false when that could not be done this round. */
    private boolean cutTo(Followed f, long target) {
        try {
            return f.partition.truncateAsFollower(target, f.epoch);
        } catch (IOException | IllegalStateException e) {
            // Usually the log could not find where to cut (its reads disagreed) and nothing was
            // cut; a cut or fsync that failed has taken the log offline. Either way the next
            // fetch of this partition is told again, and the others go on.
            log.warn("{}: could not truncate to {}: {}; fetching from leader {} again", f.partition.topicPartition(), target, e.getMessage(),
                    leaderId);
            return false;
        }
    }

    /**
     * Where each partition ready to copy fetches from: its log end. The leader fills a response
     * in request order until its byte budget runs out, so the order rotates each round and no
     * partition is always last.
     */
    public List<FetchPosition> fetchPositions() {
        List<FetchPosition> positions = new ArrayList<>(followed.size());
        for (Followed f : followed.values()) {
            positions.add(f.position());
        }
        if (!positions.isEmpty()) {
            Collections.rotate(positions, -(int) (rounds++ % positions.size()));
        }
        return positions;
    }

    /**
     * Appends what one fetch brought. Returns true when the next fetch should wait a moment (the
     * leader refused a partition, or an append failed) rather than go out at once.
     */
    public boolean onFetched(List<Fetched> answers, long nowMs) throws IOException {
        boolean backOff = false;
        for (Fetched p : answers) {
            Followed f = followed.get(p.partition());
            if (f == null || f.epoch != p.currentLeaderEpoch()) {
                // Fetched under an epoch the partition has left, even from the same leader node:
                // those records may not be this epoch's history. The new epoch aligns first.
                continue;
            }
            if (p.topicId() != null && !p.topicId().equals(f.partition.log().topicId())) {
                // Fetched for an earlier topic of this name (deleted and created again meanwhile),
                // whose epochs may well coincide with the new one's.
                continue;
            }
            switch (p.outcome()) {
                case REFUSED -> backOff = true;
                case DIVERGING -> {
                    boolean done = p.divergingEpoch() < 0
                            ? cutAtLeadersOldestEpoch(f, p.divergingEndOffset(), p.logStartOffset())
                            : truncate(f, p.divergingEpoch(), p.divergingEndOffset());
                    if (!done) {
                        backOff = true;
                    }
                }
                case OUT_OF_RANGE -> {
                    if (!onOutOfRange(f, p.logStartOffset())) {
                        backOff = true;
                    }
                }
                case RECORDS -> {
                    ByteBuffer records = wholeBatches(p.records() == null ? ByteBuffer.allocate(0) : p.records());
                    AppendResult result = f.partition.appendAsFollower(records, p.highWatermark(), p.logStartOffset(), nowMs, f.epoch);
                    if (result == null) {
                        // The partition moved to another epoch while this fetch was out: drop what it brought.
                        continue;
                    }
                    if (!result.ok()) {
                        log.warn("{}: could not append what leader {} sent: {}", p.partition(), leaderId, result.message());
                        backOff = true;
                    }
                }
            }
        }
        return backOff;
    }

    /**
     * The leader cannot serve this replica's fetch offset. Either this log ends below the
     * leader's log start ({@code leaderLogStartOffset}: retention ran there while this replica
     * was away, or it is new), and then it starts over at the leader's log start, as Kafka's
     * followers do; or it ends past the leader's log end. A log holding records sends its newest
     * epoch with every fetch, so the leader answers that case with where the histories part
     * (DIVERGING) instead; only a log holding no batch (empty, its start past the leader's end,
     * or left with nothing by a cut inside a compacted gap) gets here, and it also starts over at
     * the leader's log start. Returns true when the next fetch can go out at once.
     */
    private boolean onOutOfRange(Followed f, long leaderLogStartOffset) throws IOException {
        long end = f.partition.log().logEndOffset();
        if (f.partition.truncateFullyAsFollower(leaderLogStartOffset, f.epoch)) {
            log.info("{}: the log ended at {}, outside leader {}'s log (which starts at {}): started over there", f.partition.topicPartition(),
                    end, leaderId, leaderLogStartOffset);
            return true;
        }
        log.warn("{}: leader {} cannot serve offset {} and did not say where the histories part; fetching again",
                f.partition.topicPartition(), leaderId, end);
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
}
