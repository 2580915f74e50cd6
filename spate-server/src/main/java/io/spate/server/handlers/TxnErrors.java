package io.spate.server.handlers;

import org.apache.kafka.common.protocol.Errors;

/** The Kafka error of a transactional request's failure, in the terms its version knows. */
final class TxnErrors {
    private TxnErrors() {
    }

    /**
     * PRODUCER_FENCED exists for clients since Kafka 2.7 (KIP-588); each API's version from then
     * on ({@code knowsFenced}) gets it, older ones the INVALID_PRODUCER_EPOCH they understand.
     */
    static Errors forVersion(Throwable failure, boolean knowsFenced) {
        return forVersion(Errors.forException(ApiErrors.unwrap(failure)), knowsFenced);
    }

    static Errors forVersion(Errors error, boolean knowsFenced) {
        return error == Errors.PRODUCER_FENCED && !knowsFenced ? Errors.INVALID_PRODUCER_EPOCH : error;
    }
}
