package io.spate.broker;

import io.spate.processing.TableWrites;
import io.spate.tables.TableConfig;
import io.spate.tables.WriteResult;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Pipelines' {@code toTable} writes through this node's table service, at each table's default write consistency. */
final class PipelineTableWrites implements TableWrites {
    private final ClusterTables tables;

    PipelineTableWrites(ClusterTables tables) {
        this.tables = tables;
    }

    @Override
    public CompletableFuture<Void> write(String table, byte[] key, byte[] value) {
        TableConfig config = tables.catalog().get(table);
        if (config == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("no table " + table + " (create it first: spate table create "
                    + table + ")"));
        }
        return write(config, key, value, 0);
    }

    /**
     * OVERLOADED (this node coordinates too many requests; nothing was sent) is back-pressure, not
     * a failure: the write is sent again after a pause, up to about ten seconds of them, so a busy
     * node slows its pipelines instead of failing their tasks.
     */
    private CompletableFuture<Void> write(TableConfig config, byte[] key, byte[] value, int attempt) {
        CompletableFuture<WriteResult> written = value == null
                ? tables.service().delete(config.name(), key, config.defaultWrite(), 0)
                : tables.service().put(config.name(), key, value, config.defaultWrite(), 0);
        return written.thenCompose(result -> {
            if (result.ok()) {
                return CompletableFuture.completedFuture(null);
            }
            if (result.status() == WriteResult.Status.OVERLOADED && attempt < MAX_OVERLOADED_RETRIES) {
                long pauseMs = Math.min(100, 5L << Math.min(attempt, 5));
                return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(pauseMs, TimeUnit.MILLISECONDS))
                        .thenCompose(paused -> write(config, key, value, attempt + 1));
            }
            return CompletableFuture.failedFuture(new IllegalStateException("write at " + config.defaultWrite() + " answered " + result.status()));
        });
    }

    private static final int MAX_OVERLOADED_RETRIES = 100;
}
