package io.spate.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code GET /admin/stats/live}: the node's request figures as Server-Sent Events, one
 * {@code data:} event a second from the {@link StatsSampler} (the kept history first). A sample
 * that finds the connection unwritable is dropped, not queued; a client that reads nothing for
 * {@link LiveStream#SLOW_CLIENT_CLOSE_MS} is disconnected.
 */
final class StatsStream implements StreamingOutcome {
    private final Channel channel;
    private final StatsSampler sampler;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile boolean started;
    private long unwritableSinceNs;

    StatsStream(Channel channel, StatsSampler sampler) {
        this.channel = channel;
        this.sampler = sampler;
    }

    @Override
    public void start() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setTransferEncodingChunked(head, true);
        channel.write(head);
        channel.write(new DefaultHttpContent(Unpooled.copiedBuffer("retry: 2000\n\n", StandardCharsets.US_ASCII)));
        for (byte[] event : sampler.backlog()) {
            channel.write(new DefaultHttpContent(Unpooled.wrappedBuffer(event)));
        }
        channel.flush();
        started = true;
    }

    /** From the sampler's thread: one sample's event. */
    void offer(byte[] event) {
        if (stopped.get()) {
            return;
        }
        if (!channel.isActive()) {
            stop();
            return;
        }
        if (!started) {
            return;
        }
        if (!channel.isWritable()) {
            long now = System.nanoTime();
            if (unwritableSinceNs == 0) {
                unwritableSinceNs = now;
            } else if (now - unwritableSinceNs > TimeUnit.MILLISECONDS.toNanos(LiveStream.SLOW_CLIENT_CLOSE_MS)) {
                stop();
            }
            return;
        }
        unwritableSinceNs = 0;
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(event)));
    }

    @Override
    public void stop() {
        if (stopped.compareAndSet(false, true)) {
            sampler.remove(this);
            if (channel.isActive()) {
                channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    @Override
    public void writabilityChanged() {
        // the next sample looks again
    }
}
