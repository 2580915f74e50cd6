package io.spate.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Admits a request and gathers its body, one connection's worth: refuses a body over the limit
 * (413) and a request whose bytes would pass the node's in-flight limit (429), before reading it,
 * from its Content-Length (a chunked body reserves the whole limit until it ends). Passes each
 * whole request on as an {@link ApiRequest} holding its reservation, and a refusal as a
 * {@link Refusal}, which {@link ConnectionHandler} answers in its turn. After a refusal the rest of
 * what the client sends is read and dropped.
 */
final class RequestReader extends ChannelInboundHandlerAdapter {
    private final int maxBodyBytes;
    private final InFlightBytes inFlight;
    private final ReadPause reading;
    private HttpRequest head;
    /** When {@link #head} arrived (System.nanoTime): its body's deadline counts from then. */
    private long headNanos;
    /** {@link ReadPause#pausedNanos} when {@link #head} arrived: time the node did not read does not count against the body. */
    private long headPausedNanos;
    /** The body so far: null while empty, the one chunk while it is one, a composite of the chunks past that. */
    private ByteBuf body;
    private long reservedBytes;
    private java.util.concurrent.ScheduledFuture<?> bodyDeadline;
    static final long BODY_DEADLINE_MS = 60_000;
    private boolean refused;

    RequestReader(int maxBodyBytes, InFlightBytes inFlight, ReadPause reading) {
        this.maxBodyBytes = maxBodyBytes;
        this.inFlight = inFlight;
        this.reading = reading;
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
        headPausedNanos = reading.pausedNanos(headNanos);
        // The body's deadline is armed at the end of this read if the body is not whole by then
        // (channelReadComplete): most requests arrive whole in one read, and need no timer.
        if (HttpUtil.is100ContinueExpected(request)) {
            ctx.fireChannelRead(ContinueExpected.INSTANCE);
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
        ctx.fireChannelRead(new Refusal(Response.error(status, errorCode, message, headers)));
    }

    /**
     * A read ends with a request's body not whole: its deadline is armed now, counted from the
     * head's arrival. A whole-body deadline, not only an idle one: a client sending a byte now and
     * then must not hold its share of the in-flight bytes for ever.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (head != null && bodyDeadline == null && !refused) {
            armDeadline(ctx, head, TimeUnit.MILLISECONDS.toNanos(BODY_DEADLINE_MS) - (System.nanoTime() - headNanos));
        }
        ctx.fireChannelReadComplete();
    }

    /** Checks again when it would be up if the node read all along; the time it did not read is added on. */
    private void armDeadline(ChannelHandlerContext ctx, HttpRequest pending, long leftNanos) {
        bodyDeadline = ctx.executor().schedule(() -> {
            bodyDeadline = null;
            if (head != pending || refused) {
                return;
            }
            long now = System.nanoTime();
            long readingNanos = now - headNanos - (reading.pausedNanos(now) - headPausedNanos);
            long left = TimeUnit.MILLISECONDS.toNanos(BODY_DEADLINE_MS) - readingNanos;
            if (left > 0) {
                armDeadline(ctx, pending, left);
            } else {
                refuse(ctx, HttpResponseStatus.REQUEST_TIMEOUT, ApiError.REQUEST_TIMEOUT,
                        "the request body did not arrive within " + BODY_DEADLINE_MS + " ms", Map.of());
            }
        }, Math.max(0, leftNanos), TimeUnit.NANOSECONDS);
    }

    /** Quiet because the node stopped reading (its requests wait) is not the client's doing: the next idle period decides. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE && head != null && !refused
                && !reading.pausedWithin(TimeUnit.SECONDS.toNanos(HttpServer.IDLE_SECONDS), System.nanoTime())) {
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
