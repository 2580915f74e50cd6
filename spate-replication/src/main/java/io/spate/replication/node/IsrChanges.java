package io.spate.replication.node;

import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.MetadataTransitions;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends the in-sync set changes that the partitions led here ask for to the controller, as one
 * metadata entry for all the changes at hand (Kafka's AlterPartition carries many partitions the
 * same way). After a failover or a node's return every partition asks within a few milliseconds;
 * one commit each made the last wait behind all the others, seconds on a busy quorum. Batches are
 * not serialized behind each other: one stuck at a controller that just died must not hold back
 * the next, which goes to the leader known by then.
 *
 * <p>A refusal only counts once this node's metadata has caught up with it (so an earlier change
 * that did commit is seen first); a failed or timed-out request is an unknown outcome, and the
 * partition keeps counting the replicas it would add for the high watermark until it is known.
 *
 * <p>Batches are sent, and answers time out, on the {@link Scheduler} it is given: a thread of its
 * own in a node, the event loop in the simulation, which runs this same class.
 */
public final class IsrChanges {
    private static final Logger log = LoggerFactory.getLogger(IsrChanges.class);

    /** The controller, as far as in-sync set changes need it. */
    public interface Controller {
        CompletableFuture<CommandResult> submit(MetadataCommand command);

        /** Completes once this node's metadata is at {@code version} or newer. */
        CompletableFuture<?> awaitVersion(long version);

        /** A node's metadata log, as the controller its changes go to. */
        static Controller of(MetadataLog metadata) {
            return new Controller() {
                @Override
                public CompletableFuture<CommandResult> submit(MetadataCommand command) {
                    return metadata.submit(command);
                }

                @Override
                public CompletableFuture<?> awaitVersion(long version) {
                    return metadata.awaitVersion(version);
                }
            };
        }
    }

    private record Change(Partition partition, List<Integer> proposed, int basedOnPartitionEpoch, int leaderEpoch, long askedNanos) {
        TopicPartition tp() {
            return partition.topicPartition();
        }

        MetadataCommand.AlterIsr command(int localId) {
            return new MetadataCommand.AlterIsr(tp().topic(), tp().partition(), localId, leaderEpoch, basedOnPartitionEpoch, proposed);
        }
    }

    private final Controller metadata;
    private final int localId;
    private final long answerTimeoutMs;
    private final ConcurrentLinkedQueue<Change> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final Scheduler scheduler;
    private final Time time;

    /** @param answerTimeoutMs how long a change may go unanswered before it counts as unknown and is sent again */
    public IsrChanges(Controller metadata, int localId, long answerTimeoutMs, Scheduler scheduler) {
        this.metadata = metadata;
        this.localId = localId;
        this.answerTimeoutMs = answerTimeoutMs;
        this.scheduler = scheduler;
        this.time = scheduler.time();
    }

    /**
     * Asks for {@code proposed}, unless the partition has a change in flight already or no longer
     * leads; returns whether it was asked for.
     */
    public boolean propose(Partition partition, List<Integer> proposed) {
        int basedOn = partition.beginIsrChangeAt(proposed);
        if (basedOn < 0) {
            return false;
        }
        queue.add(new Change(partition, List.copyOf(proposed), basedOn, partition.leaderEpoch(), time.nanos()));
        if (flushScheduled.compareAndSet(false, true)) {
            // A scheduler that is closed runs nothing: the node is stopping.
            scheduler.schedule(0, this::flush);
        }
        return true;
    }

    private void flush() {
        // Cleared before draining: a change queued from now on schedules the next flush itself.
        flushScheduled.set(false);
        List<Change> batch = new ArrayList<>();
        for (Change change = queue.poll(); change != null; change = queue.poll()) {
            batch.add(change);
            if (batch.size() == MetadataTransitions.MAX_ISR_CHANGES) {
                send(batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            send(batch);
        }
    }

    private void send(List<Change> batch) {
        MetadataCommand command = batch.size() == 1 ? batch.get(0).command(localId)
                : new MetadataCommand.AlterIsrs(batch.stream().map(c -> c.command(localId)).toList());
        CompletableFuture<CommandResult> answer;
        try {
            answer = metadata.submit(command);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<CommandResult> settled = new CompletableFuture<>();
        answer.thenCompose(result -> refusedMask(result, batch.size()) == 0 ? CompletableFuture.completedFuture(result)
                        : metadata.awaitVersion(result.version()).thenApply(image -> result))
                .whenComplete((result, failure) -> {
                    if (failure != null) {
                        settled.completeExceptionally(failure);
                    } else {
                        settled.complete(result);
                    }
                });
        Scheduler.Timer deadline = scheduler.schedule(answerTimeoutMs, () -> settled.completeExceptionally(
                new TimeoutException("no answer within " + answerTimeoutMs + " ms")));
        settled.whenComplete((result, failure) -> {
            deadline.cancel();
            long refused = failure == null ? refusedMask(result, batch.size()) : 0;
            for (int i = 0; i < batch.size(); i++) {
                settle(batch.get(i), (refused & (1L << i)) != 0, result, failure);
            }
        });
    }

    /** Bit i set: change i of the batch was refused. A lone change is sent as itself and answers for itself. */
    private static long refusedMask(CommandResult result, int size) {
        if (size == 1) {
            return result.succeeded() ? 0 : 1;
        }
        return result.succeeded() ? result.value() : -1L;
    }

    private void settle(Change change, boolean refused, CommandResult result, Throwable failure) {
        TopicPartition tp = change.tp();
        Partition.IsrChangeOutcome outcome;
        if (failure != null) {
            log.warn("{}: no answer to the in-sync set change {} ({}); it counts as maybe committed and is sent again",
                    tp, change.proposed(), failure.toString());
            outcome = Partition.IsrChangeOutcome.UNKNOWN;
        } else {
            outcome = refused ? Partition.IsrChangeOutcome.REFUSED : Partition.IsrChangeOutcome.COMMITTED;
            // While a change is in flight no other is proposed: how long answers take is part of
            // every failover's length (the fault campaigns read it here).
            long tookMs = TimeUnit.NANOSECONDS.toMillis(time.nanos() - change.askedNanos());
            if (refused) {
                log.info("{}: in-sync set change {} refused after {} ms ({})", tp, change.proposed(), tookMs, reason(result.message(), tp));
            } else {
                log.info("{}: in-sync set change {} committed after {} ms", tp, change.proposed(), tookMs);
            }
        }
        change.partition().endIsrChange(change.proposed(), change.basedOnPartitionEpoch(), outcome);
    }

    /** This partition's part of a batch's reasons ("t-0: why; t-1: why"), or the whole message of a lone change. */
    private static String reason(String message, TopicPartition tp) {
        String prefix = tp.topic() + "-" + tp.partition() + ": ";
        int at = message.startsWith(prefix) ? 0 : message.indexOf("; " + prefix);
        if (at < 0) {
            return message;
        }
        int start = at == 0 ? prefix.length() : at + 2 + prefix.length();
        int end = message.indexOf("; ", start);
        return message.substring(start, end < 0 ? message.length() : end);
    }
}
