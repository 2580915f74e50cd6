package io.spate.cluster.ratis;

import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.ForwardingServerCallListener;
import org.apache.ratis.thirdparty.io.grpc.Metadata;
import org.apache.ratis.thirdparty.io.grpc.ServerCall;
import org.apache.ratis.thirdparty.io.grpc.ServerCallHandler;
import org.apache.ratis.thirdparty.io.grpc.ServerInterceptor;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;

import java.util.EnumSet;

/**
 * Makes a voter take the leader's appendEntries requests one at a time, whichever stream they
 * arrive on. Ratis 3.3.0 checks a request against the log under a lock, then queues its append
 * outside it with {@code AtomicReference.updateAndGet} and a function that registers the append as
 * a side effect; when two requests queue at once the losing thread's function runs again, and the
 * append it registered first still runs, out of order. A leader opens a new stream to a follower
 * whenever a request times out or fails, and what it queued on the old one is still delivered: when
 * a follower cut off for seconds is reachable again, requests of several streams arrive at once
 * (in seed 3090, from three call-id series). The fault campaigns saw the result (seed 3090): a follower appended a new term's
 * entries on top of an old-term entry, truncated them a moment later below the commit index it had
 * already taken from them, and from then on refused every append (the first entry "already
 * exists", the previous one "not found") until its process was restarted, 100 s later; the quorum
 * had one voter fewer all that time, and a second fault stopped the controller for 9 s.
 *
 * <p>Only the synchronous part of a request is serialized (the check and the queueing); the
 * appends themselves are already sequential on the voter's one server thread (see fix 21). Votes,
 * client requests, snapshots and heartbeats (appendEntries without entries) are not held up.
 */
final class OneAppendAtATime implements GrpcServices.Customizer, ServerInterceptor {
    private static final String APPEND_ENTRIES = RaftServerProtocolServiceGrpc.getAppendEntriesMethod().getFullMethodName();

    private final Object lock = new Object();

    @Override
    public NettyServerBuilder customize(NettyServerBuilder builder, EnumSet<GrpcServices.Type> types) {
        return types.contains(GrpcServices.Type.SERVER) ? builder.intercept(this) : builder;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        ServerCall.Listener<Q> listener = next.startCall(call, headers);
        if (!APPEND_ENTRIES.equals(call.getMethodDescriptor().getFullMethodName())) {
            return listener;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                if (message instanceof AppendEntriesRequestProto request && request.getEntriesCount() == 0) {
                    // A heartbeat queues no append. Not held behind a request that waits (a leader
                    // stepping down, an election shutting down: up to two election timeouts), or
                    // the leader could count this voter silent and step down.
                    super.onMessage(message);
                    return;
                }
                synchronized (lock) {
                    super.onMessage(message);
                }
            }
        };
    }
}
