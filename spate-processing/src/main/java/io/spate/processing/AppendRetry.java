package io.spate.processing;

import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Waits for a batch of results appended in place (acks=all) to be acknowledged, and retries it
 * when it failed for a passing reason, as a Kafka producer retries a produce: back-off from
 * {@value #BACKOFF_MS} ms doubling to {@value #BACKOFF_MAX_MS} ms ({@code retry.backoff.ms},
 * {@code retry.backoff.max.ms}), for at most the pipeline's {@code delivery.timeout.ms} from the
 * first failure. What it does depends on whether the failed batch may be in the log:
 *
 * <ul>
 *   <li><b>Not appended</b> (NOT_ENOUGH_REPLICAS; NOT_LEADER refused before the append, e.g. a
 *   lease not renewed while the node still leads): appended again after the back-off. Nothing
 *   of it is anywhere, so this writes it once.
 *   <li><b>Appended, not acknowledged</b> (TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER
 *   once the leadership it was written under ended): not appended again while it may be there.
 *   Without a {@link Lookup} (at-least-once: the batch carries nothing to recognise it by), when
 *   this node still leads at the epoch the batch was appended under, the batch is in its log
 *   below the log end (a leader never truncates its own epoch), so the task waits for the
 *   high watermark to pass the log end with at least min.insync.replicas in sync: the same
 *   condition an acks=all write is acknowledged on. When the epoch ended, the batch may have
 *   been truncated: it is appended again (a duplicate at worst, which at-least-once allows).
 *   With a {@link Lookup} (exactly-once in place: the batch's first record carries its input
 *   position), the log is read from where the batch could start: found, the task waits for it
 *   to be committed as above; not found while this node still leads at the epoch it looked
 *   under, it is appended again, so a reader never sees two batches with the same position.
 *   <li><b>Not passing</b> (REFUSED by the log: too large, corrupt...; NOT_DURABLE): thrown at
 *   once, as before: the task goes back to its last commit.
 * </ul>
 *
 * When the node no longer leads the partition at all, {@link TaskOutput.OutputMovedException}
 * is thrown: the task starts again from its last commit (exactly-once, it first settles what it
 * anchored, from the new leader) without counting a failure. The deadline, a stop of the task
 * and a failure that is not passing throw {@link TaskOutput.LocalAppendException}.
 *
 * <p>The clock and the sleep are injected; nothing here allocates unless an append failed.
 */
final class AppendRetry {
    static final long BACKOFF_MS = 100;
    static final long BACKOFF_MAX_MS = 1_000;
    /** The replicas' wait is re-armed in slices this long, so that a stop or the deadline is seen. */
    private static final long WAIT_SLICE_MS = 1_000;
    /** What {@link Lookup#batchEnd} returns when the batch is not in the log. */
    static final long NOT_THERE = -1;

    /** A pause between attempts; Thread::sleep in a task. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long ms) throws InterruptedException;
    }

    /** Finds the batch in the log of {@code replica}: the offset just past it, or {@link #NOT_THERE}. */
    @FunctionalInterface
    interface Lookup {
        long batchEnd(Partition replica) throws Exception;

        /**
         * The batch is about to be appended again, at the log's end now: a later search must look
         * from there too, which may lie below where its first append began (the log was cut
         * meanwhile, under another leadership).
         */
        default void appendingAgain(Partition replica) {
        }
    }

    /** What a failed append leaves behind. */
    enum Failure {
        /** Nothing was appended: appending it again writes it once. */
        NOT_APPENDED,
        /** It may be in the log, not yet (or no longer) as safe as acks=all. */
        MAYBE_APPENDED,
        /** Not passing: retrying would fail the same way. */
        FINAL
    }

    static Failure classify(Written written) {
        WriteError error = written.error();
        return switch (error) {
            case NOT_ENOUGH_REPLICAS -> Failure.NOT_APPENDED;
            // Refused before the append (not leader, lease not held) has no log start offset.
            case NOT_LEADER -> written.logStartOffset() < 0 ? Failure.NOT_APPENDED : Failure.MAYBE_APPENDED;
            case TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND -> Failure.MAYBE_APPENDED;
            default -> Failure.FINAL; // REFUSED (the log's own reasons), NOT_DURABLE (offline), NONE never comes here
        };
    }

