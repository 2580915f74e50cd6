package io.spate.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Once a second, a sample of the node's {@link RequestStats} as one JSON object: kept for
 * {@code GET /admin/stats} (the last {@link #HISTORY} seconds) and sent to every
 * {@code /admin/stats/live} stream. One daemon thread per server; a sample costs a pass over the
 * APIs the node has served, so it runs whether or not anyone watches (the history is there when
 * the console opens).
 */
final class StatsSampler implements AutoCloseable {
    static final int HISTORY = 300;
    private final RequestStats stats;
    private final IntSupplier nodeId;
    private final ScheduledExecutorService timer;
    private final ArrayDeque<byte[]> history = new ArrayDeque<>();
    private final Set<StatsStream> streams = ConcurrentHashMap.newKeySet();
    private long lastNanos = System.nanoTime();

    StatsSampler(RequestStats stats, IntSupplier nodeId) {
        this.stats = stats;
        this.nodeId = nodeId;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("spate-http-stats").daemon().unstarted(r));
        timer.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
    }

    private void sample() {
        try {
            long now = System.nanoTime();
            double seconds = (now - lastNanos) / 1e9;
            lastNanos = now;
            List<RequestStats.ApiSample> apis = stats.sample(seconds);
            int id = nodeId.getAsInt();
            byte[] json = Response.bytes(out -> {
                out.writeStartObject();
                out.writeNumberField("time_ms", System.currentTimeMillis());
                out.writeNumberField("node_id", id);
                out.writeNumberField("interval_s", Math.round(seconds * 1000) / 1000.0);
                double requests = 0;
                double in = 0;
                double outBytes = 0;
                for (RequestStats.ApiSample a : apis) {
                    if (a.http()) {
                        continue; // the totals are the Kafka listener's
                    }
                    requests += a.requestsPerSecond();
                    in += a.bytesInPerSecond();
                    outBytes += a.bytesOutPerSecond();
                }
                out.writeNumberField("requests_per_sec", round(requests));
                out.writeNumberField("bytes_in_per_sec", round(in));
                out.writeNumberField("bytes_out_per_sec", round(outBytes));
                out.writeObjectFieldStart("apis");
                for (RequestStats.ApiSample a : apis) {
                    out.writeObjectFieldStart(a.api());
                    out.writeStringField("protocol", a.http() ? "http" : "kafka");
                    out.writeNumberField("requests_per_sec", round(a.requestsPerSecond()));
                    out.writeNumberField("bytes_in_per_sec", round(a.bytesInPerSecond()));
                    out.writeNumberField("bytes_out_per_sec", round(a.bytesOutPerSecond()));
                    out.writeNumberField("answered", a.answered());
                    out.writeNumberField("p50_ms", round(a.p50Ms()));
                    out.writeNumberField("p99_ms", round(a.p99Ms()));
                    out.writeNumberField("max_ms", round(a.maxMs()));
                    out.writeEndObject();
                }
                out.writeEndObject();
                out.writeEndObject();
            });
            synchronized (history) {
                history.addLast(json);
                while (history.size() > HISTORY) {
                    history.removeFirst();
                }
            }
            byte[] event = event(json);
            streams.forEach(s -> s.offer(event));
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(StatsSampler.class).warn("request stats sample failed", e);
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static byte[] event(byte[] json) {
        byte[] head = "data: ".getBytes(StandardCharsets.US_ASCII);
        byte[] event = new byte[head.length + json.length + 2];
        System.arraycopy(head, 0, event, 0, head.length);
        System.arraycopy(json, 0, event, head.length, json.length);
        event[event.length - 2] = '\n';
        event[event.length - 1] = '\n';
        return event;
    }

    private List<byte[]> samples() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** {@code GET /admin/stats}: the samples kept, oldest first, as a JSON array. */
    Response history() {
        List<byte[]> samples = samples();
        int size = 2 + samples.stream().mapToInt(b -> b.length + 1).sum();
        byte[] body = new byte[size];
        int at = 0;
        body[at++] = '[';
        for (int i = 0; i < samples.size(); i++) {
            if (i > 0) {
                body[at++] = ',';
            }
            byte[] s = samples.get(i);
            System.arraycopy(s, 0, body, at, s.length);
            at += s.length;
        }
        body[at++] = ']';
        return new Response(HttpResponseStatus.OK, java.util.Arrays.copyOf(body, at), Map.of());
    }

    /** {@code GET /admin/stats/live}: a stream that starts with the samples kept, then one a second. */
    StatsStream stream(Channel channel) {
        synchronized (streams) { // the count and the add as one: concurrent requests do not pass the limit
            if (streams.size() >= AdminApi.MAX_STATS_STREAMS) {
                throw new ApiError(HttpResponseStatus.TOO_MANY_REQUESTS, AdminApi.TOO_MANY_STATS_STREAMS, "this node serves "
                        + AdminApi.MAX_STATS_STREAMS + " stats streams already; try later");
            }
            StatsStream stream = new StatsStream(channel, this);
            streams.add(stream);
            return stream;
        }
    }

    /** The samples a new stream begins with. */
    List<byte[]> backlog() {
        return samples().stream().map(StatsSampler::event).toList();
    }

    void remove(StatsStream stream) {
        streams.remove(stream);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        streams.forEach(StatsStream::stop);
    }
}
