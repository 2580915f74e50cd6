package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;
import io.spate.server.txn.TransactionCoordinator;
import io.spate.server.txn.TxnMarkerChannel;
import io.spate.time.Time;

import java.util.List;

/**
 * The handlers of the transaction APIs (KIP-98) other than InitProducerId, FindCoordinator and
 * TxnOffsetCommit, which live with the producer-id and group handlers.
 */
public final class TransactionHandlers {
    private TransactionHandlers() {
    }

    public static List<ApiHandler> all(TransactionCoordinator transactions, GroupCoordinator groups, TopicRegistry topics,
                                       ReplicaManager replicas, TxnMarkerChannel.LocalWriter markers, Time time) {
        return List.of(
                new AddPartitionsToTxnHandler(transactions, topics),
                new AddOffsetsToTxnHandler(transactions, groups),
                new EndTxnHandler(transactions),
                new WriteTxnMarkersHandler(markers),
                new DescribeTransactionsHandler(transactions),
                new ListTransactionsHandler(transactions, time),
                new DescribeProducersHandler(replicas));
    }
}
