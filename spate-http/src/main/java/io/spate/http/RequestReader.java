package io.spate.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Admits a request and gathers its body, one connection's worth: refuses a body over the limit
 * (413) and a request whose bytes would pass the node's in-flight limit (429), before reading it,
 * from its Content-Length (a chunked body reserves the whole limit until it ends). Passes each
 * whole request on as an {@link ApiRequest} holding its reservation.
 *
 * <p>A refusal closes the connection the way HTTP servers do when they did not read the body: the
 * answer, then a half-close, then the rest of the body read and dropped until the client closes
 * (at most {@link #LINGER_MS}), so the client sees the answer rather than a reset.
 */
final class RequestReader extends ChannelInboundHandlerAdapter {
    static final long LINGER_MS = 5_000;

    private final int maxBodyBytes;
    private final InFlightBytes inFlight;
    private HttpRequest head;
    /** When {@link #head} arrived (System.nanoTime): its body's deadline counts from then. */
    private long headNanos;
    /** The body so far: null while empty, the one chunk while it is one, a composite of the chunks past that. */
    private ByteBuf body;
    private long reservedBytes;
    private java.util.concurrent.ScheduledFuture<?> bodyDeadline;
    static final long BODY_DEADLINE_MS = 60_000;
    private boolean refused;

    RequestReader(int maxBodyBytes, InFlightBytes inFlight) {
        this.maxBodyBytes = maxBodyBytes;
        this.inFlight = inFlight;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (refused) {
                return;
            }
            if (msg instanceof HttpRequest request && !begin(ctx, request)) {
                return;
            }
            if (msg instanceof HttpContent content && head != null) {
                append(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** Admits a request's head; false when it was refused. */
    private boolean begin(ChannelHandlerContext ctx, HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, ApiError.MALFORMED_REQUEST,
                    "malformed HTTP request: " + request.decoderResult().cause().getMessage(), Map.of());
            return false;
        }
        long length;
        try {
            length = HttpUtil.getContentLength(request, -1L);
        } catch (NumberFormatException e) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, ApiError.MALFORMED_REQUEST, "malformed Content-Length", Map.of());
            return false;
        }
        if (length > maxBodyBytes) {
            refuseTooLarge(ctx);
            return false;
        }
        long reserve = length >= 0 ? length : HttpUtil.isTransferEncodingChunked(request) ? maxBodyBytes : 0;
        if (reserve > 0 && !inFlight.tryReserve(reserve)) {
            refuse(ctx, HttpResponseStatus.TOO_MANY_REQUESTS, ApiError.TOO_MANY_BYTES_IN_FLIGHT,
                    "this node holds as many request bytes as it takes at once; retry shortly", Map.of("Retry-After", "1"));
            return false;
        }
        reservedBytes = reserve;
        head = request;
        headNanos = System.nanoTime();
        // The body's deadline is armed at the end of this read if the body is not whole by then
        // (channelReadComplete): most requests arrive whole in one read, and need no timer.
        if (HttpUtil.is100ContinueExpected(request)) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
        }
        return true;
    }

    private void append(ChannelHandlerContext ctx, HttpContent content) {
        if (content.decoderResult().isFailure()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, ApiError.MALFORMED_REQUEST,
                    "malformed HTTP body: " + content.decoderResult().cause().getMessage(), Map.of());
            return;
        }
        ByteBuf chunk = content.content();
        long held = body == null ? 0 : body.readableBytes();
        if (held + chunk.readableBytes() > maxBodyBytes) {
            refuseTooLarge(ctx);
            return;
        }
        if (chunk.isReadable()) {
            if (body == null) {
                body = chunk.retain(); // a body in one piece (the usual case) is kept as it came
            } else {
                if (!(body instanceof CompositeByteBuf)) {
                    // Consolidated past 64 components: a body trickled in tiny pieces does not keep a buffer per piece.
                    CompositeByteBuf pieces = ctx.alloc().compositeBuffer(64);
                    pieces.addComponent(true, body);
                    body = pieces;
                }
                ((CompositeByteBuf) body).addComponent(true, chunk.retain());
            }
        }
        if (content instanceof LastHttpContent) {
            ByteBuf whole = body == null ? Unpooled.EMPTY_BUFFER : body;
            long heldBytes = Math.min(reservedBytes, whole.readableBytes());
            if (reservedBytes > heldBytes) {
                inFlight.release(reservedBytes - heldBytes); // a chunked body reserved the whole limit
            }
            ApiRequest request = new ApiRequest(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(), whole,
                    head.headers(), ((LastHttpContent) content).trailingHeaders()), heldBytes, inFlight);
            head = null;
            body = null;
            reservedBytes = 0;
            cancelDeadline();
            ctx.fireChannelRead(request);
        }
    }

    private void refuseTooLarge(ChannelHandlerContext ctx) {
        refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, ApiError.BODY_TOO_LARGE,
                "the request body is over this node's limit of " + maxBodyBytes + " bytes", Map.of());
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, int errorCode, String message, Map<String, String> headers) {
        refused = true;
        discardPartial();
        Response answer = Response.error(status, errorCode, message, headers);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        answer.headers().forEach(response.headers()::set);
        ctx.writeAndFlush(response).addListener((ChannelFutureListener) written -> {
            if (written.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), LINGER_MS, TimeUnit.MILLISECONDS);
            } else {
                ctx.close();
            }
        });
    }

    /**
     * A read ends with a request's body not whole: its deadline is armed now, counted from the
     * head's arrival. A whole-body deadline, not only an idle one: a client sending a byte now and
     * then must not hold its share of the in-flight bytes for ever.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (head != null && bodyDeadline == null && !refused) {
            HttpRequest pending = head;
            long leftNanos = TimeUnit.MILLISECONDS.toNanos(BODY_DEADLINE_MS) - (System.nanoTime() - headNanos);
            bodyDeadline = ctx.executor().schedule(() -> {
                if (head == pending && !refused) {
                    refuse(ctx, HttpResponseStatus.REQUEST_TIMEOUT, ApiError.REQUEST_TIMEOUT,
                            "the request body did not arrive within " + BODY_DEADLINE_MS + " ms", Map.of());
                }
            }, Math.max(0, leftNanos), TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && head != null && !refused) {
            refuse(ctx, HttpResponseStatus.REQUEST_TIMEOUT, ApiError.REQUEST_TIMEOUT, "the request body stopped arriving", Map.of());
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discardPartial();
        ctx.fireChannelInactive();
    }

    private void cancelDeadline() {
        if (bodyDeadline != null) {
            bodyDeadline.cancel(false);
            bodyDeadline = null;
        }
    }

    private void discardPartial() {
        cancelDeadline();
        if (body != null) {
            body.release();
            body = null;
        }
        head = null;
        if (reservedBytes > 0) {
            inFlight.release(reservedBytes);
            reservedBytes = 0;
        }
    }
}
