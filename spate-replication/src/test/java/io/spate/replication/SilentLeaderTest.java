package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.requests.FetchRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A leader that accepts connections and then never answers (a frozen process, a half-open TCP
 * connection): the follower's read timeout notices it and the fetcher dials again, instead of
 * waiting on the dead connection for good.
 */
class SilentLeaderTest {
    @TempDir
    Path dataDir;

    private final ServerSocket silent = openSilentServer();
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private LogManager logs;
    private ReplicaFetcher fetcher;

    private static ServerSocket openSilentServer() {
        try {
            return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Accepts every connection, reads nothing, answers nothing, closes nothing. */
    private void acceptForever() {
        Thread.ofPlatform().daemon().name("silent-leader").start(() -> {
            while (!silent.isClosed()) {
                try {
                    held.add(silent.accept());
                    accepted.incrementAndGet();
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void close() throws IOException {
        if (fetcher != null) {
            fetcher.shutdown(true);
        }
        if (logs != null) {
            logs.close();
        }
        silent.close();
        for (Socket s : held) {
            s.close();
        }
    }

    private static ReplicationSettings settings(int socketTimeoutMs) {
        return new ReplicationSettings(100, 1 << 20, 1 << 20, 10_000, 1_000, socketTimeoutMs, "");
    }

    @Test
    void aRequestToASilentLeaderFailsOnceTheReadTimeoutPasses() {
        acceptForever();
        FetchRequestData data = new FetchRequestData().setReplicaId(2).setMaxWaitMs(100).setMinBytes(1).setMaxBytes(1 << 20)
                .setSessionId(0).setSessionEpoch(-1);
        // Without a read timeout the send blocks for good: the preemptive bound turns that into a failure.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (LeaderConnection connection = new LeaderConnection("127.0.0.1", silent.getLocalPort(), "test", 1_000, 300)) {
                assertThatThrownBy(() -> connection.send(new FetchRequest(data, (short) 12)))
                        .isInstanceOf(SocketTimeoutException.class);
            }
        });
    }

    @Test
    void theFetcherDropsASilentConnectionAndDialsAgain() throws Exception {
        acceptForever();
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        TopicPartition tp = new TopicPartition("orders", 0);
        Partition partition = new Partition(tp, logs.getOrCreate(tp, LogConfig.defaultConfig()), 2, Partition.Role.FOLLOWER);
        partition.becomeFollower(1, 1, 1, List.of(1, 2), List.of(1, 2));
        fetcher = new ReplicaFetcher(2, 1, "127.0.0.1", silent.getLocalPort(), settings(300));
        fetcher.follow(partition, 1);
        fetcher.start();
        await("the fetcher connects again after the leader went silent").atMost(Duration.ofSeconds(60))
                .until(() -> accepted.get() >= 3);
        assertThat(partition.log().logEndOffset()).isZero();
    }
}
