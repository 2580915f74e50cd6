package io.spate.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An Apache Cassandra table {@code KS.kv (k text PRIMARY KEY, v blob)} over CQL with the Apache
 * Cassandra Java driver 4: prepared statements, the default token-aware load balancing (the
 * coordinator is a replica), one connection per node, request timeout 5 s, no speculative
 * executions. The jars come from .bench/cassandra-lib at run time (spate-bench/cassandra/pom.xml).
 */
final class CqlKvTarget implements TableKvBench.Target {
    private final CqlSession session;
    private final String keyspace, dc;
    private final List<String> hosts;
    private PreparedStatement read, write;
    /** Runs the callbacks of requests that failed before executeAsync returned (no recursion in the closed loop). */
    private final ExecutorService bounce = Executors.newSingleThreadExecutor();

    CqlKvTarget(List<String> hosts, int port, String keyspace, String dc) {
        this.hosts = hosts;
        this.keyspace = keyspace;
        this.dc = dc;
        DriverConfigLoader loader = DriverConfigLoader.programmaticBuilder()
                .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(5))
                .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 1)
                .withInt(DefaultDriverOption.CONNECTION_MAX_REQUESTS, 32768)
                .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(60))
                .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
                .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
                .build();
        var builder = CqlSession.builder().withConfigLoader(loader).withLocalDatacenter(dc);
        for (String h : hosts) builder.addContactPoint(new InetSocketAddress(h.trim(), port));
        session = builder.build();
    }

    @Override
    public String describe() {
        return "Cassandra CQL " + hosts + " (" + session.getMetadata().getNodes().size() + " nodes, protocol "
                + session.getContext().getProtocolVersion() + "), java-driver 4, token-aware, prepared statements";
    }

    @Override
    public void setup(int rf) {
        Duration t = Duration.ofSeconds(60);
        session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspace).setTimeout(t));
        session.execute(SimpleStatement.newInstance("CREATE KEYSPACE " + keyspace + " WITH replication = "
                + "{'class': 'NetworkTopologyStrategy', '" + dc + "': " + rf + "}").setTimeout(t));
        session.execute(SimpleStatement.newInstance("CREATE TABLE " + keyspace + ".kv (k text PRIMARY KEY, v blob)").setTimeout(t));
        System.out.println("schema: " + keyspace + ".kv rf=" + rf + ", agreement=" + session.checkSchemaAgreement());
        read = session.prepare("SELECT v FROM " + keyspace + ".kv WHERE k = ?");
        write = session.prepare("INSERT INTO " + keyspace + ".kv (k, v) VALUES (?, ?)");
    }

    @Override
    public void read(String key, String consistency, TableKvBench.Callback cb) {
        on(session.executeAsync(read.bind(key).setConsistencyLevel(DefaultConsistencyLevel.valueOf(consistency))), true, cb);
    }

    @Override
    public void write(String key, byte[] value, String consistency, TableKvBench.Callback cb) {
        on(session.executeAsync(write.bind(key, ByteBuffer.wrap(value)).setConsistencyLevel(DefaultConsistencyLevel.valueOf(consistency))), false, cb);
    }

    private void on(CompletionStage<AsyncResultSet> stage, boolean isRead, TableKvBench.Callback cb) {
        CompletableFuture<AsyncResultSet> f = stage.toCompletableFuture();
        if (f.isDone()) bounce.execute(() -> f.whenComplete((rs, e) -> finish(rs, e, isRead, cb)));
        else f.whenComplete((rs, e) -> finish(rs, e, isRead, cb));
    }

    private static void finish(AsyncResultSet rs, Throwable e, boolean isRead, TableKvBench.Callback cb) {
        if (e != null) {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            cb.done(false, c.getClass().getSimpleName());
        } else {
            cb.done(!isRead || rs.one() != null, null);
        }
    }

    @Override
    public void close() {
        session.close();
        bounce.shutdown();
    }
}
