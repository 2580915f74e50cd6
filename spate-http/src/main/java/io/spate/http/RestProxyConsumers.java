package io.spate.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * This node's REST Proxy v2 consumer instances, by group and instance id: at most
 * {@code maxInstances} of them (one more is answered 429: each holds a Kafka consumer, its
 * connections and fetch buffers), each closed once unused for {@code idleTimeoutMs}, all closed
 * with the server. Instances live on the node that created them, as with Confluent's proxy.
 */
final class RestProxyConsumers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RestProxyConsumers.class);

    /** Makes an instance's Kafka consumer: group, client id, the instance's own settings. */
    @FunctionalInterface
    interface ConsumerFactory {
        KafkaConsumer<byte[], byte[]> create(String group, String clientId, Map<String, Object> overrides);
    }

    private record Key(String group, String id) {
    }

    private final ConsumerFactory factory;
    private final long idleTimeoutMs;
    private final int maxInstances;
    private final Executor closer;
    private final LongSupplier clock;
    private final Map<Key, RestProxyConsumer> instances = new ConcurrentHashMap<>();
    private final ScheduledExecutorService evictor;
    private boolean closed;

    RestProxyConsumers(ConsumerFactory factory, long idleTimeoutMs, int maxInstances, Executor closer, LongSupplier clock,
                       boolean scheduleEviction) {
        this.factory = factory;
        this.idleTimeoutMs = idleTimeoutMs;
        this.maxInstances = maxInstances;
        this.closer = closer;
        this.clock = clock;
        if (scheduleEviction) {
            this.evictor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("spate-http-consumer-evictor").daemon()
                    .factory());
            long periodMs = Math.max(10, Math.min(1_000, idleTimeoutMs / 4));
            evictor.scheduleWithFixedDelay(() -> evictIdle(clock.getAsLong()), periodMs, periodMs, TimeUnit.MILLISECONDS);
        } else {
            this.evictor = null;
        }
    }

    static RestProxyConsumers start(KafkaClients clients, HttpSettings settings, Executor closer) {
        return new RestProxyConsumers(clients::groupConsumer, settings.consumerInstanceTimeoutMs(), settings.maxConsumerInstances(),
                closer, System::currentTimeMillis, true);
    }

    /** A new instance of {@code group}: named {@code name}, or given a fresh id when null. */
    synchronized RestProxyConsumer create(String group, String name, RestProxyConsumer.Settings settings) {
        if (closed) {
            throw new ApiError(HttpResponseStatus.SERVICE_UNAVAILABLE, RestProxy.SERVER_CLOSING, "the HTTP server is closing");
        }
        String id = name != null ? name : "rest-consumer-" + UUID.randomUUID();
        Key key = new Key(group, id);
        if (instances.containsKey(key)) {
            throw new ApiError(HttpResponseStatus.CONFLICT, RestProxy.CONSUMER_ALREADY_EXISTS, "consumer instance '" + id
                    + "' already exists in group '" + group + "'");
        }
        if (instances.size() >= maxInstances) {
            throw new ApiError(HttpResponseStatus.TOO_MANY_REQUESTS, RestProxy.TOO_MANY_CONSUMERS, "this node holds " + maxInstances
                    + " consumer instances already (http.consumer.max.instances); delete one, or wait for idle ones to be closed after "
                    + idleTimeoutMs + " ms");
        }
        Map<String, Object> overrides = new HashMap<>();
        overrides.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, settings.autoOffsetReset());
        if (settings.responseMinBytes() > 0) {
            overrides.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, settings.responseMinBytes());
        }
        RestProxyConsumer instance = new RestProxyConsumer(group, id, settings, factory.create(group, id, overrides), clock);
        instances.put(key, instance);
        return instance;
    }

    /** The instance, or 40403. */
    RestProxyConsumer get(String group, String id) {
        RestProxyConsumer instance = instances.get(new Key(group, id));
        if (instance == null) {
            throw RestProxy.instanceNotFound(group, id);
        }
        return instance;
    }

    /** Closes and forgets the instance (it leaves its group), or 40403. */
    void delete(String group, String id) {
        RestProxyConsumer instance = instances.remove(new Key(group, id));
        if (instance == null) {
            throw RestProxy.instanceNotFound(group, id);
        }
        instance.close();
    }

    int size() {
        return instances.size();
    }

    /** Closes, off the caller's thread, each instance unused for the idle timeout at {@code nowMs}. */
    void evictIdle(long nowMs) {
        for (var entry : instances.entrySet()) {
            RestProxyConsumer instance = entry.getValue();
            if (nowMs - instance.lastUsedMs() >= idleTimeoutMs) {
                try {
                    closer.execute(() -> {
                        if (instance.closeIfIdle(clock.getAsLong(), idleTimeoutMs)) {
                            instances.remove(entry.getKey(), instance);
                            log.info("REST Proxy consumer instance {}/{} closed after {} ms unused", instance.group, instance.id, idleTimeoutMs);
                        }
                    });
                } catch (RuntimeException stopping) {
                    return; // the executor is shutting down: close() takes the rest
                }
            }
        }
    }

    /** Closes every instance (the server is closing), in parallel: each leaves its group. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        if (evictor != null) {
            evictor.shutdownNow();
        }
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (RestProxyConsumer instance : instances.values()) {
            closing.add(CompletableFuture.runAsync(instance::close, r -> Thread.ofVirtual().name("spate-http-consumer-close").start(r)));
        }
        instances.clear();
        CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).join();
    }
}
