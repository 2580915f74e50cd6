package io.spate.log;

import io.spate.record.TestBatches;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;

class FlushCoordinatorTest {
    @TempDir
    Path dir;

    private final FlushCoordinator flusher = new FlushCoordinator(Clock.systemUTC());
    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void tearDown() {
        flusher.close();
        opened.forEach(PartitionLog::close);
    }

    private PartitionLog open(String topic, LogConfig config) throws IOException {
        TopicPartition tp = new TopicPartition(topic, 0);
        PartitionLog log = PartitionLog.open(tp, dir.resolve(tp.dirName()), config, 0, 0);
        opened.add(log);
        return log;
    }

    @Test
    void flushCompletesAndAdvancesTheRecoveryPoint() throws Exception {
        PartitionLog log = open("t", config(LogConfig.FLUSH_MESSAGES, "1"));
        AppendResult r = append(log, TestBatches.batch(1, "a", "b"), 0);
        assertThat(log.needsFlushBeforeAck(r.nextOffset())).isTrue();

        flusher.flush(log).get(30, TimeUnit.SECONDS);

        assertThat(log.recoveryPoint()).isEqualTo(2);
        assertThat(log.needsFlushBeforeAck(r.nextOffset())).isFalse();
    }

    @Test
    void flushOfAnUpToDateLogCompletes() throws Exception {
        PartitionLog log = open("t", LogConfig.defaultConfig());
        flusher.flush(log).get(30, TimeUnit.SECONDS);
        assertThat(log.recoveryPoint()).isZero();
    }

    @Test
    void concurrentFlushRequestsFromManyThreadsAllComplete() throws Exception {
        PartitionLog a = open("a", config(LogConfig.FLUSH_MESSAGES, "1", LogConfig.SEGMENT_BYTES, "4096"));
        PartitionLog b = open("b", config(LogConfig.FLUSH_MESSAGES, "1"));
        int threads = 16;
        int appendsPerThread = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                PartitionLog log = t % 2 == 0 ? a : b;
                int id = t;
                workers.add(pool.submit(() -> {
                    start.await();
                    int acknowledged = 0;
                    for (int i = 0; i < appendsPerThread; i++) {
                        AppendResult r = log.appendAsLeader(TestBatches.batch(i, "t" + id + "-" + i), 0, 0);
                        assertThat(r.ok()).isTrue();
                        if (log.needsFlushBeforeAck(r.nextOffset())) {
                            flusher.flush(log).get(30, TimeUnit.SECONDS);
                        }
                        // durable before the ack: everything up to this append is below the recovery point
                        assertThat(log.recoveryPoint()).isGreaterThanOrEqualTo(r.nextOffset());
                        acknowledged++;
                    }
                    return acknowledged;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> w : workers) {
                total += w.get(60, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(threads * appendsPerThread);
        } finally {
            pool.shutdownNow();
        }
        long perLog = (long) threads / 2 * appendsPerThread;
        assertThat(a.logEndOffset()).isEqualTo(perLog);
        assertThat(b.logEndOffset()).isEqualTo(perLog);
        assertThat(a.recoveryPoint()).isEqualTo(perLog);
        assertThat(b.recoveryPoint()).isEqualTo(perLog);
        assertThat(a.segmentCount()).isGreaterThan(1);
    }

    @Test
    void manyRequestsQueuedAtOnceAllComplete() throws Exception {
        PartitionLog log = open("t", LogConfig.defaultConfig());
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            append(log, TestBatches.batch(1, "v" + i), 0);
            futures.add(flusher.flush(log));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        assertThat(log.recoveryPoint()).isEqualTo(1_000);
    }

    @Test
    void aFailedFsyncFailsTheRequest() throws Exception {
        PartitionLog log = open("t", LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a"), 0);
        log.close(); // the channel is gone: fsync must fail

        CompletableFuture<Void> done = flusher.flush(log);

        assertThat(done).failsWithin(30, TimeUnit.SECONDS)
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(IOException.class);
        assertThat(log.recoveryPoint()).isZero();
        // the group-commit thread survived
        PartitionLog other = open("u", LogConfig.defaultConfig());
        append(other, TestBatches.batch(1, "b"), 0);
        flusher.flush(other).get(30, TimeUnit.SECONDS);
        assertThat(other.recoveryPoint()).isEqualTo(1);
    }

    @Test
    void requestsAfterCloseFailAtOnce() throws Exception {
        PartitionLog log = open("t", LogConfig.defaultConfig());
        append(log, TestBatches.batch(1, "a"), 0);
        flusher.close();
        CompletableFuture<Void> done = flusher.flush(log);
        assertThat(done).isCompletedExceptionally();
        assertThat(done).failsWithin(1, TimeUnit.SECONDS)
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(IOException.class)
                .withMessageContaining("shutting down");
    }
}