    private final LongSupplier clock;
    private final Sleeper sleeper;
    private final long deliveryTimeoutMs;
    private final long replicationWaitMs;
    private final BooleanSupplier inputLed;
    private final BooleanSupplier stopped;
    private final Consumer<String> onRetry;

    /**
     * @param deliveryTimeoutMs how long after a batch's first failure it is still retried
     * @param replicationWaitMs how long one append waits for the in-sync replicas
     * @param stopped           the task is stopping: no more retries
     * @param onRetry           told why, before each retry (the task's status shows it)
     */
    AppendRetry(LongSupplier clock, Sleeper sleeper, long deliveryTimeoutMs, long replicationWaitMs, BooleanSupplier stopped,
                Consumer<String> onRetry) {
        this(clock, sleeper, deliveryTimeoutMs, replicationWaitMs, stopped, () -> true, onRetry);
    }

    /**
     * As above; {@code inputLed}: the task's node still leads its input at the epoch its attempt
     * began under, looked at before each append again (a newer instance elsewhere may have read
     * the output's last position already, and would process again what this one appends after).
     */
    AppendRetry(LongSupplier clock, Sleeper sleeper, long deliveryTimeoutMs, long replicationWaitMs, BooleanSupplier stopped,
                BooleanSupplier inputLed, Consumer<String> onRetry) {
        this.inputLed = inputLed;
        this.clock = clock;
        this.sleeper = sleeper;
        this.deliveryTimeoutMs = deliveryTimeoutMs;
        this.replicationWaitMs = replicationWaitMs;
        this.stopped = stopped;
        this.onRetry = onRetry;
    }

    long replicationWaitMs() {
        return replicationWaitMs;
    }

    /**
     * Returns once {@code batch} is as safe as acks=all makes it. {@code first} is its append
     * (made at {@code appendEpoch}, read before it), or null to append it now. Returns whether it
     * was appended again: then it lies after whatever was appended to the partition meanwhile.
     */
    boolean await(TopicPartition tp, Partition replica, ByteBuffer batch, int appendEpoch, CompletableFuture<Written> first, Lookup lookup)
            throws Exception {
        return await(tp, replica, batch, appendEpoch, first, lookup, io.spate.log.AppendOrigin.CLIENT);
    }

