package io.spate.replication;

import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * A blocking Kafka-protocol connection from a follower to a leader, one request at a time
 * (the fetcher has one fetch in flight per leader, as Kafka's does; the HTTP API forwards a
 * partition's records to its leader through these too). The receive buffer is
 * reused across responses: the fetched records are slices of it and are appended to the log
 * before the next request is sent, so a steady stream of fetches allocates no new buffers.
 *
 * <p>Every read waits at most {@code readTimeoutMs} (replica.socket.timeout.ms) for the next
 * bytes: a leader that froze (SIGSTOP, a stalled VM) or whose host vanished leaves a half-open
 * connection that would otherwise block the fetcher for good, since TCP only notices a dead peer
 * when it sends. The timeout throws, the fetcher drops the connection and dials again. A plain
 * {@link Socket} is used because a blocking {@code SocketChannel} ignores read timeouts.
 */
public final class LeaderConnection implements AutoCloseable {
    private static final int MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String clientId;
    private final byte[] sizeBytes = new byte[4];
    private final byte[] send = new byte[16 * 1024];
    private ByteBuffer receive = ByteBuffer.allocate(1 << 20);
    private int correlationId;

    public LeaderConnection(String host, int port, String clientId, int connectTimeoutMs, int readTimeoutMs) throws IOException {
        this.clientId = clientId;
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(readTimeoutMs);
            s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
            // Buffered so that a small response (most fetches of a follower that keeps up) is one
            // read: its size and body arrive together.
            this.in = new java.io.BufferedInputStream(s.getInputStream(), 16 * 1024);
            this.out = s.getOutputStream();
        } catch (IOException e) {
            s.close();
            throw e;
        }
        this.socket = s;
    }

    /** Sends {@code request} and waits for its response; the response may refer to the reused buffer. */
    public AbstractResponse send(AbstractRequest request) throws IOException {
        RequestHeader header = new RequestHeader(request.apiKey(), request.version(), clientId, ++correlationId);
        ByteBuffer body = request.serializeWithHeader(header);
        int length = body.remaining();
        // A small request goes in one write with its size: two writes on a no-delay socket are two
        // segments, two wake-ups of the leader's event loop and twice the system calls, for every
        // fetch. A large one (records forwarded over HTTP) is not copied for that.
        send[0] = (byte) (length >>> 24);
        send[1] = (byte) (length >>> 16);
        send[2] = (byte) (length >>> 8);
        send[3] = (byte) length;
        if (4 + length <= send.length) {
            body.get(send, 4, length);
            out.write(send, 0, 4 + length);
        } else if (body.hasArray()) {
            out.write(send, 0, 4);
            out.write(body.array(), body.arrayOffset() + body.position(), length);
        } else {
            byte[] copy = new byte[length];
            body.get(copy);
            out.write(send, 0, 4);
            out.write(copy);
        }
        out.flush();
        readFully(sizeBytes, 0, 4);
        int size = ByteBuffer.wrap(sizeBytes).getInt();
        if (size < 0 || size > MAX_RESPONSE_BYTES) {
            throw new IOException("leader sent a response of " + size + " bytes");
        }
        if (receive.capacity() < size) {
            receive = ByteBuffer.allocate(Math.max(size, receive.capacity() * 2));
        }
        readFully(receive.array(), receive.arrayOffset(), size);
        receive.clear().limit(size);
        ResponseHeader responseHeader = ResponseHeader.parse(receive, request.apiKey().responseHeaderVersion(request.version()));
        if (responseHeader.correlationId() != header.correlationId()) {
            throw new IOException("response correlation id " + responseHeader.correlationId() + " does not match request " + header.correlationId());
        }
        return AbstractResponse.parseResponse(request.apiKey(), new ByteBufferAccessor(receive), request.version());
    }

    /** How long each read of the next answer may wait from now on (a kept connection serves requests of different timeouts). */
    public void readTimeout(int ms) throws IOException {
        socket.setSoTimeout(ms);
    }

    /** Reads exactly {@code length} bytes; a silence longer than the read timeout throws SocketTimeoutException. */
    private void readFully(byte[] into, int offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(into, offset + done, length - done);
            if (n < 0) {
                throw new EOFException("leader closed the connection");
            }
            done += n;
        }
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
