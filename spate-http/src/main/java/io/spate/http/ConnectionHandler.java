package io.spate.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

/**
 * One connection's requests, answered one at a time and in order: reading stops while a request
 * is handled (off the event loop) and resumes once its answer is written. A live stream takes the
 * connection over until either side ends it. Fields are touched on the connection's event loop only.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

    private final HttpApi api;
    /** Requests already decoded from one read while an earlier one is handled (pipelining); bounded by their reservations. */
    private final ArrayDeque<ApiRequest> waiting = new ArrayDeque<>();
    private boolean busy;
    private StreamingOutcome stream;

    ConnectionHandler(HttpApi api) {
        this.api = api;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ApiRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (stream != null) {
            request.release(); // a streaming connection takes no more requests
            return;
        }
        waiting.add(request);
        ctx.channel().config().setAutoRead(false);
        next(ctx);
    }

    private void next(ChannelHandlerContext ctx) {
        if (busy || stream != null) {
            return;
        }
        ApiRequest request = waiting.poll();
        if (request == null) {
            ctx.channel().config().setAutoRead(true);
            return;
        }
        busy = true;
        try {
            api.execute(() -> serve(ctx, request));
        } catch (RejectedExecutionException stopping) {
            request.release();
            ctx.close();
        }
    }

    /** Off the event loop: handles the request and writes the answer. */
    private void serve(ChannelHandlerContext ctx, ApiRequest request) {
        HttpMetrics.Route route = HttpMetrics.route(request.http.method(), request.http.uri());
        Outcome outcome;
        try {
            outcome = api.handle(request.http, ctx.channel());
        } catch (ApiError e) {
            outcome = Response.error(e);
        } catch (RuntimeException | Error e) {
            log.warn("HTTP {} {} failed", request.http.method(), request.http.uri(), e);
            outcome = Response.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, ApiError.INTERNAL, "internal error: " + e, Map.of());
        }
        if (outcome instanceof StreamingOutcome live) {
            api.metrics().answered(route, request.arrivalNanos);
            request.release();
            ctx.executor().execute(() -> startStream(ctx, live));
            return;
        }
        Response response = (Response) outcome;
        boolean keepAlive = HttpUtil.isKeepAlive(request.http);
        FullHttpResponse http = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), Unpooled.wrappedBuffer(response.body()));
        http.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        response.headers().forEach(http.headers()::set);
        if (!keepAlive) {
            http.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(http).addListener((ChannelFutureListener) written -> {
            api.metrics().answered(route, request.arrivalNanos);
            request.release();
            if (!written.isSuccess() || !keepAlive) {
                ctx.close();
                return;
            }
            busy = false;
            next(ctx);
        });
    }

    private void startStream(ChannelHandlerContext ctx, StreamingOutcome live) {
        busy = false;
        stream = live;
        waiting.forEach(ApiRequest::release);
        waiting.clear();
        // Read on, dropping what arrives, to see the client leave as soon as it does.
        ctx.channel().config().setAutoRead(true);
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
        waiting.forEach(ApiRequest::release);
        waiting.clear();
        if (stream != null) {
            stream.stop();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && !busy && stream == null && waiting.isEmpty()) {
            ctx.close(); // an idle keep-alive connection
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed; closing it", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
