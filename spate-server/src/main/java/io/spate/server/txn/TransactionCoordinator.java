package io.spate.server.txn;

import io.spate.coordinator.CoordinatorResult;
import io.spate.coordinator.CoordinatorRuntime;
import io.spate.log.TopicPartition;
import io.spate.replication.LeadershipListener;
import io.spate.replication.Partition;
import io.spate.server.errors.CoordinatorRefusals;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.ProducerIdManager;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.partition.ReplicaManager;
import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * Kafka's transaction coordinator (KIP-98) on the coordinator runtime: each transactional id
 * lives in the shard of its {@code __transaction_state} partition, led by one node, and moves with
 * that partition's leadership. A transaction is Ongoing while its producer adds partitions; EndTxn
 * writes PrepareCommit or PrepareAbort (the decision, durable before any marker), then markers go
 * to every partition it touched, then CompleteCommit or CompleteAbort. A new leader of the
 * partition finds Prepare states in the log and writes their markers again.
 *
 * <p>Decisions are {@link TxnTransitions}; they run as tasks of one {@link Scheduler} on a clock
 * from {@link Time}, so that a test drives timeouts by moving a manual clock.
 */
public final class TransactionCoordinator implements AutoCloseable {
    public static final String TOPIC = "__transaction_state";
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinator.class);
    /** How long a state write waits for the in-sync replicas of its partition. */
    static final long WRITE_WAIT_MS = 5_000;
    /** How often a newly loaded shard looks whether what it replayed is committed yet. */
    static final long RESUME_POLL_MS = 100;

    /**
     * Settings under Kafka's broker names: transaction.state.log.num.partitions, .replication.factor,
     * .min.isr, transaction.max.timeout.ms, transaction.abort.timed.out.transaction.cleanup.interval.ms,
     * transactional.id.expiration.ms.
     */
    public record Settings(int partitions, short replicationFactor, int minInsync, int maxTimeoutMs, long abortCheckIntervalMs,
                           long idExpirationMs) {
        public static Settings defaults() {
            return new Settings(50, (short) 3, 2, 900_000, 10_000, 604_800_000L);
        }
    }

    /** A producer id and epoch handed out by InitProducerId. */
    public record ProducerIdAndEpoch(long producerId, short epoch) {
    }

    private final Settings settings;
    private final Time time;
    private final TopicManager topics;
    private final ReplicaManager replicas;
    private final ProducerIdManager producerIds;
    private final TxnMarkerChannel markers;
    private final CoordinatorRuntime<TransactionShard, TxnRecord> runtime;
    private final AutoCloseable ownedScheduler;
    private final Scheduler scheduler;

    public TransactionCoordinator(Settings settings, Time time, Scheduler scheduler, TopicManager topics, ReplicaManager replicas,
                                  ProducerIdManager producerIds, TxnMarkerChannel markers) {
        this.settings = settings;
        this.time = time;
        this.topics = topics;
        this.replicas = replicas;
        this.producerIds = producerIds;
        this.markers = markers;
        this.ownedScheduler = scheduler instanceof AutoCloseable closeable ? closeable : null;
        this.scheduler = scheduler;
        CoordinatorRuntime.Partitions partitions = new CoordinatorRuntime.Partitions() {
            @Override
            public Partition partition(int p) {
                return replicas.partition(TOPIC, p);
            }

            @Override
            public boolean leads(Partition partition) {
                return replicas.servesAsLeader(partition);
            }
        };
        this.runtime = new CoordinatorRuntime<>(TOPIC, scheduler, time, partitions,
                context -> new TransactionShard(context, this::loaded), TxnRecordSerde.INSTANCE, WRITE_WAIT_MS);
    }

    /** Loads and drops shards as this node comes to lead and stops leading partitions of {@link #TOPIC}. */
    public LeadershipListener leadership() {
        return runtime.leadership();
    }

    /** Kafka's placement of a transactional id: |hash| mod the partition count, 0 for Integer.MIN_VALUE. */
    public int partitionFor(String transactionalId) {
        int hash = transactionalId.hashCode();
        TopicInfo topic = topics.registry().get(TOPIC);
        int count = topic == null ? settings.partitions() : topic.partitions();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % count;
    }

    /** Creates {@link #TOPIC} on first use (FindCoordinator for a transactional id), as Kafka does. */
    public CompletableFuture<Void> ensureTopicAsync() {
        if (topics.registry().get(TOPIC) != null) {
            return CompletableFuture.completedFuture(null);
        }
        int minInsync = Math.max(1, Math.min(settings.minInsync(), settings.replicationFactor()));
        return topics.createInternalAsync(TOPIC, settings.partitions(), settings.replicationFactor(), Map.of(
                "cleanup.policy", "compact", "min.insync.replicas", String.valueOf(minInsync), "segment.bytes", "104857600"))
                .thenApply(topic -> null);
    }

    // ---------------------------------------------------------------- requests

    /**
     * InitProducerId with a transactional id: a new producer id, or the next epoch of the current
     * one (fencing the producer that had it). An open transaction is aborted first, and the answer
     * is then CONCURRENT_TRANSACTIONS: the client asks again once the abort is complete.
     */
    public CompletableFuture<ProducerIdAndEpoch> initProducerId(String transactionalId, int timeoutMs, long expectedProducerId,
                                                                short expectedEpoch) {
        if (timeoutMs <= 0 || timeoutMs > settings.maxTimeoutMs()) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.INVALID_TRANSACTION_TIMEOUT, "transaction.timeout.ms="
                    + timeoutMs + " is outside 1.." + settings.maxTimeoutMs() + " (transaction.max.timeout.ms)"));
        }
        int p = partitionFor(transactionalId);
        // Ask the shard first whether a new producer id is needed, so that retries and epoch bumps use none.
        return refused(runtime.read(p, shard -> needsFreshId(shard.get(transactionalId))))
                .thenCompose(needed -> needed ? producerIds.nextProducerIdAsync() : CompletableFuture.completedFuture(-1L))
                .thenCompose(fresh -> update(transactionalId, (shard, current) -> {
                    boolean missingId = fresh < 0 && needsFreshId(current);
                    if (missingId) {
                        throw new ServiceException(ServiceError.CONCURRENT_TRANSACTIONS, "the state of '" + transactionalId + "' changed; try again");
                    }
                    TxnTransitions.Decision decision = TxnTransitions.init(current, transactionalId, timeoutMs, expectedProducerId, expectedEpoch,
                            fresh, time.millis());
                    throwIfRefused(decision);
                    TxnMetadata answer = decision.next() != null ? decision.next() : current;
                    return new Outcome<>(decision.next(), answer);
                }))
                .thenCompose(state -> {
                    if (state.state() == TxnState.PREPARE_ABORT) {
                        // The open transaction of a fenced producer is being aborted (its markers start once the
                        // decision is replayed); the new producer waits for it.
                        return CompletableFuture.failedFuture(new ServiceException(ServiceError.CONCURRENT_TRANSACTIONS,
                                "aborting the open transaction of '" + transactionalId + "' before a new producer may start"));
                    }
                    return CompletableFuture.completedFuture(new ProducerIdAndEpoch(state.producerId(), state.producerEpoch()));
                });
    }

    private static boolean needsFreshId(TxnMetadata current) {
        return current == null || (current.state().idle() && TxnTransitions.epochExhausted(current.producerEpoch()));
    }

    /**
     * AddPartitionsToTxn: the partitions join the open transaction (which this begins, if none is
     * open). The first one of a producer's next transaction often comes while the markers of the
     * one it just committed are being written; refused, the client would back off 20 ms (Kafka's
     * producer does for CONCURRENT_TRANSACTIONS), which at a 10 ms commit interval is most of a
     * cycle. So the request waits for that completion, up to {@link #COMPLETION_WAIT_MS}, and
     * is only then refused.
     */
    public CompletableFuture<Void> addPartitions(String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions) {
        return afterCompletion(transactionalId, time.millis() + COMPLETION_WAIT_MS, () -> update(transactionalId, (shard, current) -> {
            TxnTransitions.Decision decision = TxnTransitions.addPartitions(current, transactionalId, producerId, epoch, partitions, time.millis());
            throwIfRefused(decision);
            return new Outcome<Void>(decision.next(), null);
        }));
    }

    /** How long a request meeting the previous transaction's completion waits for it before CONCURRENT_TRANSACTIONS. */
    static final long COMPLETION_WAIT_MS = 100;

    /**
     * Runs {@code operation}; while it is refused with CONCURRENT_TRANSACTIONS and {@code deadlineMs}
     * has not passed, runs it again once the completion under way for the id has ended (or 1 ms
     * later, when none is: a state write in flight). The decision stays the shard's: this only
     * chooses when to ask again, as the client would.
     */
    private <T> CompletableFuture<T> afterCompletion(String transactionalId, long deadlineMs, java.util.function.Supplier<CompletableFuture<T>> operation) {
        return operation.get().handle((answer, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(answer);
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (!(cause instanceof ServiceException refusal) || refusal.error() != ServiceError.CONCURRENT_TRANSACTIONS || time.millis() >= deadlineMs) {
                return CompletableFuture.<T>failedFuture(cause);
            }
            CompletableFuture<Void> turn = new CompletableFuture<>();
            runtime.read(partitionFor(transactionalId), shard -> shard.completing.get(transactionalId)).whenComplete((running, unreadable) -> {
                if (unreadable != null || running == null || running.isDone()) {
                    scheduler.schedule(1, () -> turn.complete(null));
                } else {
                    Scheduler.Timer bound = scheduler.schedule(Math.max(1, deadlineMs - time.millis()), () -> turn.complete(null));
                    running.whenComplete((done, e) -> {
                        bound.cancel();
                        turn.complete(null);
                    });
                }
            });
            return turn.thenCompose(ready -> afterCompletion(transactionalId, deadlineMs, operation));
        }).thenCompose(x -> x);
    }

    /**
     * Whether every one of {@code partitions} is in the open transaction of the producer (the
     * verification a partition leader asks for before taking transactional data, KIP-890 part 1).
     */
    public CompletableFuture<Boolean> verifyPartitions(String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions) {
        return refused(runtime.read(partitionFor(transactionalId), shard -> {
            TxnMetadata current = shard.get(transactionalId);
            throwIfRefused(TxnTransitions.checkProducer(current, transactionalId, producerId, epoch));
            return current.state() == TxnState.ONGOING && current.partitions().containsAll(partitions);
        }));
    }

    /**
     * EndTxn: writes the decision (PrepareCommit or PrepareAbort) and answers once it is committed;
     * the markers and the Complete state follow. A retry of a completed end answers at once.
     */
    public CompletableFuture<Void> endTransaction(String transactionalId, long producerId, short epoch, boolean commit) {
        return update(transactionalId, (shard, current) -> {
            TxnTransitions.Decision decision = TxnTransitions.end(current, transactionalId, producerId, epoch, commit, time.millis());
            throwIfRefused(decision);
            return new Outcome<Void>(decision.next(), null);
        });
    }

    /** DescribeTransactions: the state of a transactional id this node coordinates. */
    public CompletableFuture<TxnMetadata> describe(String transactionalId) {
        return refused(runtime.read(partitionFor(transactionalId), shard -> {
            TxnMetadata current = shard.get(transactionalId);
            if (current == null) {
                throw new ServiceException(ServiceError.TRANSACTIONAL_ID_NOT_FOUND, "no transactional id '" + transactionalId + "' here");
            }
            return current;
        }));
    }

    /** ListTransactions: the transactional ids of every shard loaded here that {@code filter} keeps. */
    public CompletableFuture<List<TxnMetadata>> list(Predicate<TxnMetadata> filter) {
        return runtime.readAll(shard -> shard.transactions.values().stream().filter(filter).toList()).thenApply(lists -> {
            List<TxnMetadata> all = new ArrayList<>();
            lists.forEach(all::addAll);
            return all;
        });
    }

    // ---------------------------------------------------------------- completion and timers

    /** What an operation decided: the state to write (null: nothing) and its answer. */
    private record Outcome<T>(TxnMetadata next, T answer) {
    }

    /**
     * Decides on the current state of {@code transactionalId} and writes the state decided,
     * answering once it is committed. While one write for an id is in flight, others are refused
     * with CONCURRENT_TRANSACTIONS (the client retries), so each decision sees the state before it.
     */
    private <T> CompletableFuture<T> update(String transactionalId, BiFunction<TransactionShard, TxnMetadata, Outcome<T>> decide) {
        boolean[] wrote = new boolean[1];
        return refused(runtime.write(partitionFor(transactionalId), shard -> {
            if (shard.writing.contains(transactionalId)) {
                throw new ServiceException(ServiceError.CONCURRENT_TRANSACTIONS, "another request for '" + transactionalId + "' is being written");
            }
            Outcome<T> outcome = decide.apply(shard, shard.get(transactionalId));
            if (outcome.next() == null) {
                return CoordinatorResult.of(outcome.answer());
            }
            shard.writing.add(transactionalId);
            wrote[0] = true;
            return CoordinatorResult.of(List.of(new TxnRecord(transactionalId, outcome.next())), outcome.answer());
        }, shard -> {
            if (wrote[0]) {
                shard.writing.remove(transactionalId);
                // A decision whose write was answered as timed out may still commit: its markers start once it is replayed.
                complete(shard, transactionalId);
            }
        }));
    }

    private static void throwIfRefused(TxnTransitions.Decision decision) {
        if (decision.refused()) {
            throw new ServiceException(decision.error(), decision.message());
        }
    }

    /**
     * How soon a completion that failed short of being fenced is tried again: the leader epoch
     * moved on this same node (the shard stays, and nothing else would start it again), the
     * lease lapsed for a moment, the Complete state was refused or timed out. Left to the next
     * timeout check, it would hold back the last stable offset of every partition of the
     * transaction, and the producer's next transaction, for up to that interval (10 s by
     * default); Kafka's coordinator tries again at once.
     */
    static final long COMPLETION_RETRY_MS = 100;

    /**
     * On the runtime's thread: writes the markers of a transaction in a Prepare state, then its
     * Complete state, unless an attempt of this leadership is still at it. An attempt whose
     * markers failed other than fenced ends and starts again after {@link #COMPLETION_RETRY_MS},
     * at the leader epoch of that moment; one whose markers are written stays open while its
     * Complete state is tried again every {@link #COMPLETION_RETRY_MS} (the markers are not
     * written again). Both wait on the shard's timers, which die with the shard. A fenced
     * attempt (a newer coordinator owns the transaction), and one that could not start, end and
     * are left to the next check.
     */
    private void complete(TransactionShard shard, String transactionalId) {
        complete(shard, transactionalId, 0);
    }

    private void complete(TransactionShard shard, String transactionalId, int failures) {
        TxnMetadata preparing = shard.get(transactionalId);
        CompletableFuture<Void> running = shard.completing.get(transactionalId);
        if (preparing == null || !preparing.state().preparing() || (running != null && !running.isDone())) {
            return;
        }
        int p = shard.context.partition();
        Partition partition = replicas.partition(TOPIC, p);
        if (partition == null) {
            return;
        }
        CompletableFuture<Void> attempt = new CompletableFuture<>();
        shard.completing.put(transactionalId, attempt);
        // An ended attempt means no more than an absent one: kept, every id that ever ended a
        // transaction would stay in memory. Not a newer attempt that has since taken its place.
        attempt.whenComplete((ok, failure) -> runtime.execute(() -> shard.completing.remove(transactionalId, attempt)));
        int coordinatorEpoch = partition.leaderEpoch();
        TxnMarker marker = new TxnMarker(preparing.producerId(), preparing.producerEpoch(), coordinatorEpoch, preparing.commits());
        try {
            markers.write(marker, preparing.partitions(), () -> partition.leaderEpoch() == coordinatorEpoch && replicas.servesAsLeader(partition))
                    .whenComplete((ok, failure) -> {
                        if (failure == null) {
                            storeCompletion(shard, transactionalId, preparing, attempt, 0);
                            return;
                        }
                        boolean fenced = ServiceException.errorOf(failure, ServiceError.UNKNOWN) == ServiceError.TRANSACTION_COORDINATOR_FENCED;
                        if (fenced || failures % 50 == 0) {
                            log.warn("markers of '{}' (producer {} epoch {}) not written: {}; tried again {}", transactionalId,
                                    preparing.producerId(), preparing.producerEpoch(), failure.getMessage(),
                                    fenced ? "at the next check" : "in " + COMPLETION_RETRY_MS + " ms");
                        }
                        attempt.complete(null);
                        if (!fenced) {
                            later(shard, () -> complete(shard, transactionalId, failures + 1));
                        }
                    });
        } catch (RuntimeException e) {
            log.error("could not start writing the markers of '{}'; tried again at the next check", transactionalId, e);
            attempt.complete(null);
        }
    }

    /** The markers of {@code preparing} are written: stores its Complete state, unless the state moved on meanwhile. */
    private void storeCompletion(TransactionShard shard, String transactionalId, TxnMetadata preparing, CompletableFuture<Void> attempt,
                                 int failures) {
        runtime.write(shard.context.partition(), current -> {
            TxnMetadata now = current == shard ? shard.get(transactionalId) : null;
            boolean same = now != null && now.state() == preparing.state() && now.producerId() == preparing.producerId()
                    && now.producerEpoch() == preparing.producerEpoch();
            return same ? CoordinatorResult.of(List.of(new TxnRecord(transactionalId, TxnTransitions.complete(now, time.millis()))), null)
                    : CoordinatorResult.<TxnRecord, Void>of(null);
        }).whenComplete((written, refused) -> {
            if (refused == null) {
                attempt.complete(null);
                return;
            }
            if (failures % 50 == 0) {
                log.warn("the completion of '{}' (producer {} epoch {}) was not stored: {}; tried again in {} ms", transactionalId,
                        preparing.producerId(), preparing.producerEpoch(), refused.getMessage(), COMPLETION_RETRY_MS);
            }
            later(shard, () -> storeCompletion(shard, transactionalId, preparing, attempt, failures + 1));
        });
    }

    /** From any thread: runs {@code retry} on the runtime's thread after {@link #COMPLETION_RETRY_MS}, unless the shard is dropped first. */
    private void later(TransactionShard shard, Runnable retry) {
        runtime.execute(() -> shard.context.schedule("transaction completion", COMPLETION_RETRY_MS, retry));
    }

    /**
     * A shard finished replaying its log: once what it replayed is committed (a Prepare state
     * past the high watermark may vanish with this leader, and its transaction then be timed out
     * and aborted by the next one), complete what was decided and start the timeout checks, which
     * complete Prepare states too: started before, they wrote the markers of a decision the next
     * leader might never have heard of.
     */
    private void loaded(TransactionShard shard) {
        Partition partition = replicas.partition(TOPIC, shard.context.partition());
        resumeWhenCommitted(shard, partition == null ? 0 : partition.log().logEndOffset());
    }

    private void resumeWhenCommitted(TransactionShard shard, long loadedTo) {
        Partition partition = replicas.partition(TOPIC, shard.context.partition());
        if (partition != null && partition.log().highWatermark() < loadedTo) {
            shard.context.schedule("resume transaction completions", RESUME_POLL_MS, () -> resumeWhenCommitted(shard, loadedTo));
            return;
        }
        scheduleChecks(shard);
        for (TxnMetadata txn : List.copyOf(shard.transactions.values())) {
            try {
                complete(shard, txn.transactionalId());
            } catch (RuntimeException e) {
                log.error("could not resume the completion of '{}'", txn.transactionalId(), e);
            }
        }
    }

    /** Checks the shard's transactions every transaction.abort.timed.out.transaction.cleanup.interval.ms, re-armed before each check runs. */
    private void scheduleChecks(TransactionShard shard) {
        shard.context.schedule("transaction timeouts", settings.abortCheckIntervalMs(), () -> {
            scheduleChecks(shard);
            check(shard);
        });
    }

    /**
     * Aborts open transactions past their timeout (under a bumped epoch, which fences their
     * producer, as Kafka does), resumes completions left without a retry (fenced, or one that
     * could not start), and removes
     * transactional ids idle for longer than transactional.id.expiration.ms.
     */
    void check(TransactionShard shard) {
        long now = time.millis();
        for (TxnMetadata txn : List.copyOf(shard.transactions.values())) {
            try {
                check(shard, txn, now);
            } catch (RuntimeException e) {
                log.error("could not check the transaction of '{}'", txn.transactionalId(), e);
            }
        }
    }

    private void check(TransactionShard shard, TxnMetadata txn, long now) {
        String id = txn.transactionalId();
        if (shard.writing.contains(id)) {
            return;
        }
        if (txn.state().preparing()) {
            complete(shard, id);
        } else if (TxnTransitions.timedOut(txn, now)) {
            log.info("aborting the transaction of '{}' (producer {}): open for {} ms, longer than its timeout of {} ms", id,
                    txn.producerId(), now - txn.startMs(), txn.timeoutMs());
            update(id, (s, current) -> s == shard && current != null && TxnTransitions.timedOut(current, time.millis())
                    ? new Outcome<>(TxnTransitions.fenceAndAbort(current, time.millis()), Boolean.TRUE)
                    : new Outcome<>(null, Boolean.FALSE));
        } else if (txn.state().idle() && now - txn.lastUpdateMs() > settings.idExpirationMs()) {
            runtime.write(shard.context.partition(), s -> s == shard && s.get(id) == txn && !s.writing.contains(id)
                    ? CoordinatorResult.of(List.of(new TxnRecord(id, null)), null)
                    : CoordinatorResult.of(null));
        }
    }

    /** How many completion attempts the shards keep (for tests). */
    CompletableFuture<Integer> completionsTracked() {
        return runtime.readAll(shard -> shard.completing.size()).thenApply(sizes -> sizes.stream().mapToInt(Integer::intValue).sum());
    }

    /** The runtime's refusals as the errors a transactional client acts on (look up, wait, retry). */
    private static <T> CompletableFuture<T> refused(CompletableFuture<T> future) {
        return CoordinatorRefusals.mapped(future, TransactionCoordinator::writeFailed);
    }

    /**
     * Kafka's answers when the transaction log cannot be written: NOT_COORDINATOR when this node
     * lost the partition or its disk (the client looks the coordinator up again), UNKNOWN for a
     * state too large for the topic (retrying cannot help), COORDINATOR_NOT_AVAILABLE otherwise
     * (short of in-sync replicas, slow: the client retries).
     */
    private static ServiceException writeFailed(io.spate.replication.Written written) {
        return new ServiceException(writeError(written), "could not store the transaction's state: " + written.message());
    }

    private static ServiceError writeError(io.spate.replication.Written written) {
        return switch (written.error()) {
            case NOT_LEADER, NOT_DURABLE -> ServiceError.NOT_COORDINATOR;
            case REFUSED -> switch (written.logError()) {
                case STORAGE_ERROR -> ServiceError.NOT_COORDINATOR;
                case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE -> ServiceError.UNKNOWN;
                default -> ServiceError.COORDINATOR_NOT_AVAILABLE;
            };
            default -> ServiceError.COORDINATOR_NOT_AVAILABLE;
        };
    }

    @Override
    public void close() {
        runtime.close();
        if (ownedScheduler != null) {
            try {
                if (ownedScheduler instanceof io.spate.time.SystemScheduler thread) {
                    // Its shards read and append logs: not interrupted; and the runtime's last task, failing
                    // what is pending, runs.
                    thread.closeAfterDueTasks(10_000);
                } else {
                    ownedScheduler.close();
                }
            } catch (Exception e) {
                log.warn("could not stop the transaction coordinator's thread", e);
            }
        }
    }
}
