package io.spate.broker;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.spate.server.network.RequestMetrics;
import org.apache.kafka.common.protocol.ApiKeys;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Kafka requests per API (label {@code api}: the ApiKeys name, {@code Produce}, {@code Fetch}...):
 * how many arrived, how long from arrival to the response handed to the network, and the bytes
 * each way. An API's counter and histogram children are made on its first request and kept in a
 * slot indexed by its key, so the listener's calls allocate nothing and build no strings after
 * that; the scrape shows the APIs this node has been asked, not all of Kafka's eighty.
 */
final class KafkaRequestMetrics implements RequestMetrics {
    /** One API's children. */
    private record Children(CounterDataPoint requests, DistributionDataPoint latency, CounterDataPoint bytesIn, CounterDataPoint bytesOut) {
    }

    private final Counter requests;
    private final Histogram latency;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final AtomicReferenceArray<Children> byApiKey;

    KafkaRequestMetrics(PrometheusRegistry registry) {
        requests = Counter.builder()
                .name("spate_kafka_requests")
                .withoutExemplars() // exemplars: no tracer to link them to, and their rate limiter woke a thread ~100 times a second
                .help("Kafka requests received, per API")
                .labelNames("api")
                .register(registry);
        latency = Histogram.builder()
                .name("spate_kafka_request_duration")
                .withoutExemplars()
                .unit(Unit.SECONDS)
                .help("Time from a Kafka request's arrival to its response handed to the network, per API"
                        + " (an acks=0 produce: to the end of its handling)")
                .labelNames("api")
                .classicOnly()
                .classicExponentialUpperBounds(0.00005, 2, 19) // 50 µs to 13 s
                .register(registry);
        bytesIn = Counter.builder()
                .name("spate_kafka_request_bytes")
                .withoutExemplars()
                .help("Bytes of Kafka requests received (with their size prefix), per API")
                .labelNames("api")
                .register(registry);
        bytesOut = Counter.builder()
                .name("spate_kafka_response_bytes")
                .withoutExemplars()
                .help("Bytes of Kafka responses handed to the network (record sets sent from segment files included), per API")
                .labelNames("api")
                .register(registry);
        int slots = 0;
        for (ApiKeys key : ApiKeys.values()) {
            slots = Math.max(slots, key.id + 1);
        }
        byApiKey = new AtomicReferenceArray<>(slots);
    }

    private Children children(ApiKeys apiKey) {
        Children c = byApiKey.get(apiKey.id);
        if (c == null) {
            // The first request of this API (two racing threads get the same children: labelValues returns the existing ones).
            c = new Children(requests.labelValues(apiKey.name), latency.labelValues(apiKey.name), bytesIn.labelValues(apiKey.name),
                    bytesOut.labelValues(apiKey.name));
            byApiKey.set(apiKey.id, c);
        }
        return c;
    }

    @Override
    public long onRequest(ApiKeys apiKey, int requestBytes) {
        Children c = children(apiKey);
        c.requests.inc();
        c.bytesIn.inc(requestBytes);
        return System.nanoTime();
    }

    @Override
    public void onResponse(ApiKeys apiKey, long arrivalStamp, long responseBytes) {
        Children c = children(apiKey);
        c.latency.observe((System.nanoTime() - arrivalStamp) / 1e9);
        if (responseBytes > 0) {
            c.bytesOut.inc(responseBytes);
        }
    }
}
