package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.spate.tables.Consistency;
import io.spate.tables.TableConfig;
import io.spate.tables.TableMetrics;
import io.spate.tables.service.TableSettings;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code GET /admin/tables}, the console's Tables page: every table of the catalog with its
 * settings, and this node's table figures (hints pending, read repairs, anti-entropy, requests and
 * latency per operation and consistency), read from the tables' event thread. Without tables on
 * this node (none set yet, or their stores could not open), {@code "available": false} and why.
 */
final class TablesAdmin {
    /** The figures are read on the tables' thread; a busy one leaves them out rather than hold the answer. */
    private static final long FIGURES_TIMEOUT_MS = 2_000;

    private volatile NodeTables tables;

    void serve(NodeTables tables) {
        this.tables = tables;
    }

    /** A copy of the counters, taken on the tables' event thread (they are that thread's alone). */
    private record Figures(long[] counters, double readRepairRate, long[][] latency) {
        static final String[] COUNTERS = {"hints_sent", "read_repairs_blocking", "read_repairs_background", "keys_read_repaired",
                "anti_entropy_sessions", "anti_entropy_in_sync", "anti_entropy_abandoned", "anti_entropy_keys_pushed",
                "anti_entropy_keys_pulled", "tombstones_collected", "write_timeouts", "writes_unavailable", "read_timeouts",
                "reads_unavailable"};

        static Figures of(TableMetrics m) {
            Consistency[] levels = Consistency.values();
            long[][] latency = new long[2 * levels.length][];
            for (int i = 0; i < levels.length; i++) {
                TableMetrics.Latency w = m.writeLatency(levels[i]);
                TableMetrics.Latency r = m.readLatency(levels[i]);
                latency[i] = new long[]{w.count(), w.totalNanos(), w.maxNanos()};
                latency[levels.length + i] = new long[]{r.count(), r.totalNanos(), r.maxNanos()};
            }
            long[] counters = {m.hintsSent(), m.blockingReadRepairs(), m.backgroundReadRepairs(), m.keysReadRepaired(),
                    m.antiEntropySessions(), m.antiEntropyInSync(), m.antiEntropyAbandoned(), m.keysPushedByAntiEntropy(),
                    m.keysPulledByAntiEntropy(), m.tombstonesPurged(), m.writeTimeouts(), m.writesUnavailable(), m.readTimeouts(),
                    m.readsUnavailable()};
            return new Figures(counters, m.readRepairRate(), latency);
        }
    }

    Response describe() {
        NodeTables t = tables;
        if (t == null) {
            return Response.json(HttpResponseStatus.OK, out -> {
                out.writeStartObject();
                out.writeBooleanField("available", false);
                out.writeStringField("reason", "this node serves no tables");
                out.writeArrayFieldStart("tables");
                out.writeEndArray();
                out.writeEndObject();
            });
        }
        List<TableConfig> catalog = t.catalog().values().stream().sorted(Comparator.comparing(TableConfig::name)).toList();
        java.util.Set<String> served = t.service().tables().keySet();
        Figures figures = null;
        long hintsPending = -1;
        String unavailable = null;
        try {
            CompletableFuture<Figures> f = t.service().metrics(Figures::of);
            CompletableFuture<Long> h = t.service().hintsPending();
            figures = f.get(FIGURES_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            hintsPending = h.get(FIGURES_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            unavailable = String.valueOf(e.getCause().getMessage());
        } catch (TimeoutException e) {
            unavailable = "the tables' thread did not answer within " + FIGURES_TIMEOUT_MS + " ms";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable = "the node is stopping";
        }
        Figures shown = figures;
        long hints = hintsPending;
        String reason = unavailable;
        long dropped = t.service().messagesDropped();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeBooleanField("available", reason == null);
            if (reason != null) {
                out.writeStringField("reason", reason);
            }
            out.writeArrayFieldStart("tables");
            for (TableConfig c : catalog) {
                out.writeStartObject();
                out.writeStringField("name", c.name());
                out.writeNumberField("replication_factor", c.replicationFactor());
                out.writeStringField("write_consistency", c.defaultWrite().name());
                out.writeStringField("read_consistency", c.defaultRead().name());
                out.writeStringField("durability", TableSettings.durabilityText(c.durability()));
                out.writeNumberField("tombstone_grace_ms", c.tombstoneGraceMs());
                out.writeBooleanField("sloppy_quorum", c.sloppyQuorum());
                out.writeBooleanField("served_here", served.contains(c.name()));
                out.writeEndObject();
            }
            out.writeEndArray();
            if (shown != null) {
                out.writeObjectFieldStart("node");
                out.writeNumberField("hints_pending", hints);
                out.writeNumberField("messages_dropped", dropped);
                for (int i = 0; i < Figures.COUNTERS.length; i++) {
                    out.writeNumberField(Figures.COUNTERS[i], shown.counters()[i]);
                }
                out.writeNumberField("read_repair_rate", shown.readRepairRate());
                out.writeArrayFieldStart("requests");
                writeRequests(out, shown.latency());
                out.writeEndArray();
                out.writeEndObject();
            }
            out.writeEndObject();
        });
    }

    /** One entry per operation and consistency: count, mean and largest latency (since the node started). */
    private static void writeRequests(JsonGenerator out, long[][] latency) throws IOException {
        Consistency[] levels = Consistency.values();
        String[] ops = {"write", "read"};
        for (int op = 0; op < ops.length; op++) {
            for (int i = 0; i < levels.length; i++) {
                long[] l = latency[op * levels.length + i];
                out.writeStartObject();
                out.writeStringField("op", ops[op]);
                out.writeStringField("consistency", levels[i].name().toLowerCase(Locale.ROOT));
                out.writeNumberField("count", l[0]);
                out.writeNumberField("mean_ms", l[0] == 0 ? 0 : l[1] / 1e6 / l[0]);
                out.writeNumberField("max_ms", l[2] / 1e6);
                out.writeEndObject();
            }
        }
    }
}
