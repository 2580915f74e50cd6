package io.spate.broker;

import io.spate.processing.TableWrites;
import io.spate.tables.TableConfig;
import io.spate.tables.WriteResult;

import java.util.concurrent.CompletableFuture;

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
        CompletableFuture<WriteResult> written = value == null
                ? tables.service().delete(table, key, config.defaultWrite(), 0)
                : tables.service().put(table, key, value, config.defaultWrite(), 0);
        return written.thenApply(result -> {
            if (!result.ok()) {
                throw new IllegalStateException("write at " + config.defaultWrite() + " answered " + result.status());
            }
            return null;
        });
    }
}
