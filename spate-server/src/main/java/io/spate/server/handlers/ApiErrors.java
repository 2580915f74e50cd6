package io.spate.server.handlers;

import io.spate.server.errors.ServiceException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.UnknownServerException;

import java.util.concurrent.CompletionException;

/** What a failed future tells a client: the Kafka error inside it (a service's refusal mapped by {@link KafkaErrors}), or UNKNOWN_SERVER_ERROR for anything else. */
final class ApiErrors {
    private ApiErrors() {
    }

    static ApiException unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof ServiceException refused) {
            return KafkaErrors.of(refused);
        }
        return cause instanceof ApiException api ? api : new UnknownServerException(cause.getMessage(), cause);
    }
}
