package io.spate.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RequestStatsTest {
    private static final int PRODUCE = 0;
    private static final int FETCH = 1;

    @Test
    void aSampleGivesEachApisRatesAndExactPercentilesOfItsInterval() {
        RequestStats stats = new RequestStats();
        for (int i = 1; i <= 100; i++) {
            stats.onRequest(PRODUCE, "Produce", 1000);
            stats.onResponse(PRODUCE, "Produce", i * 1_000_000L, 50); // 1 ms .. 100 ms
        }
        stats.onRequest(FETCH, "Fetch", 80); // arrived, not yet answered

        List<RequestStats.ApiSample> first = stats.sample(2.0);
        assertThat(first).extracting(RequestStats.ApiSample::api).containsExactly("Produce", "Fetch");
        RequestStats.ApiSample produce = first.getFirst();
        assertThat(produce.requestsPerSecond()).isEqualTo(50.0);
        assertThat(produce.bytesInPerSecond()).isEqualTo(50_000.0);
        assertThat(produce.bytesOutPerSecond()).isEqualTo(2_500.0);
        assertThat(produce.answered()).isEqualTo(100);
        // Two significant digits: within 1 % of the true 50 ms and 99 ms.
        assertThat(produce.p50Ms()).isBetween(49.5, 50.5);
        assertThat(produce.p99Ms()).isBetween(98.0, 100.0);
        assertThat(produce.maxMs()).isBetween(99.0, 101.0);
        RequestStats.ApiSample fetch = first.get(1);
        assertThat(fetch.requestsPerSecond()).isEqualTo(0.5);
        assertThat(fetch.answered()).isZero();

        // The next interval holds only what came after: the Fetch's answer.
        stats.onResponse(FETCH, "Fetch", 500_000_000L, 4096);
        List<RequestStats.ApiSample> second = stats.sample(1.0);
        assertThat(second).extracting(RequestStats.ApiSample::api).containsExactly("Fetch");
        assertThat(second.getFirst().requestsPerSecond()).isZero();
        assertThat(second.getFirst().answered()).isEqualTo(1);
        assertThat(second.getFirst().p50Ms()).isBetween(495.0, 505.0);
        assertThat(second.getFirst().bytesOutPerSecond()).isEqualTo(4096.0);
        assertThat(stats.sample(1.0)).as("an idle interval").isEmpty();
    }

    @Test
    void httpRequestsAreRecordedPerRouteApartFromKafkas() {
        RequestStats stats = new RequestStats();
        HttpMetrics metrics = new HttpMetrics(new io.prometheus.metrics.model.registry.PrometheusRegistry());
        metrics.recordInto(stats);
        metrics.answered(HttpMetrics.Route.PRODUCE, System.nanoTime() - 2_000_000);
        stats.onRequest(PRODUCE, "Produce", 100);
        List<RequestStats.ApiSample> sample = stats.sample(1.0);
        assertThat(sample).extracting(RequestStats.ApiSample::api, RequestStats.ApiSample::http)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Produce", false), org.assertj.core.groups.Tuple.tuple("HTTP produce", true));
        assertThat(sample.get(1).p50Ms()).isGreaterThanOrEqualTo(1.9);
    }

    @Test
    void anOutOfRangeApiIdOrLatencyIsKeptNotLost() {
        RequestStats stats = new RequestStats();
        stats.onRequest(9999, "Odd", 10);
        stats.onResponse(9999, "Odd", Long.MAX_VALUE, 10);
        stats.onResponse(-1, "Odd", 0, 0);
        RequestStats.ApiSample odd = stats.sample(1.0).getFirst();
        assertThat(odd.answered()).isEqualTo(2);
        assertThat(odd.maxMs()).isGreaterThanOrEqualTo(3_600_000.0 * 0.99);
    }
}
