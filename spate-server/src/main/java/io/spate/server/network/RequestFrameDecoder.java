package io.spate.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;

import java.util.List;

/**
 * Size-prefixed Kafka frames, each reserved in the {@link RequestMemoryPool} before its body is read: when the pool
 * is full the connection stops reading (its bytes stay in the kernel's socket buffer) until memory is released.
 * The frame handed on carries its reservation; {@link KafkaChannelHandler} releases it once the request is handled.
 *
 * <p>A frame is handed on only while the request handler admits one (see {@link Admission}): frames already read
 * wait here, and no more bytes are read, until it calls {@link #resume}.
 */
final class RequestFrameDecoder extends ByteToMessageDecoder {
    /** Fired down the pipeline when the memory a paused connection waited for was released. */
    static final Object MEMORY_RELEASED = new Object() {
        @Override
        public String toString() {
            return "request memory released";
        }
    };

    /** Whether the request handler takes another request now. */
    @FunctionalInterface
    interface Admission {
        boolean admitsRequest();
    }

    private final int maxFrameBytes;
    private final RequestMemoryPool pool;
    private final Admission admission;
    private ChannelHandlerContext context;
    /** The size of the frame being read, reserved in the pool; -1 between frames. */
    private int reserved = -1;
    private boolean waitingForMemory;

    RequestFrameDecoder(int maxFrameBytes, RequestMemoryPool pool, Admission admission) {
        this.maxFrameBytes = maxFrameBytes;
        this.pool = pool;
        this.admission = admission;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    /** Hands on the frames that waited for the handler to admit them; on the channel's event loop. */
    void resume() {
        if (context == null || !context.channel().isActive() || waitingForMemory) {
            return;
        }
        try {
            channelRead(context, Unpooled.EMPTY_BUFFER);
        } catch (Exception e) {
            context.fireExceptionCaught(e);
        }
    }

    private boolean holding() {
        return waitingForMemory || !admission.admitsRequest();
    }

    boolean waitingForMemory() {
        return waitingForMemory;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (waitingForMemory) {
            return; // one waiter is registered already; the bytes wait with the rest
        }
        // One frame per call: the decoder hands it on before it calls again, so the handler's answer
        // to it (and whether that leaves room for more) is known before the next frame is admitted.
        if (reserved < 0) {
            if (in.readableBytes() < 4 || !admission.admitsRequest()) {
                return;
            }
            int size = in.getInt(in.readerIndex());
            if (size < 0) {
                throw new CorruptedFrameException("negative frame size " + size);
            }
            if (size > maxFrameBytes) {
                in.skipBytes(in.readableBytes());
                throw new TooLongFrameException("frame of " + size + " bytes, more than " + maxFrameBytes);
            }
            if (!pool.tryReserve(size)) {
                pauseUntilReleased(ctx);
                return;
            }
            reserved = size;
            in.skipBytes(4);
        }
        if (in.readableBytes() < reserved) {
            return;
        }
        out.add(in.readRetainedSlice(reserved));
        reserved = -1;
    }

    private void pauseUntilReleased(ChannelHandlerContext ctx) {
        waitingForMemory = true;
        ctx.channel().config().setAutoRead(false);
        pool.whenReleased(() -> ctx.executor().execute(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            waitingForMemory = false;
            // The size prefix may already be here, with nothing more to come until we answer: decode it now.
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
            // the request handler decides whether to read again (it also holds back for unanswered requests and unread responses)
            ctx.fireUserEventTriggered(MEMORY_RELEASED);
        }));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (holding()) {
            // The decoder asks the socket for more bytes when a read decoded nothing and auto-read is
            // off; holding back, the bytes must stay in the kernel's buffer instead.
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        releaseUnfinished();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            // The decoder's last pass (on what is left) may reserve once more: release after it.
            super.channelInactive(ctx);
        } finally {
            releaseUnfinished();
        }
    }

    /** A connection that closes in the middle of a request gives its reservation back. */
    private void releaseUnfinished() {
        if (reserved >= 0) {
            int size = reserved;
            reserved = -1;
            pool.release(size);
        }
    }
}