    /**
     * As above, appending again as {@code origin}. A batch refused for an older producer epoch than
     * the partition knows (a task's results in place, fenced by a newer instance's transactional
     * write) throws {@link InvalidProducerEpochException}: the instance ends as fenced.
     */
    boolean await(TopicPartition tp, Partition replica, ByteBuffer batch, int appendEpoch, CompletableFuture<Written> first, Lookup lookup,
                  io.spate.log.AppendOrigin origin) throws Exception {
        Written written = first == null ? null : get(first);
        if (written != null && written.ok()) {
            return false;
        }
        int epoch = appendEpoch;
        boolean appendedAgain = false;
        boolean failedBefore = false;
        long deadline = Long.MIN_VALUE;
        long backoff = BACKOFF_MS;
        while (true) {
            if (written == null && failedBefore) {
                // Checked again before each append after a failure, not only when one fails: the
                // back-off (up to a second) may have seen the task stop, the input move or the output
                // move (found by a review: an old instance appended after its successor had settled).
                if (stopped.getAsBoolean()) {
                    throw new TaskOutput.OutputMovedException(tp + ": the task is stopping; not appended again");
                }
                if (!inputLed.getAsBoolean()) {
                    throw new TaskOutput.OutputMovedException(tp + ": the task's input is no longer led here at the epoch its attempt"
                            + " began under; not appended again");
                }
                if (!replica.isLeader()) {
                    throw new TaskOutput.OutputMovedException(tp + " is no longer led by this node; not appended again");
                }
            }
            if (written == null) {
                if (lookup != null) {
                    lookup.appendingAgain(replica);
                }
                epoch = replica.leaderEpoch();
                long now = clock.getAsLong();
                long wait = deadline == Long.MIN_VALUE ? replicationWaitMs : Math.max(1, Math.min(replicationWaitMs, deadline - now));
                ByteBuffer again = copy(batch);
                written = get(TaskInterrupts.shielded(() -> replica.append(again, Acks.ALL, wait, now, origin)));
                appendedAgain = true;
                if (written.ok()) {
                    return true;
                }
            }
            failedBefore = true;
            Failure failure = classify(written);
            if (failure == Failure.FINAL) {
                if (written.logError() == io.spate.log.LogError.INVALID_PRODUCER_EPOCH) {
                    throw new InvalidProducerEpochException(tp + ": " + written.message());
                }
                throw new TaskOutput.LocalAppendException(tp, written);
            }
            long now = clock.getAsLong();
            if (deadline == Long.MIN_VALUE) {
                deadline = now + deliveryTimeoutMs;
            }
            if (now >= deadline) {
                throw new TaskOutput.LocalAppendException(tp, written, "still not acknowledged " + deliveryTimeoutMs
                        + " ms (delivery.timeout.ms) after it first failed");
            }
            if (stopped.getAsBoolean()) {
                throw new TaskOutput.LocalAppendException(tp, written, "the task is stopping");
            }
            if (!replica.isLeader()) {
                throw new TaskOutput.OutputMovedException(tp + " is no longer led by this node (" + written.error() + ")");
            }
            onRetry.accept(tp + ": " + written.error() + (written.message() == null ? "" : " (" + written.message() + ")"));
            if (failure == Failure.NOT_APPENDED) {
                backoff = pause(backoff, deadline);
                written = null;
                continue;
            }
            // Maybe appended: where does it end, if it is there?
            int epochNow = replica.leaderEpoch();
            long end;
            if (lookup != null) {
                end = lookup.batchEnd(replica);
                if (end == NOT_THERE) {
                    if (replica.leaderEpoch() == epochNow && replica.isLeader()) {
                        written = null; // not in the log of the leader it looked in: nowhere it could be read
                    }
                    continue; // else looked at again under the new leadership
                }
            } else if (epochNow == epoch) {
                end = replica.readLimit(ReadBound.LOG_END); // this leadership's own appends are never truncated
            } else {
                written = null; // the leadership it went in under ended: it may be gone; a duplicate at worst
                continue;
            }
            CompletableFuture<Void> replicated = replica.awaitReplication(end, replica.log().config().minInsyncReplicas(), epochNow,
                    Math.max(1, Math.min(WAIT_SLICE_MS, deadline - now)));
            try {
                replicated.get(WAIT_SLICE_MS + 5_000, TimeUnit.MILLISECONDS);
                return appendedAgain;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Partition.ReplicationException r
                        && r.reason() == Partition.ReplicationException.Reason.NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
                    written = new Written(WriteError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, written.logError(), r.getMessage(), -1, -1,
                            written.logStartOffset());
                    backoff = pause(backoff, deadline); // committed, but the in-sync set is too small for acks=all yet
                } else if (e.getCause() instanceof Partition.ReplicationException r) {
                    written = new Written(WriteError.NOT_LEADER, written.logError(), r.getMessage(), -1, -1, Math.max(0, written.logStartOffset()));
                }
                // a timed-out slice: looked at again
            } catch (java.util.concurrent.TimeoutException e) {
                replicated.cancel(false);
            }
        }
    }

    private long pause(long backoff, long deadline) throws InterruptedException {
        long ms = Math.max(0, Math.min(backoff, deadline - clock.getAsLong()));
        if (ms > 0) {
            sleeper.sleep(ms);
        }
        return Math.min(backoff * 2, BACKOFF_MAX_MS);
    }

    private Written get(CompletableFuture<Written> append) throws Exception {
        // The partition answers every append within its replication wait; this bound is for one it never answers.
        return append.get(replicationWaitMs + 5_000, TimeUnit.MILLISECONDS);
    }

    /** A fresh copy: the log renumbers a batch in place, and the first one may still be referenced by it. */
    private static ByteBuffer copy(ByteBuffer batch) {
        ByteBuffer copy = ByteBuffer.allocate(batch.remaining());
        copy.put(batch.duplicate());
        return copy.flip();
    }
}
