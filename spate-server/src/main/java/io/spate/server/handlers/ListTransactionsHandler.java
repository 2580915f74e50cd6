package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import io.spate.server.txn.TxnMetadata;
import io.spate.server.txn.TxnState;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import io.spate.time.Time;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * ListTransactions: the transactional ids this node coordinates, filtered by state, producer id,
 * how long the transaction has been open (v1) and an id pattern (v2); the admin client asks
 * every node and merges the answers.
 */
final class ListTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator transactions;
    private final Time time;

    ListTransactionsHandler(TransactionCoordinator transactions, Time time) {
        this.transactions = transactions;
        this.time = time;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_TRANSACTIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ListTransactionsRequestData data = ((ListTransactionsRequest) request).data();
        ListTransactionsResponseData response = new ListTransactionsResponseData();
        Set<TxnState> states = new HashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String name : data.stateFilters()) {
            TxnState state = TxnState.ofKafkaName(name);
            if (state == null) {
                unknown.add(name);
            } else {
                states.add(state);
            }
        }
        response.setUnknownStateFilters(unknown);
        Set<Long> producerIds = new HashSet<>(data.producerIdFilters());
        Pattern pattern;
        try {
            String regex = data.transactionalIdPattern();
            pattern = regex == null || regex.isEmpty() ? null : Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_REGULAR_EXPRESSION.code()));
        }
        long now = time.millis();
        long minDuration = data.durationFilter();
        Predicate<TxnMetadata> keep = txn -> (states.isEmpty() || states.contains(txn.state()))
                && (producerIds.isEmpty() || producerIds.contains(txn.producerId()))
                && (minDuration < 0 || (txn.startMs() >= 0 && now - txn.startMs() >= minDuration))
                && (pattern == null || pattern.matcher(txn.transactionalId()).matches());
        return transactions.list(keep).handle((listed, failure) -> {
            if (failure != null) {
                return response.setErrorCode(Errors.forException(ApiErrors.unwrap(failure)).code());
            }
            for (TxnMetadata txn : listed) {
                response.transactionStates().add(new ListTransactionsResponseData.TransactionState()
                        .setTransactionalId(txn.transactionalId()).setProducerId(txn.producerId()).setTransactionState(txn.state().kafkaName()));
            }
            return response;
        });
    }
}
