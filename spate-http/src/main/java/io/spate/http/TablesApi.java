package io.spate.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.spate.tables.Cell;
import io.spate.tables.Consistency;
import io.spate.tables.ReadResult;
import io.spate.tables.RepairResult;
import io.spate.tables.TableConfig;
import io.spate.tables.TableMessage;
import io.spate.tables.WriteResult;
import io.spate.tables.service.TableService;
import io.spate.tables.service.TableSettings;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The masterless tables over HTTP. Any node takes any request and coordinates it (there is no
 * leader to forward to). Values are the raw bodies; versions (hybrid-logical-clock timestamps,
 * unsigned decimal) travel in the {@code Spate-Version} header, and a client passes the last one it
 * saw as {@code after} so that its next write is ordered after it whatever the clocks say.
 *
 * <pre>
 * POST|PUT /tables                      create: {"name", "replicationFactor", "writeConsistency", "readConsistency",
 *                                        "durability", "tombstoneGraceMs", "sloppyQuorum"} (only name and replicationFactor required)
 * GET  /tables                          the catalog
 * GET  /tables/{t}                      one table's settings, and this node's hints pending
 * GET|PUT|DELETE /tables/{t}/keys/{k}   ?consistency=one|quorum|all (the table's default otherwise), &after=VERSION for writes
 * POST /tables/{t}/keys                 a batch: {"writes": [{"key", "value" | "delete": true, "after"}]}, each its own write
 * POST /tables/{t}/repair               anti-entropy of the table now, from this node with every other live replica
 * GET  /tables/{t}/replica              this node's own replica: keys, tombstones, and a digest of every cell
 * </pre>
 */
final class TablesApi {
    static final String VERSION_HEADER = "Spate-Version";
    static final int TABLE_NOT_FOUND = 40410;
    static final int KEY_NOT_FOUND = 40411;
    static final int TABLE_EXISTS = 40910;
    static final int VALUE_TOO_LARGE = 41310;
    static final int OVERLOADED = 42910;
    static final int UNAVAILABLE = 50310;
    static final int TIMEOUT = 50410;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NodeTables tables;

    TablesApi(NodeTables tables) {
        this.tables = tables;
    }

    static boolean owns(List<String> path) {
        return !path.isEmpty() && path.getFirst().equals("tables");
    }

    Response handle(HttpMethod method, List<String> path, FullHttpRequest request, QueryStringDecoder query) {
        if (path.size() == 1) {
            if (method.equals(HttpMethod.GET)) {
                return list();
            }
            if (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT)) {
                return create(request);
            }
            throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed on /tables");
        }
        String table = path.get(1);
        if (path.size() == 2) {
            onlyGet(method);
            return describe(table);
        }
        if (path.size() == 3 && path.get(2).equals("repair")) {
            if (!method.equals(HttpMethod.POST)) {
                throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here; this path takes POST");
            }
            return repair(table);
        }
        if (path.size() == 3 && path.get(2).equals("replica")) {
            onlyGet(method);
            return replica(table);
        }
        if (path.size() == 3 && path.get(2).equals("keys")) {
            if (!method.equals(HttpMethod.POST)) {
                throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here; this path takes POST");
            }
            return batch(table, request, consistency(query));
        }
        if (isKey(path)) {
            return join(key(method, path, request, query));
        }
        throw new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.NO_SUCH_PATH, "no such path: " + query.rawPath());
    }

    /** GET|PUT|POST|DELETE /tables/{t}/keys/{k}: the routes {@link #key} serves without blocking. */
    static boolean isKey(List<String> path) {
        return path.size() == 4 && path.get(0).equals("tables") && path.get(2).equals("keys");
    }

    /**
     * A request to the coordinator, and how its result becomes the answer. {@link #answer} runs
     * where the caller wants it (the connection's event loop), not on the tables' thread that
     * completes the future: that thread is the one every table request passes through.
     */
    static final class Pending<T> {
        final CompletableFuture<T> future;
        private final java.util.function.Function<T, Response> onResult;
        private final TablesApi api;
        private final String table;

        Pending(CompletableFuture<T> future, java.util.function.Function<T, Response> onResult, TablesApi api, String table) {
            this.future = future;
            this.onResult = onResult;
            this.api = api;
            this.table = table;
        }

        /** The answer to the result, or to the failure (as an {@link ApiError} thrown, or the failure itself if unexpected). */
        Response answer(T result, Throwable failure) {
            if (failure != null) {
                throw api.failed(failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : failure, table);
            }
            return onResult.apply(result);
        }

        /** How long to wait for the future before answering 504: past the coordinator's own request timeout, whose answer normally comes first. */
        long answerWithinMs() {
            return api.tables.service().requestTimeoutMs() + 5_000;
        }
    }

    /**
     * A single key's GET, PUT (or POST) or DELETE: checked now (a refused request throws its
     * {@link ApiError}), sent to the coordinator at once, never blocking: the caller completes the
     * answer when the future does ({@link Pending#answer}).
     */
    Pending<?> key(HttpMethod method, List<String> path, FullHttpRequest request, QueryStringDecoder query) {
        String table = path.get(1);
        byte[] key = path.get(3).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Consistency level = consistency(query);
        if (method.equals(HttpMethod.GET)) {
            return get(table, key, level);
        }
        if (method.equals(HttpMethod.PUT) || method.equals(HttpMethod.POST)) {
            byte[] value = new byte[request.content().readableBytes()];
            if (value.length > tables.maxValueBytes()) {
                throw new ApiError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, VALUE_TOO_LARGE, "a value of " + value.length
                        + " bytes is over the " + tables.maxValueBytes() + " bytes a table value may hold");
            }
            request.content().getBytes(request.content().readerIndex(), value);
            return write(table, key, value, false, level, after(query));
        }
        if (method.equals(HttpMethod.DELETE)) {
            return write(table, key, null, true, level, after(query));
        }
        throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed on a key");
    }

    /** Waits for a pending request here (a handler on its own thread). */
    private <T> Response join(Pending<T> pending) {
        return pending.onResult.apply(await(pending.future, pending.table));
    }

    private static void onlyGet(HttpMethod method) {
        if (!method.equals(HttpMethod.GET)) {
            throw new ApiError(HttpResponseStatus.METHOD_NOT_ALLOWED, ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here; this path takes GET");
        }
    }

    private static Consistency consistency(QueryStringDecoder query) {
        List<String> values = query.parameters().get("consistency");
        if (values == null || values.isEmpty()) {
            return null;
        }
        try {
            return TableSettings.consistency("consistency", values.getFirst());
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(ApiError.BAD_PARAMETER, e.getMessage());
        }
    }

    private static long after(QueryStringDecoder query) {
        List<String> values = query.parameters().get("after");
        if (values == null || values.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseUnsignedLong(values.getFirst());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(ApiError.BAD_PARAMETER, "after must be a version (an unsigned number), not '" + values.getFirst() + "'");
        }
    }

    /**
     * The table as this node serves it. A table of the catalog that is not open here (its store
     * still opening after a start, or failed to open) is 503, not 404: it exists, and another node
     * or a later try may serve it.
     */
    private TableConfig known(String table) {
        TableConfig config = tables.service().table(table);
        if (config == null) {
            throw tableNotFound(table);
        }
        return config;
    }

    /** 404 for a name the catalog does not hold; 503 with the reason for one it holds that is not open here. */
    private ApiError tableNotFound(String table) {
        if (tables.catalog().containsKey(table)) {
            String why = tables.service().notServing(table);
            return new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE,
                    "UNAVAILABLE: table '" + table + "' is not open on this node: " + (why != null ? why : "opening"));
        }
        return new ApiError(HttpResponseStatus.NOT_FOUND, TABLE_NOT_FOUND, "table '" + table + "' not found");
    }

    private static String version(long hlc) {
        return Long.toUnsignedString(hlc);
    }

    /** Waits past the request timeout the coordinator keeps itself: its answer normally comes first. */
    private <T> T await(CompletableFuture<T> future, String table) {
        try {
            return future.get(tables.service().requestTimeoutMs() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw failed(e.getCause(), table);
        } catch (TimeoutException e) {
            throw new ApiError(HttpResponseStatus.GATEWAY_TIMEOUT, TIMEOUT, "no answer from the table's coordinator");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "the node is stopping");
        }
    }

    /** What a request to the tables that failed with {@code cause} answers: an ApiError, or the cause itself when unexpected (a 500). */
    private RuntimeException failed(Throwable cause, String table) {
        if (cause instanceof TableService.UnknownTableException) {
            return tableNotFound(table);
        }
        if (cause instanceof TableService.OverloadedException overloaded) {
            return new ApiError(HttpResponseStatus.TOO_MANY_REQUESTS, OVERLOADED, overloaded.getMessage());
        }
        if (cause instanceof io.spate.tables.AfterTooFarAheadException ahead) {
            // the client's own version, from a clock far ahead of this node's: not a state of the node
            return new ApiError(HttpResponseStatus.BAD_REQUEST, ApiError.BAD_PARAMETER, ahead.getMessage());
        }
        if (cause instanceof IllegalStateException stopped) {
            // The tables are closing, or could not open their stores on this node.
            return new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "UNAVAILABLE: " + stopped.getMessage());
        }
        if (cause instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException(cause);
    }

    private Pending<ReadResult> get(String table, byte[] key, Consistency level) {
        TableConfig config = known(table);
        CompletableFuture<ReadResult> future;
        try {
            future = tables.service().get(table, key, level);
        } catch (TableService.UnknownTableException e) {
            throw tableNotFound(table);
        }
        return new Pending<>(future, result -> {
            Consistency used = level != null ? level : config.defaultRead();
            Map<String, String> headers = Map.of(VERSION_HEADER, version(result.version()));
            return switch (result.status()) {
                case OK -> result.found()
                        ? new Response(HttpResponseStatus.OK, result.value(), "application/octet-stream", headers)
                        : Response.error(HttpResponseStatus.NOT_FOUND, KEY_NOT_FOUND, "key not found in table '" + table + "'"
                                + (result.cell() != null ? " (deleted)" : ""), headers);
                case TIMEOUT -> Response.error(HttpResponseStatus.GATEWAY_TIMEOUT, TIMEOUT, "fewer than " + used.required(config.replicationFactor())
                        + " replicas answered within the request timeout (read at " + name(used) + ")", headers);
                case UNAVAILABLE -> Response.error(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "UNAVAILABLE: fewer than "
                        + used.required(config.replicationFactor()) + " of the key's " + config.replicationFactor()
                        + " replicas are live (read at " + name(used) + ")", headers);
                case OVERLOADED -> overloaded();
            };
        }, this, table);
    }

    private Pending<WriteResult> write(String table, byte[] key, byte[] value, boolean delete, Consistency level, long after) {
        TableConfig config = known(table);
        CompletableFuture<WriteResult> future;
        try {
            future = delete ? tables.service().delete(table, key, level, after) : tables.service().put(table, key, value, level, after);
        } catch (TableService.UnknownTableException e) {
            throw tableNotFound(table);
        }
        return new Pending<>(future, result -> {
            Consistency used = level != null ? level : config.defaultWrite();
            String version = version(result.version());
            Map<String, String> headers = Map.of(VERSION_HEADER, version);
            return switch (result.status()) {
                case OK -> new Response(HttpResponseStatus.OK, versionJson(version), headers);
                case TIMEOUT -> Response.error(HttpResponseStatus.GATEWAY_TIMEOUT, TIMEOUT, "fewer than " + used.required(config.replicationFactor())
                        + " replicas acknowledged within the request timeout (write at " + name(used)
                        + "); it may still be applied: pass the version as 'after' to order a retry after it", headers);
                case UNAVAILABLE -> Response.error(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "UNAVAILABLE: fewer than "
                        + used.required(config.replicationFactor()) + " of the key's " + config.replicationFactor()
                        + " replicas are live (write at " + name(used) + "); nothing was written", Map.of());
                case OVERLOADED -> overloaded();
            };
        }, this, table);
    }

    private static final byte[] VERSION_JSON_HEAD = "{\"version\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] VERSION_JSON_TAIL = "\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * {@code {"version":"<digits>"}}, the bytes a JSON generator writes for it, put together
     * directly: a version is decimal digits, which need no escaping, and every acknowledged write
     * answers this (a generator per write costs more than the rest of the answer).
     */
    static byte[] versionJson(String version) {
        byte[] out = new byte[VERSION_JSON_HEAD.length + version.length() + VERSION_JSON_TAIL.length];
        System.arraycopy(VERSION_JSON_HEAD, 0, out, 0, VERSION_JSON_HEAD.length);
        for (int i = 0; i < version.length(); i++) {
            out[VERSION_JSON_HEAD.length + i] = (byte) version.charAt(i);
        }
        System.arraycopy(VERSION_JSON_TAIL, 0, out, VERSION_JSON_HEAD.length + version.length(), VERSION_JSON_TAIL.length);
        return out;
    }

    /** The most writes one batch takes: each is coordinated on its own, all at once. */
    static final int MAX_BATCH = 1_000;

    /**
     * Several writes in one request, each coordinated on its own and all at once (not atomic: some
     * may succeed and others fail); the answer lists each one's status and version, in order.
     * Values are JSON strings, written as their UTF-8 bytes.
     */
    private Response batch(String table, FullHttpRequest request, Consistency level) {
        known(table);
        JsonNode body;
        try {
            body = JSON.readTree(request.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "the body must be a JSON object: " + e.getMessage());
        }
        JsonNode writes = body == null ? null : body.get("writes");
        if (writes == null || !writes.isArray()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "the body must be {\"writes\": [{\"key\", \"value\" or \"delete\": true}, ...]}");
        }
        if (writes.size() > MAX_BATCH) {
            throw new ApiError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, VALUE_TOO_LARGE, "a batch of " + writes.size()
                    + " writes is over the " + MAX_BATCH + " one request takes");
        }
        List<byte[]> keys = new java.util.ArrayList<>();
        List<byte[]> values = new java.util.ArrayList<>();
        List<Long> afters = new java.util.ArrayList<>();
        List<CompletableFuture<WriteResult>> results = new java.util.ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            JsonNode w = writes.get(i);
            JsonNode key = w.get("key");
            boolean delete = w.path("delete").asBoolean(false);
            JsonNode value = w.get("value");
            if (key == null || !key.isTextual() || (!delete && (value == null || !value.isTextual()))) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, "writes[" + i + "] needs a string key and a string value (or \"delete\": true)");
            }
            byte[] bytes = delete ? null : value.asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (bytes != null && bytes.length > tables.maxValueBytes()) {
                throw new ApiError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, VALUE_TOO_LARGE, "writes[" + i + "]: a value of " + bytes.length
                        + " bytes is over the " + tables.maxValueBytes() + " bytes a table value may hold");
            }
            byte[] keyBytes = key.asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            // The native protocol refuses such a key and a single key's route cannot carry it in its
            // request line: written here, it could be read by neither.
            if (keyBytes.length > TableService.MAX_KEY_BYTES) {
                throw ApiError.badRequest(ApiError.BAD_PARAMETER, "writes[" + i + "]: a key of " + keyBytes.length + " bytes is over the "
                        + TableService.MAX_KEY_BYTES + " bytes a table key may hold");
            }
            long after;
            try {
                after = w.has("after") ? Long.parseUnsignedLong(w.get("after").asText()) : 0;
            } catch (NumberFormatException e) {
                throw ApiError.badRequest(ApiError.BAD_PARAMETER, "writes[" + i + "]: after must be a version, not '" + w.get("after").asText() + "'");
            }
            keys.add(keyBytes);
            values.add(bytes);
            afters.add(after);
        }
        // Only a batch whose every write is well formed is sent: a refused one writes nothing.
        for (int i = 0; i < keys.size(); i++) {
            results.add(values.get(i) == null ? tables.service().delete(table, keys.get(i), level, afters.get(i))
                    : tables.service().put(table, keys.get(i), values.get(i), level, afters.get(i)));
        }
        List<WriteResult> done = new java.util.ArrayList<>();
        for (CompletableFuture<WriteResult> r : results) {
            done.add(await(r, table));
        }
        boolean allOk = done.stream().allMatch(WriteResult::ok);
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeBooleanField("ok", allOk);
            out.writeArrayFieldStart("results");
            for (int i = 0; i < done.size(); i++) {
                out.writeStartObject();
                out.writeStringField("key", new String(keys.get(i), java.nio.charset.StandardCharsets.UTF_8));
                out.writeStringField("status", done.get(i).status().name());
                out.writeStringField("version", version(done.get(i).version()));
                out.writeEndObject();
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private static Response overloaded() {
        return Response.error(HttpResponseStatus.TOO_MANY_REQUESTS, OVERLOADED, "this node coordinates too many table requests now; retry",
                Map.of("Retry-After", "1"));
    }

    private static String name(Consistency c) {
        return c.name().toLowerCase(Locale.ROOT);
    }

    private Response create(FullHttpRequest request) {
        JsonNode body;
        try {
            body = JSON.readTree(request.content().toString(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "the body must be a JSON object: " + e.getMessage());
        }
        if (body == null || !body.isObject()) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, "the body must be a JSON object with name and replicationFactor");
        }
        Map<String, String> settings = new HashMap<>();
        String name = body.path("name").asText(null);
        java.util.Iterator<Map.Entry<String, JsonNode>> fields = body.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String setting = switch (f.getKey()) {
                case "name" -> null;
                case "replicationFactor" -> TableSettings.REPLICATION_FACTOR;
                case "writeConsistency" -> TableSettings.WRITE_CONSISTENCY;
                case "readConsistency" -> TableSettings.READ_CONSISTENCY;
                case "durability" -> TableSettings.DURABILITY;
                case "tombstoneGraceMs" -> TableSettings.TOMBSTONE_GRACE_MS;
                case "sloppyQuorum" -> TableSettings.SLOPPY_QUORUM;
                default -> throw ApiError.badRequest(ApiError.MALFORMED_BODY, "unknown table field '" + f.getKey() + "'");
            };
            if (setting != null) {
                settings.put(setting, f.getValue().asText());
            }
        }
        TableConfig config;
        try {
            config = TableSettings.parse(name, settings);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(ApiError.MALFORMED_BODY, e.getMessage());
        }
        try {
            TableConfig created = tables.create(config).get(30, TimeUnit.SECONDS);
            return Response.json(HttpResponseStatus.CREATED, out -> writeTable(out, created));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NodeTables.TableExistsException exists) {
                throw new ApiError(HttpResponseStatus.CONFLICT, TABLE_EXISTS, exists.getMessage());
            }
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw ApiError.badRequest(ApiError.MALFORMED_BODY, bad.getMessage());
            }
            throw new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "the table could not be created: " + e.getCause());
        } catch (TimeoutException e) {
            throw new ApiError(HttpResponseStatus.GATEWAY_TIMEOUT, TIMEOUT, "the cluster metadata did not take the table within 30 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "the node is stopping");
        }
    }

    private static void writeTable(JsonGenerator out, TableConfig t) throws IOException {
        out.writeStartObject();
        out.writeStringField("name", t.name());
        out.writeNumberField("replicationFactor", t.replicationFactor());
        out.writeStringField("writeConsistency", name(t.defaultWrite()));
        out.writeStringField("readConsistency", name(t.defaultRead()));
        out.writeStringField("durability", TableSettings.durabilityText(t.durability()));
        out.writeNumberField("tombstoneGraceMs", t.tombstoneGraceMs());
        out.writeBooleanField("sloppyQuorum", t.sloppyQuorum());
        out.writeEndObject();
    }

    private Response list() {
        List<TableConfig> all = tables.catalog().values().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeArrayFieldStart("tables");
            for (TableConfig t : all) {
                writeTable(out, t);
            }
            out.writeEndArray();
            out.writeEndObject();
        });
    }

    private Response describe(String table) {
        TableConfig config = tables.catalog().get(table);
        if (config == null) {
            throw tableNotFound(table);
        }
        long hints = await(tables.service().hintsPending(), table);
        boolean served = tables.service().tables().containsKey(table);
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeFieldName("table");
            writeTable(out, config);
            out.writeBooleanField("servedHere", served);
            out.writeNumberField("hintsPendingHere", hints);
            out.writeEndObject();
        });
    }

    private Response repair(String table) {
        known(table);
        RepairResult r;
        try {
            r = tables.service().repair(table).get(10, TimeUnit.MINUTES);
        } catch (ExecutionException | TimeoutException e) {
            throw new ApiError(HttpResponseStatus.GATEWAY_TIMEOUT, TIMEOUT, "the repair did not finish: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, UNAVAILABLE, "the node is stopping");
        }
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("table", table);
            out.writeNumberField("sessions", r.sessions());
            out.writeNumberField("inSync", r.inSync());
            out.writeNumberField("abandoned", r.abandoned());
            out.writeNumberField("keysPushed", r.keysPushed());
            out.writeNumberField("keysPulled", r.keysPulled());
            out.writeEndObject();
        });
    }

    /** This node's replica as one SHA-256 over (key, version, tombstone, value) in token order: replicas holding the same cells give the same digest. */
    private Response replica(String table) {
        known(table);
        // Computed slice by slice on the tables' thread, without copying the cells.
        TableService.ReplicaSummary summary = await(tables.service().replica(table), table);
        String digest = summary.digest();
        long keys = summary.keys();
        long dead = summary.tombstones();
        return Response.json(HttpResponseStatus.OK, out -> {
            out.writeStartObject();
            out.writeStringField("table", table);
            out.writeNumberField("keys", keys);
            out.writeNumberField("tombstones", dead);
            out.writeStringField("digest", digest);
            out.writeEndObject();
        });
    }
}
