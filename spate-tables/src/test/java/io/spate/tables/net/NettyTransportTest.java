package io.spate.tables.net;

import io.spate.tables.Consistency;
import io.spate.tables.Envelope;
import io.spate.tables.HintStore;
import io.spate.tables.MemoryTableStore;
import io.spate.tables.Membership;
import io.spate.tables.NodeSettings;
import io.spate.tables.ReadResult;
import io.spate.tables.ReplicaNode;
import io.spate.tables.TableConfig;
import io.spate.tables.TableMessage;
import io.spate.tables.WriteResult;
import io.spate.time.SystemScheduler;
import io.spate.time.Time;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Two transports on 127.0.0.1, free ports, real sockets. */
class NettyTransportTest {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T opened(T c) {
        open.add(c);
        return c;
    }

    private NettyTransport bind(String id, List<Envelope> inbox) {
        return opened(NettyTransport.bind(id, "127.0.0.1", 0, NettyTransport.Settings.defaults(), inbox::add));
    }

    private static InetSocketAddress at(NettyTransport t) {
        return new InetSocketAddress("127.0.0.1", t.port());
    }

    @Test
    void messagesArriveInBothDirectionsAndInOrderPerConnection() {
        List<Envelope> inboxA = new CopyOnWriteArrayList<>();
        List<Envelope> inboxB = new CopyOnWriteArrayList<>();
        NettyTransport a = bind("a", inboxA);
        NettyTransport b = bind("b", inboxB);
        a.endpoint("b", at(b));
        b.endpoint("a", at(a));
        for (int i = 0; i < 1000; i++) {
            a.send("b", new Envelope("a", i, new TableMessage.WriteAck(i)));
        }
        b.send("a", new Envelope("b", 1, new TableMessage.Read(7, "t", new byte[]{1, 2})));
        await().atMost(Duration.ofSeconds(10)).until(() -> inboxB.size() == 1000 && inboxA.size() == 1);
        for (int i = 0; i < 1000; i++) {
            assertThat(((TableMessage.WriteAck) inboxB.get(i).message()).id()).isEqualTo(i);
        }
        assertThat(inboxA.getFirst().message()).isInstanceOf(TableMessage.Read.class);
        assertThat(a.sent()).isEqualTo(1000);
        assertThat(b.received()).isEqualTo(1000);
    }

