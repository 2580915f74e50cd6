package io.spate.server.errors;

import java.util.concurrent.CompletionException;

/** A service's refusal with its {@link ServiceError}; what a client is told is decided at the protocol edge. */
public final class ServiceException extends RuntimeException {
    private final ServiceError error;

    public ServiceException(ServiceError error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public ServiceError error() {
        return error;
    }

    /** The refusal inside a failed future's wrapping, or null when it failed for another reason. */
    public static ServiceException in(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof ServiceException refused ? refused : null;
    }

    /** The error a failed future carries: its refusal's, or {@code otherwise}. */
    public static ServiceError errorOf(Throwable failure, ServiceError otherwise) {
        ServiceException refused = in(failure);
        return refused == null ? otherwise : refused.error();
    }
}
