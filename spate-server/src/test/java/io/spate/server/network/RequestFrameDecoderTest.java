package io.spate.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestFrameDecoderTest {
    private static ByteBuf header(int size) {
        return Unpooled.buffer(4).writeInt(size);
    }

    private static ByteBuf body(int bytes) {
        return Unpooled.wrappedBuffer(new byte[bytes]);
    }

    @Test
    void aFrameIsHandedOnWholeAndHoldsItsSizeInThePoolUntilReleased() {
        RequestMemoryPool pool = new RequestMemoryPool(1_000);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestFrameDecoder(10_000, pool, () -> true));
        channel.writeInbound(header(300), body(100));
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(pool.usedBytes()).isEqualTo(300);
        channel.writeInbound(body(200));
        ByteBuf frame = channel.readInbound();
        assertThat(frame.readableBytes()).isEqualTo(300);
        frame.release();
        pool.release(300);
        assertThat(pool.usedBytes()).isZero();
    }

    @Test
    void aConnectionStopsReadingWhileThePoolIsFullAndGoesOnWhenMemoryIsReleased() {
        RequestMemoryPool pool = new RequestMemoryPool(1_000);
        EmbeddedChannel first = new EmbeddedChannel(new RequestFrameDecoder(10_000, pool, () -> true));
        java.util.List<Object> events = new java.util.ArrayList<>();
        EmbeddedChannel second = new EmbeddedChannel(new RequestFrameDecoder(10_000, pool, () -> true),
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object event) {
                        events.add(event);
                    }
                });
        first.writeInbound(header(800), body(100));
        second.writeInbound(header(800), body(800));

        assertThat((Object) second.readInbound()).as("no room for a second 800-byte request").isNull();
        assertThat(second.config().isAutoRead()).isFalse();
        assertThat(pool.usedBytes()).isEqualTo(800);

        first.writeInbound(body(700));
        ByteBuf done = first.readInbound();
        done.release();
        pool.release(800);
        second.runPendingTasks();

        ByteBuf resumed = second.readInbound();
        assertThat(resumed).as("the waiting request, read once memory came back").isNotNull();
        assertThat(resumed.readableBytes()).isEqualTo(800);
        assertThat(events).as("the request handler is told, and decides whether to read on").containsExactly(RequestFrameDecoder.MEMORY_RELEASED);
        assertThat(pool.usedBytes()).isEqualTo(800);
        resumed.release();
    }

    @Test
    void framesWaitInTheDecoderWhileTheHandlerAdmitsNoneAndGoOnWhenResumed() {
        RequestMemoryPool pool = new RequestMemoryPool(-1);
        java.util.concurrent.atomic.AtomicBoolean admits = new java.util.concurrent.atomic.AtomicBoolean(true);
        RequestFrameDecoder decoder = new RequestFrameDecoder(10_000, pool, admits::get);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(header(10), body(10));
        ((ByteBuf) channel.readInbound()).release();
        pool.release(10);

        admits.set(false);
        channel.writeInbound(header(20), body(20), header(30), body(30));
        assertThat((Object) channel.readInbound()).as("read, but held back").isNull();
        assertThat(pool.usedBytes()).as("nothing reserved for a frame not handed on").isZero();

        admits.set(true);
        decoder.resume();
        ByteBuf first = channel.readInbound();
        ByteBuf second = channel.readInbound();
        assertThat(first.readableBytes()).isEqualTo(20);
        assertThat(second.readableBytes()).isEqualTo(30);
        first.release();
        second.release();
    }

    @Test
    void oneRequestLargerThanThePoolStillGoesThroughAlone() {
        RequestMemoryPool pool = new RequestMemoryPool(100);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestFrameDecoder(10_000, pool, () -> true));
        channel.writeInbound(header(500), body(500));
        ByteBuf frame = channel.readInbound();
        assertThat(frame.readableBytes()).isEqualTo(500);
        frame.release();
    }

    @Test
    void aConnectionClosedMidRequestGivesItsReservationBack() {
        RequestMemoryPool pool = new RequestMemoryPool(1_000);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestFrameDecoder(10_000, pool, () -> true));
        channel.writeInbound(header(600), body(10));
        assertThat(pool.usedBytes()).isEqualTo(600);
        channel.close();
        assertThat(pool.usedBytes()).isZero();
    }

    @Test
    void anOversizedFrameFailsBeforeItsBodyIsRead() {
        RequestMemoryPool pool = new RequestMemoryPool(-1);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestFrameDecoder(1_000, pool, () -> true));
        assertThatThrownBy(() -> channel.writeInbound(header(5_000))).isInstanceOf(TooLongFrameException.class);
        assertThat(pool.usedBytes()).isZero();
    }

    @Test
    void aFrameIsHandedOnBeforeTheNextIsAdmittedSoOneAnswerCanStopTheRest() {
        java.util.concurrent.atomic.AtomicBoolean admits = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.List<Integer> handled = new java.util.ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(new RequestFrameDecoder(10_000, new RequestMemoryPool(-1), admits::get),
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        ByteBuf frame = (ByteBuf) msg;
                        handled.add(frame.readableBytes());
                        frame.release();
                        admits.set(false); // as when this request's answer fills the connection's outbound buffer
                    }
                });
        // three whole frames arrive in one read
        channel.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(header(10), body(10), header(20), body(20), header(30), body(30)));
        assertThat(handled).containsExactly(10);
    }
}
