package io.spate.http;

import io.spate.log.TopicPartition;
import io.spate.replication.Acks;
import io.spate.replication.LeaderConnection;
import io.spate.replication.LeaderProduce;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends a partition's records, built into batches here, to the node that leads the partition as
 * one Produce request. The leader appends a request's records for a partition in one write, as it
 * does a Kafka producer's, so they are all written or none wherever the partition is led; the
 * internal Kafka producer this replaced could split them over batches and write some.
 *
 * <p>Connections are blocking, one request at a time each, kept per leader for the next request
 * (callers run on virtual threads). One idle longer than {@link #MAX_IDLE_NS} is closed rather than
 * used: a connection the leader dropped while it sat idle would fail after the request was written,
 * which reads as "may or may not be written" and costs the client a retry it need not make.
 */
final class LeaderForwarder implements AutoCloseable {
    private static final long MAX_IDLE_NS = 30_000_000_000L;
    private static final int CONNECT_TIMEOUT_MS = 3_000;
    /** Beyond the request's own timeout, how long the leader may take to answer before the connection is given up. */
    private static final int ANSWER_GRACE_MS = 5_000;

    private final String clientId;
    private final Map<Integer, Deque<Idle>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    LeaderForwarder(String clientId) {
        this.clientId = clientId;
    }

    /**
     * What the leader answered ({@code answer}), or why nothing was answered. {@code delivered} is
     * false when the request never reached the leader (it wrote nothing, so sending again is safe).
     */
    record Answer(LeaderProduce.Answer answer, String failure, boolean delivered) {
        static Answer undelivered(String why) {
            return new Answer(null, why, false);
        }

        boolean ok() {
            return answer != null && answer.ok();
        }
    }

    /**
     * Sends {@code records} (one or more batches, offsets from 0) for {@code tp} to node
     * {@code leaderId} at {@code address} and waits for its answer. {@code acks} NONE is sent as
     * LEADER: a Kafka-protocol request with acks=0 gets no answer at all, and the connection must
     * know where one answer ends before it carries the next request.
     */
    Answer send(int leaderId, InetSocketAddress address, TopicPartition tp, ByteBuffer records, Acks acks, int timeoutMs) {
        LeaderConnection connection;
        try {
            connection = borrow(leaderId, address, timeoutMs);
        } catch (IOException e) {
            return Answer.undelivered("could not connect to the leader, node " + leaderId + " at " + address + ": " + e.getMessage());
        }
        LeaderProduce.Answer answer;
        try {
            answer = LeaderProduce.send(connection, tp, records, acks, timeoutMs);
        } catch (IOException | RuntimeException e) {
            connection.close();
            return new Answer(null, "the connection to the leader, node " + leaderId + ", failed while it had the records"
                    + " (they may or may not be written): " + e.getMessage(), true);
        }
        giveBack(leaderId, address, connection);
        return new Answer(answer, null, true);
    }

    private LeaderConnection borrow(int leaderId, InetSocketAddress address, int timeoutMs) throws IOException {
        if (closed) {
            throw new IOException("the HTTP server is closing");
        }
        Deque<Idle> waiting = idle.get(leaderId);
        if (waiting != null) {
            long now = System.nanoTime();
            while (true) {
                Idle next;
                synchronized (waiting) {
                    next = waiting.pollLast();
                }
                if (next == null) {
                    break;
                }
                // A node id's address changes when the node comes back elsewhere: its old connections go.
                if (now - next.sinceNs < MAX_IDLE_NS && next.address.equals(address)) {
                    try {
                        next.connection.readTimeout(timeoutMs + ANSWER_GRACE_MS);
                        return next.connection;
                    } catch (IOException e) {
                        // closed under us: the next one, or a new connection
                    }
                }
                next.connection.close();
            }
        }
        return new LeaderConnection(address.getHostString(), address.getPort(), clientId,
                Math.min(CONNECT_TIMEOUT_MS, Math.max(1, timeoutMs)), timeoutMs + ANSWER_GRACE_MS);
    }

    private void giveBack(int leaderId, InetSocketAddress address, LeaderConnection connection) {
        Deque<Idle> waiting = idle.computeIfAbsent(leaderId, id -> new ArrayDeque<>());
        synchronized (waiting) {
            waiting.addLast(new Idle(connection, address, System.nanoTime()));
        }
        if (closed) {
            closeIdle();
        }
    }

    @Override
    public void close() {
        closed = true;
        closeIdle();
    }

    private void closeIdle() {
        List<Idle> all = new ArrayList<>();
        for (Deque<Idle> waiting : idle.values()) {
            synchronized (waiting) {
                all.addAll(waiting);
                waiting.clear();
            }
        }
        all.forEach(i -> i.connection.close());
    }

    private record Idle(LeaderConnection connection, InetSocketAddress address, long sinceNs) {
    }
}
