package io.spate.cluster.ratis;

import org.apache.ratis.grpc.server.GrpcServices;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.grpc.RaftServerProtocolServiceGrpc;
import org.apache.ratis.thirdparty.io.grpc.ManagedChannel;
import org.apache.ratis.thirdparty.io.grpc.Server;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder;
import org.apache.ratis.thirdparty.io.grpc.netty.NettyServerBuilder;
import org.apache.ratis.thirdparty.io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two appendEntries streams into one gRPC server, as a leader's old and new stream after a reset:
 * the server's handler holds the first request until the second arrives (or a second has passed).
 * Served as Ratis serves them the two overlap; through {@link OneAppendAtATime} they never do.
 */
class OneAppendAtATimeTest {
    private Server server;
    private ManagedChannel channel;

    @AfterEach
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static final AppendEntriesRequestProto APPEND = AppendEntriesRequestProto.newBuilder()
            .addEntries(LogEntryProto.getDefaultInstance()).build();
    private static final AppendEntriesRequestProto HEARTBEAT = AppendEntriesRequestProto.getDefaultInstance();

    @Test
    void requestsOfTwoStreamsAreHandledOneAfterTheOther() throws Exception {
        assertThat(mostAtOnce(true, APPEND, APPEND)).isEqualTo(1);
    }

    @Test
    void withoutItTheyOverlap() throws Exception {
        assertThat(mostAtOnce(false, APPEND, APPEND)).isEqualTo(2);
    }

    @Test
    void aHeartbeatIsNotHeldBehindAnAppend() throws Exception {
        assertThat(mostAtOnce(true, APPEND, HEARTBEAT)).isEqualTo(2);
    }

    private int mostAtOnce(boolean serialized, AppendEntriesRequestProto firstRequest, AppendEntriesRequestProto secondRequest) throws Exception {
        HoldingService service = new HoldingService();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service);
        if (serialized) {
            builder = new OneAppendAtATime().customize(builder, EnumSet.of(GrpcServices.Type.SERVER));
        }
        server = builder.build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        RaftServerProtocolServiceGrpc.RaftServerProtocolServiceStub stub = RaftServerProtocolServiceGrpc.newStub(channel);
        CountDownLatch replies = new CountDownLatch(2);
        StreamObserver<AppendEntriesRequestProto> first = stub.appendEntries(counting(replies));
        StreamObserver<AppendEntriesRequestProto> second = stub.appendEntries(counting(replies));

        first.onNext(firstRequest);
        assertThat(service.firstInside.await(10, TimeUnit.SECONDS)).isTrue();
        second.onNext(secondRequest);

        assertThat(replies.await(10, TimeUnit.SECONDS)).isTrue();
        first.onCompleted();
        second.onCompleted();
        return service.mostAtOnce.get();
    }

    private static StreamObserver<AppendEntriesReplyProto> counting(CountDownLatch replies) {
        return new StreamObserver<>() {
            @Override
            public void onNext(AppendEntriesReplyProto reply) {
                replies.countDown();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    /** Holds the first request it is handed until a second request is being handled too, for at most a second. */
    private static final class HoldingService extends RaftServerProtocolServiceGrpc.RaftServerProtocolServiceImplBase {
        final CountDownLatch firstInside = new CountDownLatch(1);
        final CountDownLatch secondInside = new CountDownLatch(1);
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        final AtomicInteger handled = new AtomicInteger();

        @Override
        public StreamObserver<AppendEntriesRequestProto> appendEntries(StreamObserver<AppendEntriesReplyProto> replies) {
            return new StreamObserver<>() {
                @Override
                public void onNext(AppendEntriesRequestProto request) {
                    mostAtOnce.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    try {
                        if (handled.getAndIncrement() == 0) {
                            firstInside.countDown();
                            secondInside.await(1, TimeUnit.SECONDS);
                        } else {
                            secondInside.countDown();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        inside.decrementAndGet();
                    }
                    replies.onNext(AppendEntriesReplyProto.getDefaultInstance());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    replies.onCompleted();
                }
            };
        }
    }
}
