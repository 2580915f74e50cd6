package io.spate.http;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's Kafka requests per API, for the console's live figures ({@code /admin/stats/live}):
 * counts and bytes each way, and the latency of each request in an HdrHistogram
 * {@link Recorder}, whose interval histogram gives exact percentiles of the last second (the
 * Prometheus histograms' doubling buckets would give p99 only within a factor of two).
 *
 * <p>The node's listener reports each request ({@code spate-broker}'s {@code LiveRequestMetrics});
 * an API's slot is made on its first request, after which recording allocates nothing. Thread-safe:
 * requests are recorded on any thread, {@link #sample} is called by one sampler.
 */
public final class RequestStats {
    /** Latencies above this (in microseconds, one hour) are recorded as this. */
    private static final long MAX_US = 3_600_000_000L;

    private static final class Api {
        final String name;
        final LongAdder requests = new LongAdder();
        final LongAdder bytesIn = new LongAdder();
        final LongAdder bytesOut = new LongAdder();
        final Recorder latencyUs = new Recorder(1, MAX_US, 2);
        /** Sampler-only: the totals at the previous sample, and the histogram it recycles. */
        long lastRequests;
        long lastBytesIn;
        long lastBytesOut;
        Histogram interval;

        Api(String name) {
            this.name = name;
        }
    }

    private final AtomicReferenceArray<Api> apis = new AtomicReferenceArray<>(256);

    private Api api(int id, String name) {
        if (id < 0 || id >= apis.length()) {
            id = FIRST_HTTP_ID - 1; // no Kafka API key is this large; kept apart rather than lost
        }
        Api api = apis.get(id);
        if (api == null) {
            apis.compareAndSet(id, null, new Api(name));
            api = apis.get(id);
        }
        return api;
    }

    /** A request of API {@code id} (Kafka's api key, named {@code name}) arrived, {@code bytes} long. */
    public void onRequest(int id, String name, long bytes) {
        Api api = api(id, name);
        api.requests.increment();
        api.bytesIn.add(bytes);
    }

    /** It was answered {@code latencyNanos} after it arrived, with {@code bytes} of response. */
    public void onResponse(int id, String name, long latencyNanos, long bytes) {
        Api api = api(id, name);
        api.latencyUs.recordValue(Math.max(1, Math.min(MAX_US, latencyNanos / 1000)));
        if (bytes > 0) {
            api.bytesOut.add(bytes);
        }
    }

    /** Ids from here on are HTTP routes (the node's HTTP server records them), below Kafka api keys. */
    static final int FIRST_HTTP_ID = 200;

    /** One API's figures over a sample's interval: per second, and latency percentiles in milliseconds. */
    public record ApiSample(String api, boolean http, double requestsPerSecond, double bytesInPerSecond, double bytesOutPerSecond, long answered,
                            double p50Ms, double p99Ms, double maxMs) {
    }

    /**
     * The figures since the previous call (or since the start), each API that had any; for one
     * caller at a time (the sampler).
     */
    public synchronized List<ApiSample> sample(double intervalSeconds) {
        List<ApiSample> samples = new ArrayList<>();
        double seconds = Math.max(intervalSeconds, 1e-3);
        for (int i = 0; i < apis.length(); i++) {
            Api api = apis.get(i);
            if (api == null) {
                continue;
            }
            long requests = api.requests.sum();
            long in = api.bytesIn.sum();
            long out = api.bytesOut.sum();
            api.interval = api.latencyUs.getIntervalHistogram(api.interval);
            Histogram h = api.interval;
            long answered = h.getTotalCount();
            long dRequests = requests - api.lastRequests;
            long dIn = in - api.lastBytesIn;
            long dOut = out - api.lastBytesOut;
            api.lastRequests = requests;
            api.lastBytesIn = in;
            api.lastBytesOut = out;
            if (dRequests == 0 && answered == 0) {
                continue;
            }
            samples.add(new ApiSample(api.name, i >= FIRST_HTTP_ID, dRequests / seconds, dIn / seconds, dOut / seconds, answered,
                    answered == 0 ? 0 : h.getValueAtPercentile(50) / 1000.0,
                    answered == 0 ? 0 : h.getValueAtPercentile(99) / 1000.0,
                    answered == 0 ? 0 : h.getMaxValue() / 1000.0));
        }
        return samples;
    }
}
