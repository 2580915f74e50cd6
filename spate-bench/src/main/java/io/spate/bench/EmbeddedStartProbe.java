package io.spate.bench;

import io.spate.broker.SpateNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The embedded node as a user's test meets it: in a fresh JVM, how long {@code SpateNode.start()}
 * takes, and how long until a Kafka producer created right after it has its first record
 * acknowledged (this includes the client's own cold start, which a test pays too).
 *
 * <p>Prints {@code EMBEDDED_START_MS n}, {@code EMBEDDED_FIRST_ACK_MS n} and
 * {@code JVM_UPTIME_AT_READY_MS n} (when {@code start()} returned, counted from JVM start).
 */
public final class EmbeddedStartProbe {
    private EmbeddedStartProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("spate-embedded-probe");
        try {
            long begin = System.nanoTime();
            try (SpateNode node = SpateNode.builder().dataDir(dir).start()) {
                long started = System.nanoTime();
                Properties props = new Properties();
                props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers());
                props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
                    producer.send(new ProducerRecord<>("embedded-probe", new byte[100])).get(30, TimeUnit.SECONDS);
                }
                long acked = System.nanoTime();
                System.out.println("EMBEDDED_START_MS " + TimeUnit.NANOSECONDS.toMillis(started - begin));
                System.out.println("EMBEDDED_FIRST_ACK_MS " + TimeUnit.NANOSECONDS.toMillis(acked - begin));
                // Read last: the management classes would otherwise count against the first ack.
                long uptimeNow = ManagementFactory.getRuntimeMXBean().getUptime();
                System.out.println("JVM_UPTIME_AT_READY_MS " + (uptimeNow - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
