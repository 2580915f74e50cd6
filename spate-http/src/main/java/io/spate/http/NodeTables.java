package io.spate.http;

import io.spate.tables.TableConfig;
import io.spate.tables.service.TableService;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** What the {@code /tables} endpoints need of the node: the catalog, creating a table in it, and the node's tables. */
public interface NodeTables {
    /**
     * Adds the table to the cluster's catalog; completes once this node serves it. Fails with
     * {@link IllegalArgumentException} for bad settings, {@link TableExistsException} when the name is taken.
     */
    CompletableFuture<TableConfig> create(TableConfig config);

    /** The catalog as this node's metadata has it now. */
    Map<String, TableConfig> catalog();

    TableService service();

    /** The largest value a put takes. */
    int maxValueBytes();

    final class TableExistsException extends RuntimeException {
        public TableExistsException(String message) {
            super(message, null, false, false);
        }
    }
}
