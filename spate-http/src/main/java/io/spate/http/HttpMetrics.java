package io.spate.http;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The node's {@code /metrics}: everything registered in its registry (the node registers its
 * Kafka request, partition and JVM figures there), written in Prometheus' text format, and this
 * module's own figures: HTTP requests per route, counted and timed from the whole request's
 * arrival to its answer written to the socket (a live stream: to the stream's start).
 *
 * <p>One counter and histogram child per route, made up front: recording a request allocates nothing.
 */
final class HttpMetrics {
    /** The routes, as the {@code route} label names them. */
    enum Route {
        PRODUCE, READ, LIVE, ADMIN, METRICS, REST_PROXY, UNKNOWN;

        final String label = name().toLowerCase(Locale.ROOT);
        /** As the console's live figures name it. */
        final String statsName = "HTTP " + label.replace('_', ' ');

        /** The route {@code uri} takes, from its path's shape (the router proper decides what is valid). */
        static Route of(String uri) {
            int end = uri.indexOf('?');
            String path = end < 0 ? uri : uri.substring(0, end);
            int segments = 0;
            String third = null;
            String fifth = null;
            for (String segment : path.split("/")) {
                if (segment.isEmpty()) {
                    continue;
                }
                segments++;
                if (segments == 1 && !segment.equals("topics")) {
                    return switch (segment) {
                        case "metrics" -> METRICS;
                        case "admin", "console" -> ADMIN; // the admin endpoints and the web console's files
                        case "consumers", "brokers" -> REST_PROXY;
                        default -> UNKNOWN;
                    };
                }
                if (segments == 3) {
                    third = segment;
                } else if (segments == 5) {
                    fifth = segment;
                }
            }
            return switch (segments) {
                case 0, 1, 2 -> ADMIN; // 0: the web console's page
                case 3 -> "records".equals(third) ? PRODUCE : "live".equals(third) ? LIVE : "partitions".equals(third) ? REST_PROXY : UNKNOWN;
                case 4 -> "partitions".equals(third) ? REST_PROXY : UNKNOWN;
                case 5 -> "records".equals(fifth) ? READ : "offsets".equals(fifth) ? REST_PROXY : UNKNOWN;
                default -> UNKNOWN;
            };
        }
    }

    /** As {@link Route#of(String)}, but a POST to a topic is a REST Proxy v2 produce. */
    static Route route(io.netty.handler.codec.http.HttpMethod method, String uri) {
        Route route = Route.of(uri);
        return route == Route.ADMIN && method.equals(io.netty.handler.codec.http.HttpMethod.POST) && namesTopic(uri) ? Route.REST_PROXY : route;
    }

    /**
     * Whether the path, its leading and trailing slashes left out, starts with {@code topics/}:
     * /topics/{t}, not /topics nor /admin/... Scanned in place (every request is counted, and a
     * regular expression would be compiled for each).
     */
    static boolean namesTopic(String uri) {
        int end = uri.indexOf('?');
        if (end < 0) {
            end = uri.length();
        }
        int i = 0;
        while (i < end && uri.charAt(i) == '/') {
            i++;
        }
        if (i + 7 > end || !uri.startsWith("topics/", i)) {
            return false;
        }
        for (int j = i + 7; j < end; j++) {
            if (uri.charAt(j) != '/') {
                return true; // something after "topics/" that is not a trailing slash
            }
        }
        return false;
    }

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusRegistry registry;
    private final Counter requests;
    private final Histogram latency;
    private final CounterDataPoint[] requestsByRoute = new CounterDataPoint[Route.values().length];
    private final DistributionDataPoint[] latencyByRoute = new DistributionDataPoint[Route.values().length];
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    HttpMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        this.requests = Counter.builder()
                .name("spate_http_requests")
                .withoutExemplars() // exemplars: no tracer to link them to, and their rate limiter woke a thread ~100 times a second
                .help("HTTP requests answered, per route (produce, read, live, admin, metrics, rest_proxy, unknown)")
                .labelNames("route")
                .build();
        this.latency = Histogram.builder()
                .name("spate_http_request_duration")
                .withoutExemplars()
                .unit(Unit.SECONDS)
                .help("Time from an HTTP request's whole arrival to its answer written (a live stream: to its start), per route")
                .labelNames("route")
                .classicOnly()
                .classicExponentialUpperBounds(0.0001, 2, 18) // 100 µs to 13 s
                .build();
        for (Route route : Route.values()) {
            requestsByRoute[route.ordinal()] = requests.labelValues(route.label);
            latencyByRoute[route.ordinal()] = latency.labelValues(route.label);
        }
    }

    /** Adds this module's figures to the registry (once the server listens, so a failed start leaves none behind). */
    void register() {
        registry.register(requests);
        registry.register(latency);
    }

    void unregister() {
        registry.unregister(requests);
        registry.unregister(latency);
    }

    /** The console's live figures, which also take HTTP requests (as "HTTP produce"...); none until set. */
    private volatile RequestStats live;

    void recordInto(RequestStats stats) {
        this.live = stats;
    }

    /** A request on {@code route} that arrived at {@code arrivalNanos} (System.nanoTime) is answered. */
    void answered(Route route, long arrivalNanos) {
        long elapsedNanos = System.nanoTime() - arrivalNanos;
        RequestStats stats = live;
        if (stats != null) {
            // One slot per route, past Kafka's api keys; bytes are not known here.
            stats.onRequest(RequestStats.FIRST_HTTP_ID + route.ordinal(), route.statsName, 0);
            stats.onResponse(RequestStats.FIRST_HTTP_ID + route.ordinal(), route.statsName, elapsedNanos, 0);
        }
        requestsByRoute[route.ordinal()].inc();
        latencyByRoute[route.ordinal()].observe(Math.max(0, elapsedNanos) / 1e9);
    }

    /** The scrape: every figure in the registry, collected now, in the text format. */
    Response scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 << 10);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Response(io.netty.handler.codec.http.HttpResponseStatus.OK, out.toByteArray(), CONTENT_TYPE, java.util.Map.of());
    }
}
