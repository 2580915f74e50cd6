package io.spate.http;

/**
 * How the HTTP server listens and what it bounds.
 *
 * @param host             the address to bind
 * @param port             the port to bind, 0 for any free one
 * @param maxBodyBytes     the largest request body taken; a larger one is answered 413
 * @param maxInFlightBytes request bytes being received or handled at once, over all connections;
 *                         a request that would pass it is answered 429 (never queued)
 * @param kafkaBootstrap   this node's own Kafka listener, for partitions it does not lead or hold
 * @param consumerInstanceTimeoutMs a REST Proxy v2 consumer instance unused this long is closed
 * @param maxConsumerInstances      REST Proxy v2 consumer instances this node keeps at once; one more is answered 429
 * @param stalledWriteMs            a connection whose answer does not move for this long (up to twice it) is closed,
 *                                  with the requests waiting behind the answer and the bytes they hold
 */
public record HttpSettings(String host, int port, int maxBodyBytes, long maxInFlightBytes, String kafkaBootstrap,
                           long consumerInstanceTimeoutMs, int maxConsumerInstances, long stalledWriteMs) {
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;
    public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 64L << 20;
    /** Confluent's REST Proxy default for {@code consumer.instance.timeout.ms}: 5 minutes. */
    public static final long DEFAULT_CONSUMER_INSTANCE_TIMEOUT_MS = 300_000;
    public static final int DEFAULT_MAX_CONSUMER_INSTANCES = 100;
    public static final long DEFAULT_STALLED_WRITE_MS = 60_000;

    public HttpSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("HTTP port must be between 0 and 65535, not " + port);
        }
        if (maxBodyBytes < 1 || maxBodyBytes > maxInFlightBytes) {
            throw new IllegalArgumentException("the body limit (" + maxBodyBytes + ") must be at least 1 and at most the in-flight limit ("
                    + maxInFlightBytes + ")");
        }
        if (consumerInstanceTimeoutMs < 1) {
            throw new IllegalArgumentException("the consumer instance timeout must be at least 1 ms, not " + consumerInstanceTimeoutMs);
        }
        if (maxConsumerInstances < 0) {
            throw new IllegalArgumentException("the consumer instance limit must not be negative, not " + maxConsumerInstances);
        }
        if (stalledWriteMs < 1) {
            throw new IllegalArgumentException("the stalled write timeout must be at least 1 ms, not " + stalledWriteMs);
        }
    }

    /** With the default stalled write timeout (60 s). */
    public HttpSettings(String host, int port, int maxBodyBytes, long maxInFlightBytes, String kafkaBootstrap,
                        long consumerInstanceTimeoutMs, int maxConsumerInstances) {
        this(host, port, maxBodyBytes, maxInFlightBytes, kafkaBootstrap, consumerInstanceTimeoutMs, maxConsumerInstances,
                DEFAULT_STALLED_WRITE_MS);
    }

    /** With the REST Proxy v2 consumer defaults (5 min idle timeout, 100 instances). */
    public HttpSettings(String host, int port, int maxBodyBytes, long maxInFlightBytes, String kafkaBootstrap) {
        this(host, port, maxBodyBytes, maxInFlightBytes, kafkaBootstrap, DEFAULT_CONSUMER_INSTANCE_TIMEOUT_MS,
                DEFAULT_MAX_CONSUMER_INSTANCES, DEFAULT_STALLED_WRITE_MS);
    }

    public static HttpSettings defaults(String host, int port, String kafkaBootstrap) {
        return new HttpSettings(host, port, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT_BYTES, kafkaBootstrap);
    }
}
