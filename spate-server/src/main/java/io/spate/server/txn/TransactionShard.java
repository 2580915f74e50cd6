package io.spate.server.txn;

import io.spate.coordinator.CoordinatorShard;
import io.spate.coordinator.ShardContext;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The transactional ids that hash to one partition of {@code __transaction_state}: their state,
 * rebuilt by replaying that partition, and what this leadership is doing with them (writes in
 * flight, markers being written), which is lost with the leadership: the next leader finds the
 * Prepare states in the log and writes their markers again. Confined to the runtime's thread.
 */
final class TransactionShard implements CoordinatorShard<TxnRecord> {
    final ShardContext context;
    final Map<String, TxnMetadata> transactions = new HashMap<>();
    /** Ids with a state write decided and not yet replayed: other requests for them wait (CONCURRENT_TRANSACTIONS). */
    final Set<String> writing = new HashSet<>();
    /**
     * Ids whose markers this leadership is writing, each with its attempt, done once the attempt
     * ended either way: one that ended without a Complete state written (the markers failed, the
     * lease lapsed for a moment) is started again shortly, or by the next check when it was fenced.
     */
    final Map<String, java.util.concurrent.CompletableFuture<Void>> completing = new HashMap<>();
    private final Consumer<TransactionShard> loaded;

    TransactionShard(ShardContext context, Consumer<TransactionShard> loaded) {
        this.context = context;
        this.loaded = loaded;
    }

    TxnMetadata get(String transactionalId) {
        return transactions.get(transactionalId);
    }

    @Override
    public void replay(TxnRecord record) {
        if (record.metadata() == null) {
            transactions.remove(record.transactionalId());
            completing.remove(record.transactionalId());
        } else {
            transactions.put(record.transactionalId(), record.metadata());
        }
    }

    /** The log is replayed: transactions left in a Prepare state are completed now. */
    @Override
    public void onLoaded() {
        loaded.accept(this);
    }
}
