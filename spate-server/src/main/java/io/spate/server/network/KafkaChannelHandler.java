package io.spate.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One Kafka client connection: turns frames into typed requests, hands them to the dispatcher,
 * and writes the responses back in the order the requests came, whatever order they complete in.
 *
 * <p>All state is confined to the channel's event loop. A request the server cannot parse, an
 * unknown API, or an unsupported version (other than ApiVersions, which answers
 * UNSUPPORTED_VERSION so the client can downgrade) closes the connection, as Kafka does; other
 * connections are not affected.
 */
final class KafkaChannelHandler extends ChannelInboundHandlerAdapter implements RequestFrameDecoder.Admission {
    private static final Logger log = LoggerFactory.getLogger(KafkaChannelHandler.class);
    /** Requests read but not yet answered; past this the connection stops reading (back-pressure). */
    private static final int MAX_IN_FLIGHT = 512;

    private final RequestDispatcher dispatcher;
    private final RequestMetrics metrics;
    private final ArrayDeque<PendingResponse> inFlight = new ArrayDeque<>();
    private ClientConnection connection;
    /** Set once the connection is being closed for a fatal request: frames read after it are not acted on. */
    private boolean closing;
    private io.netty.channel.Channel channel;
    /** The connection's frame decoder, looked up once: asked on every answer whether it waits for request memory. */
    private RequestFrameDecoder frames;

    private static final class PendingResponse {
        final RequestHeader header;
        /** The {@link RequestMetrics} stamp of its arrival. */
        final long arrivalStamp;
        ApiMessage response;
        boolean done;

        PendingResponse(RequestHeader header, long arrivalStamp) {
            this.header = header;
            this.arrivalStamp = arrivalStamp;
        }
    }

    private final RequestMemoryPool requestMemory;

    KafkaChannelHandler(RequestDispatcher dispatcher, RequestMemoryPool requestMemory, RequestMetrics metrics) {
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        this.requestMemory = requestMemory;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        frames = ctx.pipeline().get(RequestFrameDecoder.class);
        connection = new ClientConnection(ctx.channel().id().asShortText(), ctx.channel().remoteAddress(), ctx.executor());
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        int reserved = frame.readableBytes();
        try {
            handleFrame(ctx, frame.nioBuffer());
        } finally {
            frame.release();
            // The request's bytes are done with once dispatch returns (the handler contract): give the memory back.
            requestMemory.release(reserved);
        }
    }

