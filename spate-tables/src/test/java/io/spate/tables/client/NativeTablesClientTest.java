package io.spate.tables.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.spate.tables.Consistency;
import io.spate.tables.NodeSettings;
import io.spate.tables.ReadResult;
import io.spate.tables.TableConfig;
import io.spate.tables.WriteResult;
import io.spate.tables.net.ClientCodec;
import io.spate.tables.service.TableService;
import io.spate.tables.service.TableSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The native protocol end to end: real table services with RocksDB on 127.0.0.1, the client, raw sockets for bad frames. */
class NativeTablesClientTest {
    @TempDir
    Path dir;
    private final Map<String, TableService> services = new HashMap<>();
    private final Map<String, TableService.Endpoint> members = new HashMap<>();
    private final NodeSettings settings = new NodeSettings(16, 10_000, 1_000, 100, 100, 60_000, 6, 1_000, 60_000, 60_000);
    private final TableConfig table = TableSettings.parse("t", Map.of(TableSettings.REPLICATION_FACTOR, "3"));
    private long epoch;

    @AfterEach
    void closeAll() {
        services.values().forEach(TableService::close);
    }

    private void startCluster(int n) throws Exception {
        for (int i = 1; i <= n; i++) {
            String id = "n" + i;
            TableService s = TableService.start(id, System.currentTimeMillis(), dir.resolve(id), "127.0.0.1", 0, settings,
                    TableService.HintSettings.defaults());
            services.put(id, s);
            members.put(id, new TableService.Endpoint("127.0.0.1", s.port()));
        }
        publish(services.keySet());
        for (TableService s : services.values()) {
            s.awaitTable("t").get(30, TimeUnit.SECONDS);
        }
    }

    private void publish(Set<String> live) {
        TableService.View view = new TableService.View(++epoch, members, Set.copyOf(live), Map.of("t", table));
        services.forEach((id, s) -> {
            if (live.contains(id)) {
                s.apply(view);
            }
        });
    }

