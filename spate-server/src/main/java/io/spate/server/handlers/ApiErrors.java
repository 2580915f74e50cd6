package io.spate.server.handlers;

import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.UnknownServerException;

import java.util.concurrent.CompletionException;

/** What a failed future tells a client: the Kafka error inside it, or UNKNOWN_SERVER_ERROR for anything else. */
final class ApiErrors {
    private ApiErrors() {
    }

    static ApiException unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof ApiException api ? api : new UnknownServerException(cause.getMessage(), cause);
    }
}
