package io.spate.http;

import io.netty.buffer.ByteBuf;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code GET /topics/{topic}/live}: a topic's records as Server-Sent Events, from every partition,
 * read by a consumer of its own on a virtual thread. Each event's {@code id} holds the position of
 * every partition, {@code p:o,...} with {@code o} the last offset delivered (one below where the
 * stream started, for a partition with none delivered yet), so a reconnect with
 * {@code Last-Event-ID} resumes every partition right after what it saw.
 *
 * <p>A slow client costs the node at most one poll's worth of records over its socket buffers: no
 * poll while the connection is not writable, and the stream ends once it stays so for
 * {@link #SLOW_CLIENT_CLOSE_MS}.
 */
final class LiveStream implements StreamingOutcome {
    private static final Logger log = LoggerFactory.getLogger(LiveStream.class);
    static final long HEARTBEAT_MS = 15_000;
    static final long SLOW_CLIENT_CLOSE_MS = 10_000;
    private static final int MAX_POLL_RECORDS = 500;

    private final Channel channel;
    private final String topic;
    private final int partitions;
    private final Map<Integer, Long> resumeAfter;
    private final boolean fromBeginning;
    private final RecordJson.Format format;
    private final KafkaClients clients;
    private final Executor executor;
    private final Consumer<LiveStream> onEnd;
    private volatile boolean started;
    /** Released whenever the connection's writability changes, or the stream is stopped. */
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean stopped;
    private volatile KafkaConsumer<byte[], byte[]> consumer;

    LiveStream(Channel channel, String topic, int partitions, Map<Integer, Long> resumeAfter, boolean fromBeginning,
               RecordJson.Format format, KafkaClients clients, Executor executor, Consumer<LiveStream> onEnd) {
        this.channel = channel;
        this.topic = topic;
        this.partitions = partitions;
        this.resumeAfter = Map.copyOf(resumeAfter);
        this.fromBeginning = fromBeginning;
        this.format = format;
        this.clients = clients;
        this.executor = executor;
        this.onEnd = onEnd;
    }

    /** Parses a {@code Last-Event-ID}: {@code p:o,...}, each partition once and within the topic. */
    static Map<Integer, Long> parseEventId(String id, int partitions) {
        Map<Integer, Long> positions = new TreeMap<>();
        for (String part : id.trim().split(",")) {
            String[] pair = part.trim().split(":");
            try {
                int partition = Integer.parseInt(pair[0].trim());
                long offset = Long.parseLong(pair[1].trim());
                if (pair.length != 2 || partition < 0 || partition >= partitions || offset < -1 || offset == Long.MAX_VALUE
                        || positions.put(partition, offset) != null) {
                    throw new IllegalArgumentException();
                }
            } catch (RuntimeException e) {
                throw ApiError.badRequest(ApiError.BAD_PARAMETER, "Last-Event-ID must look like 0:15,1:7 (partition:last offset seen, "
                        + "each partition of the topic's " + partitions + " at most once), not '" + id + "'");
            }
        }
        return positions;
    }

    static String eventId(SortedMap<Integer, Long> positions) {
        StringBuilder id = new StringBuilder();
        positions.forEach((p, o) -> id.append(id.isEmpty() ? "" : ",").append(p).append(':').append(o));
        return id.toString();
    }

    /** On the connection's event loop: the response head, then the stream on its own thread. */
    @Override
    public void start() {
        started = true;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        HttpUtil.setTransferEncodingChunked(head, true);
        channel.writeAndFlush(head);
        executor.execute(this::run);
    }

    @Override
    public void stop() {
        stopped = true;
        if (!started) {
            onEnd.accept(this); // never ran (the client left before it began): nothing else ends it
        }
        wake.release();
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    @Override
    public void writabilityChanged() {
        wake.release();
    }

    private void run() {
        try (KafkaConsumer<byte[], byte[]> c = clients.consumer(MAX_POLL_RECORDS)) {
            consumer = c;
            if (stopped) {
                return;
            }
            SortedMap<Integer, Long> positions = seek(c);
            send(": streaming " + topic + "\n\n");
            stream(c, positions);
        } catch (WakeupException stoppedWhilePolling) {
            // stop(): the connection or the server closed
        } catch (RuntimeException e) {
            log.warn("live stream of {} to {} failed", topic, channel.remoteAddress(), e);
        } finally {
            consumer = null;
            channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            onEnd.accept(this);
        }
    }

    private SortedMap<Integer, Long> seek(KafkaConsumer<byte[], byte[]> c) {
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        c.assign(all);
        if (fromBeginning) {
            c.seekToBeginning(all);
        } else {
            c.seekToEnd(all);
        }
        resumeAfter.forEach((p, o) -> c.seek(new TopicPartition(topic, p), o + 1));
        SortedMap<Integer, Long> positions = new TreeMap<>();
        for (TopicPartition tp : all) {
            positions.put(tp.partition(), c.position(tp) - 1);
        }
        return positions;
    }

    private void stream(KafkaConsumer<byte[], byte[]> c, SortedMap<Integer, Long> positions) throws WakeupException {
        long lastWriteNs = System.nanoTime();
        long unwritableSinceNs = 0;
        boolean unwritable = false;
        while (!stopped && channel.isActive()) {
            if (!channel.isWritable()) {
                long now = System.nanoTime();
                if (!unwritable) {
                    unwritable = true;
                    unwritableSinceNs = now;
                } else if (now - unwritableSinceNs > TimeUnit.MILLISECONDS.toNanos(SLOW_CLIENT_CLOSE_MS)) {
                    log.info("live stream of {} to {}: the client has not read for {} ms; closing it", topic, channel.remoteAddress(),
                            SLOW_CLIENT_CLOSE_MS);
                    return;
                }
                awaitWake();
                continue;
            }
            unwritable = false;
            ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(500));
            if (!records.isEmpty()) {
                StringBuilder events = new StringBuilder();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    positions.put(r.partition(), r.offset());
                    events.append("id: ").append(eventId(positions)).append("\ndata: ")
                            .append(new String(Response.bytes(out -> RecordJson.write(out, ReadHandler.of(r), format)), StandardCharsets.UTF_8))
                            .append("\n\n");
                }
                send(events.toString());
                lastWriteNs = System.nanoTime();
            } else if (System.nanoTime() - lastWriteNs > TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MS)) {
                send(": heartbeat\n\n");
                lastWriteNs = System.nanoTime();
            }
        }
    }

    private void awaitWake() {
        try {
            wake.tryAcquire(250, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }

    private void send(String text) {
        ByteBuf bytes = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        channel.writeAndFlush(new DefaultHttpContent(bytes));
    }
}
