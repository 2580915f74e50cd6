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
 */
final class RequestFrameDecoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    private final RequestMemoryPool pool;
    /** The size of the frame being read, reserved in the pool; -1 between frames. */
    private int reserved = -1;
    private boolean waitingForMemory;

    RequestFrameDecoder(int maxFrameBytes, RequestMemoryPool pool) {
        this.maxFrameBytes = maxFrameBytes;
        this.pool = pool;
    }

    boolean waitingForMemory() {
        return waitingForMemory;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (reserved < 0) {
                if (in.readableBytes() < 4) {
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
    }

    private void pauseUntilReleased(ChannelHandlerContext ctx) {
        waitingForMemory = true;
        ctx.channel().config().setAutoRead(false);
        pool.whenReleased(() -> ctx.executor().execute(() -> {
            if (!ctx.channel().isActive()) {
                return;
            }
            waitingForMemory = false;
            ctx.channel().config().setAutoRead(true);
            // The size prefix may already be here, with nothing more to come until we answer: decode it now.
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }));
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