    @Test
    void sendingToAPeerThatIsDownNeverBlocksAndReconnectsWhenItIsBackElsewhere() {
        List<Envelope> inbox = new CopyOnWriteArrayList<>();
        NettyTransport a = bind("a", new CopyOnWriteArrayList<>());
        NettyTransport down = NettyTransport.bind("b", "127.0.0.1", 0, NettyTransport.Settings.defaults(), e -> {
        });
        int deadPort = down.port();
        down.close();
        a.send("nobody", new Envelope("a", 1, new TableMessage.WriteAck(0))); // no endpoint: dropped
        assertThat(a.dropped()).isEqualTo(1);
        a.endpoint("b", new InetSocketAddress("127.0.0.1", deadPort));
        long start = System.nanoTime();
        for (int i = 0; i < 50_000; i++) {
            a.send("b", new Envelope("a", 1, new TableMessage.WriteAck(i)));
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
        // The queue is bounded: what does not fit, and then what waited for a connection that failed, is dropped.
        await().atMost(Duration.ofSeconds(10)).until(() -> a.dropped() == 50_001);

        NettyTransport b = bind("b", inbox);
        a.endpoint("b", at(b));
        // The backoff may still hold the next attempt back: keep sending until one gets through.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            a.send("b", new Envelope("a", 2, new TableMessage.WriteAck(-1)));
            return !inbox.isEmpty();
        });
        b.close();
        open.remove(b);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            a.send("b", new Envelope("a", 3, new TableMessage.WriteAck(-2)));
            return a.dropped() > 50_001;
        });
    }

    @Test
    void anEnvelopeOverTheFrameLimitIsRefusedBySenderAndTheConnectionKeepsTheRest() {
        List<Envelope> inbox = new CopyOnWriteArrayList<>();
        NettyTransport.Settings small = new NettyTransport.Settings(10_000, 4_096);
        NettyTransport a = opened(NettyTransport.bind("a", "127.0.0.1", 0, small, e -> { }));
        NettyTransport b = opened(NettyTransport.bind("b", "127.0.0.1", 0, small, inbox::add));
        a.endpoint("b", at(b));
        a.send("b", new Envelope("a", 1, new TableMessage.WriteAck(1)));
        await().atMost(Duration.ofSeconds(10)).until(() -> inbox.size() == 1);
        // Over the limit: written, the receiver's decoder would close the connection and every message behind it would go.
        a.send("b", new Envelope("a", 2, new TableMessage.Read(2, "t", new byte[8_192])));
        for (int i = 3; i < 100; i++) {
            a.send("b", new Envelope("a", i, new TableMessage.WriteAck(i)));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> inbox.size() == 98);
        assertThat(inbox).allMatch(e -> e.message() instanceof TableMessage.WriteAck);
        assertThat(a.dropped()).isEqualTo(1);
    }

    @Test
    void twoReplicaNodesTalkThroughIt() throws Exception {
        SystemScheduler threadA = opened(new SystemScheduler("tables-a"));
        SystemScheduler threadB = opened(new SystemScheduler("tables-b"));
        ReplicaNode[] nodes = new ReplicaNode[2];
        NettyTransport a = opened(NettyTransport.bind("a", "127.0.0.1", 0, NettyTransport.Settings.defaults(),
                e -> threadA.schedule(0, () -> nodes[0].receive(e))));
        NettyTransport b = opened(NettyTransport.bind("b", "127.0.0.1", 0, NettyTransport.Settings.defaults(),
                e -> threadB.schedule(0, () -> nodes[1].receive(e))));
        a.endpoint("b", at(b));
        b.endpoint("a", at(a));
        NodeSettings settings = new NodeSettings(16, 2_000, 1_000, 100, 100, 200, 6, 1_000, 60_000, 60_000);
        nodes[0] = node("a", threadA, a, settings);
        nodes[1] = node("b", threadB, b, settings);

        List<CompletableFuture<WriteResult>> writes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            CompletableFuture<WriteResult> done = new CompletableFuture<>();
            byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
            threadA.schedule(0, () -> nodes[0].put("t", key, key, Consistency.ALL, 0, done::complete));
            writes.add(done);
        }
        for (CompletableFuture<WriteResult> w : writes) {
            assertThat(w.get(10, TimeUnit.SECONDS).status()).isEqualTo(WriteResult.Status.OK);
        }
        CompletableFuture<ReadResult> read = new CompletableFuture<>();
        threadB.schedule(0, () -> nodes[1].get("t", "k42".getBytes(StandardCharsets.UTF_8), Consistency.ALL, read::complete));
        assertThat(new String(read.get(10, TimeUnit.SECONDS).value(), StandardCharsets.UTF_8)).isEqualTo("k42");
    }

    private static ReplicaNode node(String id, SystemScheduler thread, NettyTransport transport, NodeSettings settings) throws Exception {
        CompletableFuture<ReplicaNode> started = new CompletableFuture<>();
        thread.schedule(0, () -> {
            HintStore hints = new HintStore(new MemoryTableStore(io.spate.tables.Durability.NONE, thread), Time.SYSTEM, 1_000,
                    60_000, 600_000);
            ReplicaNode node = new ReplicaNode(id, 1, thread, Time.SYSTEM, transport, hints, settings);
            node.addTable(TableConfig.of("t", 2), new MemoryTableStore(io.spate.tables.Durability.NONE, thread));
            node.onMembership(Membership.allLive(1, Set.of("a", "b")));
            node.start();
            started.complete(node);
        });
        return started.get(10, TimeUnit.SECONDS);
    }
}
