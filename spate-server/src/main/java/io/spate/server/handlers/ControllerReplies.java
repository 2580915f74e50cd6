package io.spate.server.handlers;

import org.apache.kafka.common.protocol.ApiMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A response filled in by controller commands, one entry each, sent once every command has
 * been applied or when the request's timeout runs out (entries not yet answered then keep what
 * they were set to beforehand, normally REQUEST_TIMED_OUT). Entries are written under the
 * response's lock, so the response is never sent half-written.
 */
final class ControllerReplies<R extends ApiMessage> {
    private final R response;
    private final List<CompletableFuture<Void>> pending = new ArrayList<>();

    ControllerReplies(R response) {
        this.response = response;
    }

    /** Runs {@code record} with the command's outcome, or its failure, once it completes. */
    <T> void add(CompletableFuture<T> command, BiConsumer<T, Throwable> record) {
        pending.add(command.handle((outcome, failure) -> {
            synchronized (response) {
                record.accept(outcome, failure);
            }
            return null;
        }));
    }

    CompletableFuture<ApiMessage> send(int timeoutMs) {
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, Math.max(1, timeoutMs), TimeUnit.MILLISECONDS)
                .thenApply(ignored -> {
                    synchronized (response) {
                        return response;
                    }
                });
    }
}