    private void handleFrame(ChannelHandlerContext ctx, ByteBuffer buffer) {
        if (closing || !ctx.channel().isActive()) {
            // The client saw (or will see) the connection close and resends on another one: a frame
            // that came in behind a fatal one must not append or create anything meanwhile.
            return;
        }
        if (buffer.remaining() < 8) {
            closeWithReason(ctx, "a request frame of " + buffer.remaining() + " bytes is too short for a request header");
            return;
        }
        short apiKeyId = buffer.getShort(0);
        short version = buffer.getShort(2);
        int correlationId = buffer.getInt(4);
        if (!ApiKeys.hasId(apiKeyId)) {
            closeWithReason(ctx, "unknown API key " + apiKeyId);
            return;
        }
        ApiKeys apiKey = ApiKeys.forId(apiKeyId);
        long arrivalStamp = metrics.onRequest(apiKey, buffer.remaining() + 4);
        if (!dispatcher.supports(apiKey, version)) {
            if (apiKey == ApiKeys.API_VERSIONS) {
                PendingResponse pending = new PendingResponse(new RequestHeader(ApiKeys.API_VERSIONS, (short) 0, null, correlationId),
                        arrivalStamp);
                pending.response = dispatcher.unsupportedApiVersionsResponse();
                pending.done = true;
                inFlight.add(pending);
                drain(ctx);
            } else {
                closeWithReason(ctx, apiKey + " version " + version + " is not supported");
            }
            return;
        }
        RequestHeader header;
        AbstractRequest request;
        try {
            header = RequestHeader.parse(buffer);
            request = AbstractRequest.parseRequest(apiKey, version, new ByteBufferAccessor(buffer)).request;
        } catch (RuntimeException e) {
            closeWithReason(ctx, "malformed " + apiKey + " v" + version + " request: " + e.getMessage());
            return;
        }
        boolean answers = !(request instanceof ProduceRequest produce && produce.acks() == 0);
        PendingResponse pending = answers ? new PendingResponse(header, arrivalStamp) : null;
        if (pending != null) {
            inFlight.add(pending);
            if (inFlight.size() >= MAX_IN_FLIGHT) {
                updateReading(ctx);
            }
        }
        CompletableFuture<ApiMessage> result;
        try {
            result = dispatcher.dispatch(header, request, connection);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((response, error) -> {
            if (pending == null) {
                metrics.onResponse(apiKey, arrivalStamp, 0);
                String failure = UnansweredProduce.failure(response, error);
                if (failure != null) {
                    ctx.executor().execute(() -> closeWithReason(ctx, "a produce request with acks=0 (correlation id "
                            + correlationId + ") failed, so the producer learns it only by the connection closing: " + failure));
                }
                return;
            }
            if (ctx.executor().inEventLoop()) {
                complete(ctx, pending, request, response, error);
            } else {
                ctx.executor().execute(() -> complete(ctx, pending, request, response, error));
            }
        });
    }

    private void complete(ChannelHandlerContext ctx, PendingResponse pending, AbstractRequest request, ApiMessage response, Throwable error) {
        if (error != null) {
            Throwable cause = dispatcher.clientError(error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error);
            if (!(cause instanceof ApiException)) {
                log.error("unexpected failure handling {} from {}", pending.header.apiKey(), connection.remoteAddress(), cause);
            }
            response = request.getErrorResponse(0, cause).data();
        }
        pending.response = response;
        pending.done = true;
        drain(ctx);
    }

    private void drain(ChannelHandlerContext ctx) {
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peek().done) {
            PendingResponse next = inFlight.poll();
            RequestHeader header = next.header;
            List<Object> parts;
            try {
                short headerVersion = header.apiKey().responseHeaderVersion(header.apiVersion());
                parts = ResponseEncoder.encode(ctx.alloc(), header.correlationId(), headerVersion, next.response, header.apiVersion());
            } catch (RuntimeException e) {
                log.error("could not encode the {} v{} response; closing the connection", header.apiKey(), header.apiVersion(), e);
                ctx.close();
                return;
            }
            long responseBytes = 0;
            for (Object part : parts) {
                responseBytes += part instanceof ByteBuf buf ? buf.readableBytes() : ((FileRegion) part).count();
                ctx.write(part, ctx.voidPromise());
            }
            metrics.onResponse(header.apiKey(), next.arrivalStamp, responseBytes);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        updateReading(ctx);
    }

    /**
     * Reads requests only while the client can take the answers: fewer than {@link #MAX_IN_FLIGHT}
     * unanswered (resuming below half of it), its responses not piling up unread (the channel
     * writable: below the listener's high water mark), and request memory to read into.
     */
    private void updateReading(ChannelHandlerContext ctx) {
        var config = ctx.channel().config();
        boolean reading = config.isAutoRead();
        boolean read = admitsRequest() && (frames == null || !frames.waitingForMemory());
        if (read != reading) {
            config.setAutoRead(read);
            if (read && frames != null) {
                frames.resume();
            }
        }
    }

    /** Checked before each frame is handed on, so a read full of small requests stops where the answers pile up. */
    @Override
    public boolean admitsRequest() {
        if (channel == null) {
            return true;
        }
        boolean reading = channel.config().isAutoRead();
        return !closing && channel.isWritable() && inFlight.size() < (reading ? MAX_IN_FLIGHT : MAX_IN_FLIGHT / 2);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        updateReading(ctx);
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event == RequestFrameDecoder.MEMORY_RELEASED) {
            updateReading(ctx);
        } else if (event instanceof IdleStateEvent) {
            if (inFlight.isEmpty()) {
                log.debug("closing connection from {}: idle for connections.max.idle.ms", ctx.channel().remoteAddress());
                closing = true;
                ctx.close();
            }
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    private void closeWithReason(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        log.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), reason);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            closeWithReason(ctx, "request larger than socket.request.max.bytes (" + cause.getMessage() + ")");
        } else if (cause instanceof CorruptedFrameException || cause instanceof DecoderException) {
            closeWithReason(ctx, "malformed frame (" + cause.getMessage() + ")");
        } else if (cause instanceof IOException) {
            log.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), cause.getMessage());
            ctx.close();
        } else {
            log.warn("closing connection from {} after an unexpected error", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }
}
