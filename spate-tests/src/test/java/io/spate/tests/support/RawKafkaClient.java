package io.spate.tests.support;

import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * A blocking socket speaking the Kafka protocol with kafka-clients' request classes, for tests
 * that send exactly the bytes they mean (bad CRCs, chosen sequence numbers, odd versions).
 */
public final class RawKafkaClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    public RawKafkaClient(String bootstrap) throws IOException {
        this(bootstrap, -1);
    }

    /** A connection whose socket buffers this many bytes of responses (set before connecting), or the system's default for -1. */
    public RawKafkaClient(String bootstrap, int receiveBufferBytes) throws IOException {
        String[] hostPort = bootstrap.split(":");
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 5_000);
        socket.setSoTimeout(15_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public <R extends AbstractResponse> R send(AbstractRequest request) throws IOException {
        write(request);
        return read(request);
    }

    /** Sends {@code request} without waiting: requests written in a row are pipelined on the connection. */
    public void write(AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), "raw-test", ++correlationId);
        writeFrame(request.serializeWithHeader(header));
    }

    /** Reads the next response, which answers {@code request} if requests were written in that order. */
    @SuppressWarnings("unchecked")
    public <R extends AbstractResponse> R read(AbstractRequest request) throws IOException {
        ByteBuffer response = readFrame();
        org.apache.kafka.common.requests.ResponseHeader.parse(response, request.apiKey().responseHeaderVersion(request.version()));
        return (R) AbstractResponse.parseResponse(request.apiKey(), new org.apache.kafka.common.protocol.ByteBufferAccessor(response), request.version());
    }

    public void writeFrame(ByteBuffer payload) throws IOException {
        byte[] frame = new byte[4 + payload.remaining()];
        ByteBuffer.wrap(frame).putInt(payload.remaining()).put(payload);
        out.write(frame);
        out.flush();
    }

    public void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public ByteBuffer readFrame() throws IOException {
        int size = in.readInt();
        byte[] body = new byte[size];
        in.readFully(body);
        return ByteBuffer.wrap(body);
    }

    /** True when the server closed the connection (reads hit end of stream). */
    public boolean closedByServer() {
        try {
            return in.read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false; // still open: nothing came within the read timeout
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
