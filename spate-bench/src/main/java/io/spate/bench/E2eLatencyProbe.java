package io.spate.bench;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Produce-to-consume latency with microsecond samples: the ping-pong loop of Kafka's
 * EndToEndLatency tool (send one record synchronously, poll it back), which truncates to whole
 * milliseconds. Warm-up samples are discarded.
 *
 * <p>Usage: {@code E2eLatencyProbe BOOTSTRAP TOPIC ITERATIONS ACKS RECORD_SIZE [WARMUP]}; prints
 * {@code RESULT p50_us=.. p99_us=.. p999_us=.. max_us=.. avg_us=..}.
 */
public final class E2eLatencyProbe {
    private E2eLatencyProbe() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int iterations = Integer.parseInt(args[2]);
        String acks = args[3];
        int size = Integer.parseInt(args[4]);
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 1_000;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 0);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Histogram histogram = new Histogram(60_000_000L, 3);
        byte[] payload = new byte[size];
        ThreadLocalRandom.current().nextBytes(payload);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p); KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToEnd(List.of(tp));
            consumer.position(tp);
            for (int i = 0; i < warmup + iterations; i++) {
                long begin = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, 0, null, payload)).get();
                int received = 0;
                while (received == 0) {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofSeconds(10));
                    received = records.count();
                    if (received == 0 && System.nanoTime() - begin > 60_000_000_000L) {
                        throw new IllegalStateException("record " + i + " did not come back within 60 s");
                    }
                }
                long micros = (System.nanoTime() - begin) / 1_000;
                if (i >= warmup) {
                    histogram.recordValue(Math.min(micros, histogram.getHighestTrackableValue()));
                }
            }
        }
        System.out.printf("RESULT p50_us=%d p99_us=%d p999_us=%d max_us=%d avg_us=%.0f%n",
                histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9),
                histogram.getMaxValue(), histogram.getMean());
    }
}
