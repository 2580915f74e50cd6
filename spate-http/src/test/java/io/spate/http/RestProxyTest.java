package io.spate.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** REST Proxy v2 pieces that need no node: instance bookkeeping (bound, names, idle eviction), formats, negotiation. */
class RestProxyTest {
    private static final RestProxyConsumer.Settings BINARY = new RestProxyConsumer.Settings(RestProxyConsumer.Format.BINARY, "earliest",
            false, -1, 1_000);

    /** Real consumers that never connect: nothing listens on port 9, and none of them is used. */
    private static KafkaConsumer<byte[], byte[]> unconnected(String group, String clientId, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>(overrides);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Test
    void instancesAreBoundedUniqueAndClosedOnceIdle() {
        AtomicLong now = new AtomicLong(1_000);
        try (RestProxyConsumers instances = new RestProxyConsumers(RestProxyTest::unconnected, 60_000, 3, Runnable::run, now::get, false)) {
            RestProxyConsumer a = instances.create("g", "a", BINARY);
            RestProxyConsumer b = instances.create("g", null, BINARY);
            assertThat(b.id).startsWith("rest-consumer-");
            instances.create("other-group", "a", BINARY); // a name is unique within its group only
            assertThatThrownBy(() -> instances.create("g", "a", BINARY)).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat(e.errorCode).isEqualTo(RestProxy.CONSUMER_ALREADY_EXISTS));
            assertThatThrownBy(() -> instances.create("g", "c", BINARY)).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat(e.errorCode).isEqualTo(RestProxy.TOO_MANY_CONSUMERS));

            now.addAndGet(30_000);
            b.use((self, consumer) -> null); // used at 31 s: idle until 91 s
            now.addAndGet(30_000);
            instances.evictIdle(now.get());
            assertThat(a.isClosed()).isTrue();
            assertThatThrownBy(() -> instances.get("g", "a")).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat(e.errorCode).isEqualTo(RestProxy.CONSUMER_NOT_FOUND));
            assertThatThrownBy(() -> a.use((self, consumer) -> null)).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat(e.errorCode).isEqualTo(RestProxy.CONSUMER_NOT_FOUND));
            assertThat(instances.get("g", b.id)).isSameAs(b);
            assertThat(instances.size()).isEqualTo(1);

            instances.create("g", "a", BINARY); // room again, and the name is free
            instances.delete("g", b.id);
            assertThat(b.isClosed()).isTrue();
            assertThatThrownBy(() -> instances.delete("g", b.id)).isInstanceOf(ApiError.class);
        }
    }

    @Test
    void closingTheServerClosesEveryInstanceAndRefusesNewOnes() {
        RestProxyConsumers instances = new RestProxyConsumers(RestProxyTest::unconnected, 60_000, 10, Runnable::run,
                System::currentTimeMillis, false);
        RestProxyConsumer a = instances.create("g", "a", BINARY);
        instances.close();
        assertThat(a.isClosed()).isTrue();
        assertThatThrownBy(() -> instances.create("g", "b", BINARY)).isInstanceOfSatisfying(ApiError.class,
                e -> assertThat(e.errorCode).isEqualTo(RestProxy.SERVER_CLOSING));
    }

    @Test
    void embeddedFormatsWriteBase64OrTheJsonValueBytesHold() throws IOException {
        assertThat(embedded("{\"a\": [1, 2.50]}", RestProxyConsumer.Format.JSON)).isEqualTo("{\"a\":[1,2.50]}");
        assertThat(embedded("\"text\"", RestProxyConsumer.Format.JSON)).isEqualTo("\"text\"");
        // Not one JSON value (a non-JSON producer wrote it): its text, as a string.
        assertThat(embedded("plain text", RestProxyConsumer.Format.JSON)).isEqualTo("\"plain text\"");
        assertThat(embedded("1 2", RestProxyConsumer.Format.JSON)).isEqualTo("\"1 2\"");
        assertThat(embedded("", RestProxyConsumer.Format.JSON)).isEqualTo("\"\"");
        assertThat(embedded("hi", RestProxyConsumer.Format.BINARY)).isEqualTo("\"aGk=\"");
        assertThat(embedded(null, RestProxyConsumer.Format.JSON)).isEqualTo("null");
    }

    @Test
    void kafkaErrorsAreRetriableOrNotAsConfluentReportsThem() {
        assertThat(RestProxy.kafkaErrorCode(19)).isEqualTo(RestProxy.KAFKA_RETRIABLE_ERROR); // NOT_ENOUGH_REPLICAS
        assertThat(RestProxy.kafkaErrorCode(7)).isEqualTo(RestProxy.KAFKA_RETRIABLE_ERROR); // REQUEST_TIMED_OUT
        assertThat(RestProxy.kafkaErrorCode(10)).isEqualTo(RestProxy.KAFKA_ERROR); // MESSAGE_TOO_LARGE
        assertThat(RestProxy.kafkaErrorCode(-1)).isEqualTo(RestProxy.KAFKA_ERROR);
        // The set agrees with kafka-clients' own view of which errors are retriable (the test may name its protocol package).
        for (int code : new int[]{-1, 2, 3, 5, 6, 7, 10, 13, 18, 19, 20, 32, 56, 74, 75, 87}) {
            boolean retriable = org.apache.kafka.common.protocol.Errors.forCode((short) code).exception()
                    instanceof org.apache.kafka.common.errors.RetriableException;
            assertThat(RestProxy.kafkaErrorCode(code)).as("code %d", code)
                    .isEqualTo(retriable ? RestProxy.KAFKA_RETRIABLE_ERROR : RestProxy.KAFKA_ERROR);
        }
    }

    @Test
    void acceptHeadersAreReadAsMediaRanges() {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/brokers", Unpooled.EMPTY_BUFFER);
        request.headers().add("Accept", "application/vnd.kafka.binary.v2+json; q=0, Application/Vnd.Kafka.V2+Json;q=0.9");
        request.headers().add("Accept", "text/html");
        assertThat(RestProxy.accepted(request)).containsExactly("application/vnd.kafka.v2+json", "text/html");
        RestProxy.checkAcceptsV2(request);
        FullHttpRequest html = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/brokers", Unpooled.EMPTY_BUFFER);
        html.headers().add("Accept", "text/html");
        assertThatThrownBy(() -> RestProxy.checkAcceptsV2(html)).isInstanceOfSatisfying(ApiError.class,
                e -> assertThat(e.errorCode).isEqualTo(RestProxy.NOT_ACCEPTABLE));
    }

    /** A v2 body Jackson cannot read (no location to report, or not even text) is a 400, not a 500. */
    @Test
    void bodiesJacksonCannotReadAreMalformed() {
        for (byte[] body : new byte[][]{("{\"records\":" + "[".repeat(1001) + "]".repeat(1001) + "}").getBytes(StandardCharsets.UTF_8),
                {0, 0, '[', 0}}) {
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/topics/t", Unpooled.wrappedBuffer(body));
            assertThatThrownBy(() -> RestProxy.body(request)).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat(e.errorCode).isEqualTo(ApiError.MALFORMED_BODY)).hasMessageStartingWith("malformed JSON");
        }
    }

    private static String embedded(String bytes, RestProxyConsumer.Format format) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (JsonGenerator out = new JsonFactory().createGenerator(buffer)) {
            RestProxyConsumerApi.embedded(out, bytes == null ? null : bytes.getBytes(StandardCharsets.UTF_8), format);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }
}
