package io.spate.http;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class HttpMetricsTest {
    @Test
    void routesAreTakenFromThePathsShape() {
        assertThat(HttpMetrics.Route.of("/topics/t/records?acks=1")).isEqualTo(HttpMetrics.Route.PRODUCE);
        assertThat(HttpMetrics.Route.of("/topics/t/partitions/0/records?offset=3")).isEqualTo(HttpMetrics.Route.READ);
        assertThat(HttpMetrics.Route.of("/topics/t/live")).isEqualTo(HttpMetrics.Route.LIVE);
        assertThat(HttpMetrics.Route.of("/topics")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.Route.of("/topics/t/")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.Route.of("/metrics")).isEqualTo(HttpMetrics.Route.METRICS);
        assertThat(HttpMetrics.Route.of("/")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.Route.of("/admin/topics/t/configs")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.Route.of("/console/app.js")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.Route.of("/nope/a")).isEqualTo(HttpMetrics.Route.UNKNOWN);
        assertThat(HttpMetrics.Route.of("/topics/t/partitions/0/other")).isEqualTo(HttpMetrics.Route.UNKNOWN);
        assertThat(HttpMetrics.Route.of("/consumers/g/instances/i/records?timeout=1")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.Route.of("/brokers")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.Route.of("/topics/t/partitions")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.Route.of("/topics/t/partitions/2")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.Route.of("/topics/t/partitions/2/offsets")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.route(io.netty.handler.codec.http.HttpMethod.POST, "/topics/t")).isEqualTo(HttpMetrics.Route.REST_PROXY);
        assertThat(HttpMetrics.route(io.netty.handler.codec.http.HttpMethod.GET, "/topics/t")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.route(io.netty.handler.codec.http.HttpMethod.POST, "/topics")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.route(io.netty.handler.codec.http.HttpMethod.POST, "/admin/topics")).isEqualTo(HttpMetrics.Route.ADMIN);
        assertThat(HttpMetrics.route(io.netty.handler.codec.http.HttpMethod.POST, "/consumers/g")).isEqualTo(HttpMetrics.Route.REST_PROXY);
    }

    @Test
    void aPostToATopicIsToldWithoutARegularExpressionAsTheExpressionTellsIt() {
        for (String uri : new String[]{"/topics/t", "//topics/t/", "/topics/", "/topics//", "/topics", "topics/t", "/topics/t?x=1",
                "/topics/?a=b/c", "/topics?/x", "/topicsx/t", "/admin/topics/t", "/", "", "/topics///t", "/topics/t/records"}) {
            int end = uri.indexOf('?');
            boolean byExpression = (end < 0 ? uri : uri.substring(0, end)).replaceAll("^/+|/+$", "").startsWith("topics/");
            assertThat(HttpMetrics.namesTopic(uri)).as(uri).isEqualTo(byExpression);
        }
    }

    /**
     * Exemplars link an observation to a trace; with no tracer there is none to link, yet their
     * rate limiter put a timer on the client library's scheduler thread after observations, which
     * woke about a hundred times a second on a busy node. Nothing here may start that thread.
     */
    @Test
    void observingSetsNoExemplarTimer() {
        PrometheusRegistry registry = new PrometheusRegistry();
        HttpMetrics metrics = new HttpMetrics(registry);
        metrics.register();
        for (HttpMetrics.Route route : HttpMetrics.Route.values()) {
            metrics.answered(route, System.nanoTime() - 1_000_000);
        }
        registry.scrape();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("prometheus-metrics-scheduler"));
        metrics.unregister();
    }

    @Test
    void theScrapeShowsEachRoutesCountAndLatencyOnceRegistered() {
        PrometheusRegistry registry = new PrometheusRegistry();
        HttpMetrics metrics = new HttpMetrics(registry);
        assertThat(text(metrics)).doesNotContain("spate_http_requests_total");
        metrics.register();
        metrics.answered(HttpMetrics.Route.PRODUCE, System.nanoTime() - 2_000_000);
        metrics.answered(HttpMetrics.Route.PRODUCE, System.nanoTime());
        String text = text(metrics);
        assertThat(text).contains("spate_http_requests_total{route=\"produce\"} 2.0", "spate_http_requests_total{route=\"read\"} 0.0",
                "spate_http_request_duration_seconds_count{route=\"produce\"} 2");
        assertThat(metrics.scrape().contentType()).startsWith("text/plain; version=0.0.4");
        metrics.unregister();
        assertThat(text(metrics)).doesNotContain("spate_http_requests_total");
    }

    private static String text(HttpMetrics metrics) {
        return new String(metrics.scrape().body(), StandardCharsets.UTF_8);
    }
}
