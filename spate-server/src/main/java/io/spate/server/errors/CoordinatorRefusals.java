package io.spate.server.errors;

import io.spate.coordinator.CoordinatorException;
import io.spate.replication.Written;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The coordinator runtime's refusals as a coordinator's errors, which its clients act on: look
 * the coordinator up again (NOT_COORDINATOR), wait (COORDINATOR_LOAD_IN_PROGRESS), retry
 * (COORDINATOR_NOT_AVAILABLE). What a failed write means differs by coordinator, so each says.
 */
public final class CoordinatorRefusals {
    private CoordinatorRefusals() {
    }

    /** {@code future}, its runtime refusal replaced by the coordinator's error. */
    public static <T> CompletableFuture<T> mapped(CompletableFuture<T> future, Function<Written, ServiceException> writeFailed) {
        return future.exceptionallyCompose(failure -> CompletableFuture.failedFuture(of(failure, writeFailed)));
    }

    /** The coordinator's error for {@code failure}, or the failure itself when the runtime did not refuse. */
    public static Throwable of(Throwable failure, Function<Written, ServiceException> writeFailed) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof CoordinatorException refused) {
            return switch (refused.reason()) {
                case NOT_COORDINATOR -> new ServiceException(ServiceError.NOT_COORDINATOR, refused.getMessage());
                case LOADING -> new ServiceException(ServiceError.COORDINATOR_LOAD_IN_PROGRESS, refused.getMessage());
                case NOT_AVAILABLE -> new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE, refused.getMessage());
                case WRITE_FAILED -> writeFailed.apply(refused.written());
            };
        }
        return cause;
    }
}
