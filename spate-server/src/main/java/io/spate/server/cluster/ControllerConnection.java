package io.spate.server.cluster;

import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * A blocking Kafka-protocol connection to the controller's listener with a read timeout, so a
 * heartbeat to a dead or paused controller fails within the heartbeat timeout and the next one
 * can go elsewhere.
 */
final class ControllerConnection implements AutoCloseable {
    private final int nodeId;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    ControllerConnection(int nodeId, String host, int port, int timeoutMs) throws IOException {
        this.nodeId = nodeId;
        this.socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    int nodeId() {
        return nodeId;
    }

    AbstractResponse send(AbstractRequest request, String clientId) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), clientId, ++correlationId);
        ByteBuffer body = request.serializeWithHeader(header);
        byte[] frame = new byte[4 + body.remaining()];
        ByteBuffer.wrap(frame).putInt(body.remaining()).put(body);
        out.write(frame);
        out.flush();
        int size = in.readInt();
        if (size < 0 || size > 1 << 20) {
            throw new IOException("controller sent a response of " + size + " bytes");
        }
        byte[] response = new byte[size];
        in.readFully(response);
        ByteBuffer buffer = ByteBuffer.wrap(response);
        ResponseHeader responseHeader = ResponseHeader.parse(buffer, request.apiKey().responseHeaderVersion(request.version()));
        if (responseHeader.correlationId() != header.correlationId()) {
            throw new IOException("response to request " + responseHeader.correlationId() + ", expected " + header.correlationId());
        }
        return AbstractResponse.parseResponse(request.apiKey(), new ByteBufferAccessor(buffer), request.version());
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