    private InetSocketAddress address(String id) {
        return new InetSocketAddress("127.0.0.1", services.get(id).port());
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesReadsAndDeletesThroughEveryNodeFromOneSeed() throws Exception {
        startCluster(3);
        try (NativeTablesClient client = NativeTablesClient.connect(List.of(address("n2")))) {
            assertThat(client.nodes()).extracting(ClientCodec.NodeEndpoint::id).containsExactlyInAnyOrder("n1", "n2", "n3");

            List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
            for (int i = 0; i < 300; i++) { // all at once: many in flight on each connection
                writes.add(client.put("t", b("k" + i), b("v" + i), Consistency.QUORUM, 0));
            }
            long[] versions = new long[300];
            for (int i = 0; i < 300; i++) {
                WriteResult w = writes.get(i).get(30, TimeUnit.SECONDS);
                assertThat(w.ok()).as("write %d: %s", i, w).isTrue();
                versions[i] = w.version();
            }
            for (int i = 0; i < 300; i++) {
                ReadResult r = client.get("t", b("k" + i), Consistency.QUORUM).get(30, TimeUnit.SECONDS);
                assertThat(r.ok()).isTrue();
                assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("v" + i);
                assertThat(r.version()).isEqualTo(versions[i]);
            }
            // Every node coordinated some of them, and each holds every key (RF 3).
            for (TableService s : services.values()) {
                assertThat(s.scan("t").get(30, TimeUnit.SECONDS)).hasSize(300);
            }

            WriteResult deleted = client.delete("t", b("k7"), Consistency.ALL, versions[7]).get(30, TimeUnit.SECONDS);
            assertThat(deleted.ok()).isTrue();
            assertThat(deleted.version()).isGreaterThan(versions[7]);
            ReadResult gone = client.get("t", b("k7"), Consistency.ALL).get(30, TimeUnit.SECONDS);
            assertThat(gone.ok()).isTrue();
            assertThat(gone.found()).isFalse();
            assertThat(gone.version()).as("the deletion's version, for the next write's after").isEqualTo(deleted.version());
            ReadResult never = client.get("t", b("never-written"), Consistency.ONE).get(30, TimeUnit.SECONDS);
            assertThat(never.found()).isFalse();
            assertThat(never.version()).isZero();

            // A client's after orders its write after a version from the future of every clock here.
            long ahead = deleted.version() + (5_000L << 16);
            WriteResult after = client.put("t", b("k7"), b("again"), null, ahead).get(30, TimeUnit.SECONDS);
            assertThat(after.version()).isGreaterThan(ahead);
        }
    }

    @Test
    void refusalsComeBackAsErrorsWithTheirReason() throws Exception {
        startCluster(1);
        services.get("n1").maxValueBytes(100);
        try (NativeTablesClient client = NativeTablesClient.connect(List.of(address("n1")))) {
            assertThatThrownBy(() -> client.get("nope", b("k"), null).get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(NativeTablesClient.TablesRequestException.class)
                    .hasMessageContaining("UNKNOWN_TABLE").hasMessageContaining("nope");
            assertThatThrownBy(() -> client.put("t", b("k"), new byte[101], null, 0).get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(NativeTablesClient.TablesRequestException.class)
                    .hasMessageContaining("INVALID").hasMessageContaining("101 bytes");
            // RF 3 on one live node: QUORUM cannot be met, nothing is written.
            assertThat(client.put("t", b("k"), b("v"), Consistency.QUORUM, 0).get(30, TimeUnit.SECONDS).status())
                    .isEqualTo(WriteResult.Status.UNAVAILABLE);
            assertThat(client.put("t", b("k"), b("v"), Consistency.ONE, 0).get(30, TimeUnit.SECONDS).ok()).isTrue();
            // An after past what this node's clock may adopt: refused, not given a smaller version that would lose to it.
            long farAhead = io.spate.tables.HybridLogicalClock.of(System.currentTimeMillis() + 10 * settings.maxClockForwardMs(), 0);
            assertThatThrownBy(() -> client.put("t", b("k2"), b("v"), Consistency.ONE, farAhead).get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(NativeTablesClient.TablesRequestException.class)
                    .hasMessageContaining("INVALID").hasMessageContaining("ahead of this node's clock");
            assertThat(client.get("t", b("k2"), Consistency.ONE).get(30, TimeUnit.SECONDS).found()).isFalse();
        }
    }

    @Test
    void aMalformedRequestIsAnsweredAndTheConnectionAndTheNodeServeOn() throws Exception {
        startCluster(1);
        try (Socket socket = new Socket("127.0.0.1", services.get("n1").port())) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            // A request whose key claims more bytes than the frame holds.
            byte[] bad = {ClientCodec.FORMAT, 0, 0, 0, 0, 0, 0, 0, 42, 1, 0, 0, 1, 't', 0x7f, 0, 0, 0};
            out.writeInt(bad.length);
            out.write(bad);
            // An unknown operation.
            byte[] unknownOp = {ClientCodec.FORMAT, 0, 0, 0, 0, 0, 0, 0, 43, 99, 0};
            out.writeInt(unknownOp.length);
            out.write(unknownOp);
            // Then a good one on the same connection.
            ByteBuf good = ClientCodec.encode(ByteBufAllocator.DEFAULT, new ClientCodec.Request(44, ClientCodec.Op.PUT,
                    Consistency.ONE, "t", b("k"), 0, b("v")));
            byte[] goodBytes = new byte[good.readableBytes()];
            good.readBytes(goodBytes);
            good.release();
            out.write(goodBytes);
            out.flush();
            Map<Long, ClientCodec.Reply> replies = new HashMap<>();
            for (int i = 0; i < 3; i++) {
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                ClientCodec.Reply r = ClientCodec.decodeReply(Unpooled.wrappedBuffer(body), false);
                replies.put(r.id(), r);
            }
            assertThat(replies.get(42L).status()).isEqualTo(ClientCodec.Status.INVALID);
            assertThat(replies.get(42L).message()).contains("malformed request");
            assertThat(replies.get(43L).status()).isEqualTo(ClientCodec.Status.INVALID);
            assertThat(replies.get(43L).message()).contains("unknown client operation 99");
            assertThat(replies.get(44L).status()).isEqualTo(ClientCodec.Status.OK);

            // A client frame too short to hold a request id: nothing to answer, the connection is closed.
            out.writeInt(3);
            out.write(new byte[]{ClientCodec.FORMAT, 0, 0});
            out.flush();
            assertThatThrownBy(in::readInt).isInstanceOf(EOFException.class);
        }
        try (NativeTablesClient client = NativeTablesClient.connect(List.of(address("n1")))) {
            ReadResult r = client.get("t", b("k"), Consistency.ONE).get(30, TimeUnit.SECONDS);
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo("v");
        }
    }

    @Test
    void aNodeThatGoesAwayLeavesTheOthersServingTheClient() throws Exception {
        startCluster(3);
        NativeTablesClient.Settings quick = new NativeTablesClient.Settings(Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(200));
        try (NativeTablesClient client = NativeTablesClient.connect(List.of(address("n1")), quick)) {
            for (int i = 0; i < 30; i++) {
                assertThat(client.put("t", b("before" + i), b("v"), Consistency.QUORUM, 0).get(30, TimeUnit.SECONDS).ok()).isTrue();
            }
            services.remove("n3").close();
            publish(Set.of("n1", "n2"));
            // Nothing was in flight to n3 when it went: every request ends on n1 or n2, whatever the client
            // learned yet (a request picked for n3 is never written there and goes to another node).
            List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                writes.add(client.put("t", b("after" + i), b("v"), Consistency.QUORUM, 0));
            }
            for (CompletableFuture<WriteResult> w : writes) {
                assertThat(w.get(30, TimeUnit.SECONDS).ok()).isTrue();
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(client.nodes()).filteredOn(ClientCodec.NodeEndpoint::live).extracting(ClientCodec.NodeEndpoint::id)
                            .containsExactlyInAnyOrder("n1", "n2"));
            for (int i = 0; i < 100; i++) {
                assertThat(client.get("t", b("after" + i), Consistency.QUORUM).get(30, TimeUnit.SECONDS).found()).isTrue();
            }
        }
    }

    @Test
    void thousandsOfPipelinedRequestsFromAClientThatReadsLateAreEachAnswered() throws Exception {
        startCluster(1);
        int n = 3_000;
        try (Socket socket = new Socket("127.0.0.1", services.get("n1").port())) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 20));
            for (int i = 0; i < n; i++) {
                ByteBuf frame = ClientCodec.encode(ByteBufAllocator.DEFAULT, new ClientCodec.Request(i, ClientCodec.Op.GET,
                        Consistency.ONE, "t", b("k" + i), 0, null));
                byte[] bytes = new byte[frame.readableBytes()];
                frame.readBytes(bytes);
                frame.release();
                out.write(bytes);
            }
            out.flush();
            // Only now are the replies read: the node paused reading this connection meanwhile and must
            // take it up again, answering every request once (refused at once past its bound, or done).
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            java.util.BitSet answered = new java.util.BitSet(n);
            Map<ClientCodec.Status, Integer> statuses = new HashMap<>();
            for (int i = 0; i < n; i++) {
                byte[] body = new byte[in.readInt()];
                in.readFully(body);
                ClientCodec.Reply r = ClientCodec.decodeReply(Unpooled.wrappedBuffer(body), false);
                assertThat(answered.get((int) r.id())).as("request %d answered twice", r.id()).isFalse();
                answered.set((int) r.id());
                statuses.merge(r.status(), 1, Integer::sum);
            }
            assertThat(answered.cardinality()).isEqualTo(n);
            assertThat(statuses.keySet()).isSubsetOf(ClientCodec.Status.NOT_FOUND, ClientCodec.Status.OVERLOADED);
        }
    }

    @Test
    void aPeerFrameOnAClientsConnectionClosesIt() throws Exception {
        startCluster(1);
        try (Socket socket = new Socket("127.0.0.1", services.get("n1").port())) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            ByteBuf get = ClientCodec.encode(ByteBufAllocator.DEFAULT, new ClientCodec.Request(1, ClientCodec.Op.GET, Consistency.ONE,
                    "t", b("k"), 0, null));
            byte[] bytes = new byte[get.readableBytes()];
            get.readBytes(bytes);
            get.release();
            out.write(bytes);
            out.flush();
            byte[] body = new byte[in.readInt()];
            in.readFully(body);
            assertThat(ClientCodec.decodeReply(Unpooled.wrappedBuffer(body), false).status()).isEqualTo(ClientCodec.Status.NOT_FOUND);
            // The connection is a client's now: a peer's write on it is refused with the connection.
            byte[] peer = io.spate.tables.net.TableCodec.encode(new io.spate.tables.Envelope("n9", 1,
                    new io.spate.tables.TableMessage.Write(1, "t", b("k"), io.spate.tables.Cell.value(1, b("injected")), null)));
            out.writeInt(peer.length);
            out.write(peer);
            out.flush();
            assertThatThrownBy(in::readInt).isInstanceOf(EOFException.class);
        }
        try (NativeTablesClient client = NativeTablesClient.connect(List.of(address("n1")))) {
            assertThat(client.get("t", b("k"), Consistency.ONE).get(30, TimeUnit.SECONDS).found()).as("the peer frame was not applied").isFalse();
        }
    }

    @Test
    void aSeedThatTakesTheConnectionButNeverAnswersFailsDiscoveryByTheTimeout() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> NativeTablesClient.connect(List.of(new InetSocketAddress("127.0.0.1", silent.getLocalPort())),
                    new NativeTablesClient.Settings(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(10))))
                    .isInstanceOf(java.io.IOException.class).hasMessageContaining("none of");
        }
    }

    @Test
    void aClientWithNoReachableSeedSaysSo() {
        assertThatThrownBy(() -> NativeTablesClient.connect(List.of(new InetSocketAddress("127.0.0.1", 1)),
                new NativeTablesClient.Settings(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(10))))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("none of");
    }
}
