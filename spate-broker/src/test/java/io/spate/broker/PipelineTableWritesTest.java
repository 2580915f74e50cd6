package io.spate.broker;

import io.spate.tables.Consistency;
import io.spate.tables.NodeSettings;
import io.spate.tables.TableConfig;
import io.spate.tables.service.TableService;
import io.spate.tables.service.TableSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Pipelines' table writes on a real single-node table service (RocksDB under a temp dir, RF=1). The
 * retries after OVERLOADED wait in a queue the test runs by hand instead of a timer, so which of
 * two writes the service takes first does not depend on timing.
 */
class PipelineTableWritesTest {
    @TempDir
    Path dir;
    private final TableConfig table = TableSettings.parse("t", Map.of(TableSettings.REPLICATION_FACTOR, "1"));
    private final BlockingQueue<Runnable> retries = new LinkedBlockingQueue<>();
    private TableService service;

    @AfterEach
    void close() {
        if (service != null) {
            service.close();
        }
    }

    /** A service whose queue refuses requests past {@code maxTasks}. */
    private PipelineTableWrites start(int maxTasks) throws Exception {
        service = TableService.start("n1", System.currentTimeMillis(), dir, "127.0.0.1", 0, NodeSettings.defaults(),
                TableService.HintSettings.defaults(), new TableService.QueueLimits(maxTasks, 1L << 20));
        service.apply(new TableService.View(1, Map.of("n1", new TableService.Endpoint("127.0.0.1", service.port())), Set.of("n1"),
                Map.of("t", table)));
        service.awaitTable("t").get(30, TimeUnit.SECONDS);
        Map<String, TableConfig> catalog = Map.of("t", table, "elsewhere", TableSettings.parse("elsewhere", Map.of(TableSettings.REPLICATION_FACTOR, "1")));
        return new PipelineTableWrites(catalog::get, service, pauseMs -> retries::add);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String read(String key) throws Exception {
        return new String(service.get("t", b(key), Consistency.ONE).get(30, TimeUnit.SECONDS).value(), StandardCharsets.UTF_8);
    }

    @Test
    void aWriteSentAgainAfterOverloadedDoesNotOvertakeTheKeysNextWrite() throws Exception {
        PipelineTableWrites writes = start(2);
        // Hold the tables' thread and queue two requests behind it: the queue is at its bound.
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        CompletableFuture<Boolean> held = service.metrics(m -> {
            holding.countDown();
            try {
                return release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<Long>> fillers = List.of(service.hintsPending(), service.hintsPending());

        CompletableFuture<Void> first = writes.write("t", b("k"), b("a"));
        assertThat(retries).as("refused OVERLOADED, its retry waits").hasSize(1);
        release.countDown();
        assertThat(held.get(30, TimeUnit.SECONDS)).isTrue();
        for (CompletableFuture<Long> f : fillers) {
            f.get(30, TimeUnit.SECONDS);
        }
        CompletableFuture<Void> second = writes.write("t", b("k"), b("b"));
        retries.take().run();
        first.get(30, TimeUnit.SECONDS);
        second.get(30, TimeUnit.SECONDS);
        assertThat(retries).isEmpty();
        assertThat(read("k")).as("the key ends at its last write").isEqualTo("b");
        assertThat(writes.keysInFlight()).isZero();
    }

    @Test
    void aKeysWritesWhileOneIsOutCollapseIntoItsLatestAndAllComplete() throws Exception {
        PipelineTableWrites writes = start(10_000);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(writes.write("t", b("hot"), b("v" + i)));
            all.add(writes.write("t", b("cold" + i), b("c" + i)));
        }
        all.add(writes.write("t", b("gone"), b("x")));
        all.add(writes.write("t", b("gone"), null));
        for (CompletableFuture<Void> f : all) {
            f.get(30, TimeUnit.SECONDS);
        }
        assertThat(read("hot")).isEqualTo("v199");
        assertThat(read("cold17")).isEqualTo("c17");
        assertThat(service.get("t", b("gone"), Consistency.ONE).get(30, TimeUnit.SECONDS).found()).isFalse();
        assertThat(writes.keysInFlight()).as("nothing kept once the writes are acknowledged").isZero();
    }

    @Test
    void aWriteTheServiceRefusesFailsAloneAndTheKeysNextWriteStillGoes() throws Exception {
        PipelineTableWrites writes = start(10_000);
        // In the catalog, not open on this node: the node refuses it.
        assertThatThrownBy(() -> writes.write("elsewhere", b("k"), b("v")).get(30, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> writes.write("elsewhere", b("k"), b("v")).get(30, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> writes.write("missing", b("k"), b("v")).get(30, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(IllegalArgumentException.class);
        assertThat(writes.keysInFlight()).isZero();
    }

    @Test
    void aKeyOrValueOverTheTablesBoundsIsRefusedWithWhatTheBoundIs() throws Exception {
        PipelineTableWrites writes = start(10_000);
        service.maxValueBytes(1_000);
        assertThatThrownBy(() -> writes.write("t", new byte[TableService.MAX_KEY_BYTES + 1], b("v")).get(30, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(IllegalArgumentException.class).rootCause().hasMessageContaining("65535 bytes a table key may hold");
        assertThatThrownBy(() -> writes.write("t", b("k"), new byte[1_001]).get(30, TimeUnit.SECONDS))
                .hasRootCauseInstanceOf(IllegalArgumentException.class).rootCause().hasMessageContaining("1000 bytes a table value may hold");
        writes.write("t", new byte[TableService.MAX_KEY_BYTES], new byte[1_000]).get(30, TimeUnit.SECONDS);
        writes.write("t", b("k"), null).get(30, TimeUnit.SECONDS); // a delete carries no value
        assertThat(writes.keysInFlight()).isZero();
    }
}
