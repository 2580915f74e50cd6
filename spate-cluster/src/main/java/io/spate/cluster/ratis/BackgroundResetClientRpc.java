package io.spate.cluster.ratis;

import org.apache.ratis.client.RaftClientRpc;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.client.GrpcClientRpc;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Ratis' gRPC client transport, with the reset of a peer's connection moved off the thread that
 * saw the failure.
 *
 * <p>Why: when a request to a voter times out, the Raft client picks another voter and resets the
 * connection to the first, and that reset closes its gRPC channel waiting up to 3 s for the calls
 * still open on it to end. Against a voter that stopped answering without closing anything (a
 * process stopped with SIGSTOP, a host cut off), none ends, so the reset always waits the full
 * 3 s, on the thread that completed the failed request: for asynchronous requests a worker of
 * the JVM's common fork-join pool, which has a single worker on a 2-core machine. Every other
 * asynchronous Raft reply in the process (heartbeats, metadata fetches) then waited behind it: a
 * node that is not a voter took 6 s after a new controller was elected to reach it, long enough
 * for its session to lapse (RatisMetadataLogTest, 6-node fault campaign seed 711). The reset
 * still happens, in order, on a thread of its own; the Raft client has already chosen where its
 * retry goes before it asks for the reset, so nothing waits for it.
 */
final class BackgroundResetClientRpc implements RaftClientRpc {
    private static final ExecutorService RESETS = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("spate-ratis-connection-reset").daemon().factory());

    private final GrpcClientRpc delegate;
    /** Peers whose reset is queued or under way: another failure meanwhile (calls ending on the closing channel) adds none. */
    private final java.util.Set<RaftPeerId> resetting = java.util.concurrent.ConcurrentHashMap.newKeySet();

    BackgroundResetClientRpc(ClientId clientId, RaftProperties properties) {
        this.delegate = GrpcClientRpc.create(clientId, properties, null, null);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
        return delegate.sendRequestAsync(request);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
        return delegate.sendRequestAsyncUnordered(request);
    }

    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
        return delegate.sendRequest(request);
    }

    @Override
    public boolean handleException(RaftPeerId serverId, Throwable t, boolean reconnect) {
        boolean reset = reconnect || delegate.shouldReconnect(t);
        if (reset && resetting.add(serverId)) {
            RESETS.execute(() -> {
                try {
                    delegate.handleException(serverId, t, true);
                } finally {
                    resetting.remove(serverId);
                }
            });
        }
        return reset;
    }

    @Override
    public boolean shouldReconnect(Throwable t) {
        return delegate.shouldReconnect(t);
    }

    @Override
    public void addRaftPeers(Collection<RaftPeer> peers) {
        delegate.addRaftPeers(peers);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
