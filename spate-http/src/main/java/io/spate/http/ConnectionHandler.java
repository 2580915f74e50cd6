package io.spate.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One connection's requests, answered one at a time and in order. A request is handled off the
 * event loop (a virtual thread, since a handler may block), except a single key of a table, which
 * is sent to the tables' coordinator from the event loop and answered there when its future
 * completes ({@link HttpApi#tableKey}). Requests that arrive while one is handled (pipelining)
 * wait, and reading stops until they are answered. What {@link RequestReader} refused, or a
 * 100 Continue it owes, waits its turn likewise. A live stream takes the connection over until
 * either side ends it. Fields are touched on the connection's event loop only.
 *
 * <p>A refusal closes the connection the way HTTP servers do when they did not read the body: the
 * answer, then a half-close, then the rest of the body read and dropped until the client closes
 * (at most {@link #LINGER_MS}), so the client sees the answer rather than a reset.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);
    private static final DefaultHttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final AsciiString APPLICATION_JSON = AsciiString.cached(Response.APPLICATION_JSON);
    private static final AsciiString OCTET_STREAM = AsciiString.cached("application/octet-stream");

    static final long LINGER_MS = 5_000;

    private final HttpApi api;
    private final ReadPause reading;
    /**
     * What arrived while an earlier request is handled (pipelining): {@link ApiRequest}s, bounded by
     * their reservations, {@link ContinueExpected} and at most one {@link Refusal}, the last.
     */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private boolean busy;
    private StreamingOutcome stream;
    /** The table request in progress whose future has not completed yet; null when none. */
    private TableCall<?> tableCall;
    /**
     * Answers {@link #tableCall} with a 504 if its future does not complete in time. One timer per
     * connection, armed for the call in progress and left running across calls (re-armed when it
     * fires early), rather than one scheduled and cancelled per request.
     */
    private ScheduledFuture<?> deadlineTimer;

    ConnectionHandler(HttpApi api, ReadPause reading) {
        this.api = api;
        this.reading = reading;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ApiRequest || msg instanceof Refusal || msg instanceof ContinueExpected)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (stream != null) {
            release(msg); // a streaming connection takes no more requests
            return;
        }
        waiting.add(msg);
        if (msg instanceof Refusal) {
            // Nothing is taken after it: read on, dropping what comes, to see the client leave.
            reading.resume(ctx.channel());
        } else if (busy && msg instanceof ApiRequest) {
            // A request waits behind another (a pipelining client): read no more until it is answered.
            // Not turned off for every request: a client that waits for each answer sends nothing
            // meanwhile, and switching reading off and on costs two changes of the socket's interest set.
            reading.pause(ctx.channel());
        }
        next(ctx);
    }

    private static void release(Object waiting) {
        if (waiting instanceof ApiRequest request) {
            request.release();
        }
    }

    private void next(ChannelHandlerContext ctx) {
        while (!busy && stream == null) {
            Object first = waiting.poll();
            if (first == null) {
                reading.resume(ctx.channel());
                return;
            }
            switch (first) {
                case ApiRequest request -> start(ctx, request);
                case Refusal refusal -> refuse(ctx, refusal.response());
                default -> ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                        Unpooled.EMPTY_BUFFER));
            }
        }
    }

    private void start(ChannelHandlerContext ctx, ApiRequest request) {
        busy = true;
        TablesApi.Pending<?> pending;
        try {
            pending = api.tableKey(request.http);
        } catch (ApiError e) {
            respond(ctx, request, Response.error(e));
            return;
        } catch (RuntimeException | Error e) {
            respond(ctx, request, internalError(request, e));
            return;
        }
        if (pending != null) {
            await(ctx, request, pending);
            return;
        }
        try {
            api.execute(() -> serve(ctx, request));
        } catch (RejectedExecutionException stopping) {
            request.release();
            ctx.close();
        }
    }

    private static Response internalError(ApiRequest request, Throwable e) {
        log.warn("HTTP {} {} failed", request.http.method(), request.http.uri(), e);
        return Response.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ApiError.INTERNAL, "internal error: " + e, Map.of());
    }

    /** On the event loop: answers the table request once its future completes (or its time is up). */
    private <T> void await(ChannelHandlerContext ctx, ApiRequest request, TablesApi.Pending<T> pending) {
        TableCall<T> call = new TableCall<>(ctx, request, pending, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pending.answerWithinMs()));
        tableCall = call;
        if (deadlineTimer == null) {
            armDeadline(ctx, call.deadlineNanos);
        }
        pending.future.whenComplete(call);
    }

    private void armDeadline(ChannelHandlerContext ctx, long deadlineNanos) {
        deadlineTimer = ctx.executor().schedule(() -> deadlinePassed(ctx), Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void deadlinePassed(ChannelHandlerContext ctx) {
        deadlineTimer = null;
        TableCall<?> call = tableCall;
        if (call == null || !ctx.channel().isActive()) {
            return; // re-armed by the next call
        }
        if (System.nanoTime() - call.deadlineNanos < 0) {
            armDeadline(ctx, call.deadlineNanos); // armed for an earlier call, answered since
            return;
        }
        tableCall = null; // its future's completion, if it ever comes, is dropped
        respond(ctx, call.request, Response.error(new ApiError(HttpResponseStatus.GATEWAY_TIMEOUT, TablesApi.TIMEOUT,
                "no answer from the table's coordinator")));
    }

    /** A table request in progress: takes its future's completion (on the tables' thread) over to the event loop. */
    private final class TableCall<T> implements BiConsumer<T, Throwable>, Runnable {
        final ChannelHandlerContext ctx;
        final ApiRequest request;
        final TablesApi.Pending<T> pending;
        final long deadlineNanos;
        // Written by the completing thread before the hand-over to the event loop, read after it.
        private T result;
        private Throwable failure;

        TableCall(ChannelHandlerContext ctx, ApiRequest request, TablesApi.Pending<T> pending, long deadlineNanos) {
            this.ctx = ctx;
            this.request = request;
            this.pending = pending;
            this.deadlineNanos = deadlineNanos;
        }

        @Override
        public void accept(T result, Throwable failure) {
            this.result = result;
            this.failure = failure;
            if (ctx.executor().inEventLoop()) {
                run(); // completed at once (refused before reaching the tables' thread)
            } else {
                ctx.executor().execute(this);
            }
        }

        /** On the event loop: the answer, built here rather than on the tables' thread, which every table request passes through. */
        @Override
        public void run() {
            if (tableCall != this) {
                return; // answered with a 504 already
            }
            tableCall = null;
            Response response;
            try {
                response = pending.answer(result, failure);
            } catch (ApiError e) {
                response = Response.error(e);
            } catch (RuntimeException | Error e) {
                response = internalError(request, e);
            }
            respond(ctx, request, response);
        }
    }

    /** Off the event loop: handles the request and writes the answer. */
    private void serve(ChannelHandlerContext ctx, ApiRequest request) {
        Outcome outcome;
        try {
            outcome = api.handle(request.http, ctx.channel());
        } catch (ApiError e) {
            outcome = Response.error(e);
        } catch (RuntimeException | Error e) {
            outcome = internalError(request, e);
        }
        if (outcome instanceof StreamingOutcome live) {
            api.metrics().answered(HttpMetrics.route(request.http.method(), request.http.uri()), request.arrivalNanos);
            request.release();
            ctx.executor().execute(() -> startStream(ctx, live));
            return;
        }
        respond(ctx, request, (Response) outcome);
    }

    /**
     * Writes a whole answer (from the event loop or a handler's thread), then counts the request and
     * goes on with the next one, or closes the connection if the client asked for it or the write failed.
     */
    private void respond(ChannelHandlerContext ctx, ApiRequest request, Response response) {
        boolean keepAlive = HttpUtil.isKeepAlive(request.http);
        // The answer is its own bytes: the body and its share of the in-flight bytes go back now, not
        // once a client that may never read has taken the answer. (The method and URI outlive it.)
        request.release();
        ctx.writeAndFlush(http(response, keepAlive)).addListener((ChannelFutureListener) written -> {
            api.metrics().answered(HttpMetrics.route(request.http.method(), request.http.uri()), request.arrivalNanos);
            if (!written.isSuccess() || !keepAlive) {
                ctx.close();
                return;
            }
            busy = false;
            next(ctx);
        });
    }

    private static FullHttpResponse http(Response response, boolean keepAlive) {
        byte[] body = response.body();
        FullHttpResponse http = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), Unpooled.wrappedBuffer(body),
                HEADERS, HEADERS);
        // The names and values are this module's own (the validation a client's headers need is not needed here).
        http.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType(response.contentType()))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        response.headers().forEach(http.headers()::set);
        if (!keepAlive) {
            http.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return http;
    }

    /** On the event loop: a refused request's answer in its turn, then a half-close; the connection serves nothing more. */
    private void refuse(ChannelHandlerContext ctx, Response response) {
        busy = true;
        ctx.writeAndFlush(http(response, false)).addListener((ChannelFutureListener) written -> {
            if (written.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), LINGER_MS, TimeUnit.MILLISECONDS);
            } else {
                ctx.close();
            }
        });
    }

    /** The usual content types as ASCII strings made once, which the encoder copies as they are. */
    private static CharSequence contentType(String type) {
        return switch (type) {
            case Response.APPLICATION_JSON -> APPLICATION_JSON;
            case "application/octet-stream" -> OCTET_STREAM;
            default -> type;
        };
    }

    private void startStream(ChannelHandlerContext ctx, StreamingOutcome live) {
        busy = false;
        stream = live;
        waiting.forEach(ConnectionHandler::release);
        waiting.clear();
        // Read on, dropping what arrives, to see the client leave as soon as it does.
        reading.resume(ctx.channel());
        if (ctx.channel().isActive()) {
            live.start();
        } else {
            live.stop();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stream != null) {
            stream.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        waiting.forEach(ConnectionHandler::release);
        waiting.clear();
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
            deadlineTimer = null;
        }
        if (stream != null) {
            stream.stop();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent idle && stream == null) {
            if (idle.state() == IdleState.READER_IDLE && !busy && waiting.isEmpty()) {
                ctx.close(); // an idle keep-alive connection
                return;
            }
            // Not the first event: that one comes a period after the last whole write, however an answer
            // being written since fares; the later ones only when the answer did not move (observeOutput).
            if (idle.state() == IdleState.WRITER_IDLE && !idle.isFirst() && unsentBytes(ctx) > 0) {
                // A client that reads none of its answers: closed, giving back what its waiting requests hold.
                log.debug("HTTP connection {} takes none of its answer; closing it", ctx.channel().remoteAddress());
                ctx.close();
                return;
            }
        }
        ctx.fireUserEventTriggered(event);
    }

    private static long unsentBytes(ChannelHandlerContext ctx) {
        ChannelOutboundBuffer unsent = ctx.channel().unsafe().outboundBuffer();
        return unsent == null ? 0 : unsent.totalPendingWriteBytes();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed; closing it", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
