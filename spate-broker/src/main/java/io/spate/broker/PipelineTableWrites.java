package io.spate.broker;

import io.spate.processing.TableWrites;
import io.spate.tables.TableConfig;
import io.spate.tables.WriteResult;
import io.spate.tables.service.TableService;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Pipelines' {@code toTable} writes through this node's table service, at each table's default write consistency.
 *
 * <p>One key's writes go one at a time, in the order they were made. The coordinator stamps a
 * write when it takes it, so a write sent again after OVERLOADED would be stamped after a later
 * write of the same key that went through meanwhile, and the key would end at the older value
 * although the task committed past both. While a key's write is out, its next one waits; a newer
 * one for the key replaces the waiting one (only the latest value is owed to the table), and both
 * complete when the newer is acknowledged. So at most one write per key is out and one waits: what
 * this holds is bounded by the keys in flight, and a hot key costs one round trip per reply rather
 * than one per write.
 */
final class PipelineTableWrites implements TableWrites {
    private final Function<String, TableConfig> catalog;
    private final TableService service;
    /** Runs a retry after a pause of the given milliseconds. */
    private final LongFunction<Executor> pause;
    /** The keys with a write out; an entry goes when its write completes with none waiting. */
    private final ConcurrentHashMap<TableKey, Slot> inFlight = new ConcurrentHashMap<>();

    PipelineTableWrites(ClusterTables tables) {
        this(name -> tables.catalog().get(name), tables.service(), ms -> CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS));
    }

    /** @param pause where a retry after OVERLOADED runs, given the pause in milliseconds (tests hold retries there) */
    PipelineTableWrites(Function<String, TableConfig> catalog, TableService service, LongFunction<Executor> pause) {
        this.catalog = catalog;
        this.service = service;
        this.pause = pause;
    }

    private record TableKey(String table, byte[] key) {
        @Override
        public boolean equals(Object o) {
            return o instanceof TableKey k && table.equals(k.table) && Arrays.equals(key, k.key);
        }

        @Override
        public int hashCode() {
            return table.hashCode() * 31 + Arrays.hashCode(key);
        }
    }

    /** A key with a write out, and the newest write of it that waits (none: {@code waiting} null). Changed only inside the map's compute. */
    private static final class Slot {
        TableConfig config;
        byte[] value;
        CompletableFuture<Void> waiting;
    }

    @Override
    public CompletableFuture<Void> write(String table, byte[] key, byte[] value) {
        TableConfig config = catalog.apply(table);
        if (config == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("no table " + table + " (create it first: spate table create "
                    + table + ")"));
        }
        // What every client route refuses: a key or value larger would be stored on this node's
        // replica and time out at the others, whose Write could not carry it.
        if (key.length > TableService.MAX_KEY_BYTES) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a key of " + key.length + " bytes for table " + table
                    + " is over the " + TableService.MAX_KEY_BYTES + " bytes a table key may hold"));
        }
        if (value != null && value.length > service.maxValueBytes()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a value of " + value.length + " bytes for table " + table
                    + " is over the " + service.maxValueBytes() + " bytes a table value may hold (tables.max.value.bytes)"));
        }
        TableKey k = new TableKey(table, key);
        CompletableFuture<Void> done = new CompletableFuture<>();
        var queued = new Object() {
            CompletableFuture<Void> as;
        };
        inFlight.compute(k, (x, slot) -> {
            if (slot == null) {
                return new Slot(); // none out: this one goes now
            }
            if (slot.waiting == null) {
                slot.waiting = done;
            }
            slot.config = config;
            slot.value = value;
            queued.as = slot.waiting;
            return slot;
        });
        if (queued.as != null) {
            return queued.as.copy(); // each caller its own: one that cancels must not cancel the others'
        }
        send(k, config, value, done);
        return done;
    }

    /** Sends the key's write; once it completes, the key's waiting write goes, or the key leaves the map. */
    private void send(TableKey k, TableConfig config, byte[] value, CompletableFuture<Void> done) {
        CompletableFuture<Void> written;
        try {
            written = write(config, k.key(), value, 0);
        } catch (RuntimeException e) { // fails this write alone: left thrown, the key's slot would stay taken and its next writes wait for ever
            written = CompletableFuture.failedFuture(e);
        }
        written.whenComplete((ok, failure) -> {
            Slot[] next = new Slot[1];
            inFlight.compute(k, (x, slot) -> {
                if (slot.waiting == null) {
                    return null;
                }
                next[0] = slot; // out of the map, so no one else changes it
                return new Slot(); // the waiting write is out now
            });
            if (failure != null) {
                done.completeExceptionally(failure);
            } else {
                done.complete(null);
            }
            if (next[0] != null) {
                send(k, next[0].config, next[0].value, next[0].waiting);
            }
        });
    }

    /** Keys with a write out now. */
    int keysInFlight() {
        return inFlight.size();
    }

    /**
     * OVERLOADED (this node coordinates too many requests; nothing was sent) is back-pressure, not
     * a failure: the write is sent again after a pause, up to about ten seconds of them, so a busy
     * node slows its pipelines instead of failing their tasks.
     */
    private CompletableFuture<Void> write(TableConfig config, byte[] key, byte[] value, int attempt) {
        CompletableFuture<WriteResult> written = value == null
                ? service.delete(config.name(), key, config.defaultWrite(), 0)
                : service.put(config.name(), key, value, config.defaultWrite(), 0);
        return written.thenCompose(result -> {
            if (result.ok()) {
                return CompletableFuture.completedFuture(null);
            }
            if (result.status() == WriteResult.Status.OVERLOADED && attempt < MAX_OVERLOADED_RETRIES) {
                long pauseMs = Math.min(100, 5L << Math.min(attempt, 5));
                return CompletableFuture.supplyAsync(() -> null, pause.apply(pauseMs))
                        .thenCompose(paused -> write(config, key, value, attempt + 1));
            }
            return CompletableFuture.failedFuture(new IllegalStateException("write at " + config.defaultWrite() + " answered " + result.status()));
        });
    }

    private static final int MAX_OVERLOADED_RETRIES = 100;
}
