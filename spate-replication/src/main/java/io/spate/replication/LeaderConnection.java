package io.spate.replication;

import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A blocking Kafka-protocol connection from a follower to a leader, one request at a time
 * (the fetcher has one fetch in flight per leader, as Kafka's does). The receive buffer is
 * reused across responses: the fetched records are slices of it and are appended to the log
 * before the next request is sent, so a steady stream of fetches allocates no new buffers.
 */
final class LeaderConnection implements AutoCloseable {
    private static final int MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

    private final SocketChannel channel;
    private final String clientId;
    private final ByteBuffer sizeBuffer = ByteBuffer.allocate(4);
    private ByteBuffer receive = ByteBuffer.allocate(1 << 20);
    private int correlationId;

    LeaderConnection(String host, int port, String clientId, int connectTimeoutMs) throws IOException {
        this.clientId = clientId;
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.socket().connect(new InetSocketAddress(host, port), connectTimeoutMs);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        this.channel = ch;
    }

    /** Sends {@code request} and waits for its response; the response may refer to the reused buffer. */
    AbstractResponse send(AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), clientId, ++correlationId);
        ByteBuffer body = request.serializeWithHeader(header);
        ByteBuffer size = ByteBuffer.allocate(4).putInt(0, body.remaining());
        channel.write(new ByteBuffer[]{size, body});
        while (size.hasRemaining() || body.hasRemaining()) {
            channel.write(new ByteBuffer[]{size, body});
        }
        sizeBuffer.clear();
        readFully(sizeBuffer);
        int length = sizeBuffer.getInt(0);
        if (length < 0 || length > MAX_RESPONSE_BYTES) {
            throw new IOException("leader sent a response of " + length + " bytes");
        }
        if (receive.capacity() < length) {
            receive = ByteBuffer.allocate(Math.max(length, receive.capacity() * 2));
        }
        receive.clear().limit(length);
        readFully(receive);
        receive.flip();
        ResponseHeader responseHeader = ResponseHeader.parse(receive, request.apiKey().responseHeaderVersion(request.version()));
        if (responseHeader.correlationId() != header.correlationId()) {
            throw new IOException("response correlation id " + responseHeader.correlationId() + " does not match request " + header.correlationId());
        }
        return AbstractResponse.parseResponse(request.apiKey(), new ByteBufferAccessor(receive), request.version());
    }

    private void readFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("leader closed the connection");
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
