package io.spate.broker;

import io.spate.http.RequestStats;
import io.spate.server.network.RequestMetrics;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The listener's request reports, handed to the node's Prometheus figures
 * ({@link KafkaRequestMetrics}) and to the web console's live figures ({@link RequestStats}, p50
 * and p99 of the last second per API). The stamp is the Prometheus side's, {@link System#nanoTime}.
 */
final class LiveRequestMetrics implements RequestMetrics {
    private final RequestMetrics metrics;
    private final RequestStats stats;

    LiveRequestMetrics(RequestMetrics metrics, RequestStats stats) {
        this.metrics = metrics;
        this.stats = stats;
    }

    @Override
    public long onRequest(ApiKeys apiKey, int requestBytes) {
        long stamp = metrics.onRequest(apiKey, requestBytes);
        stats.onRequest(apiKey.id, apiKey.name, requestBytes);
        return stamp;
    }

    @Override
    public void onResponse(ApiKeys apiKey, long arrivalStamp, long responseBytes) {
        metrics.onResponse(apiKey, arrivalStamp, responseBytes);
        stats.onResponse(apiKey.id, apiKey.name, System.nanoTime() - arrivalStamp, responseBytes);
    }
}
