package io.spate.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Start-up time as a client sees it: spawns the broker command, then retries one produce until
 * the broker acknowledges it, and prints the milliseconds from spawn to that acknowledgement.
 * The probe warms its own client classes before spawning, so that its JVM start-up is not
 * counted against the broker.
 *
 * <p>Usage: {@code FirstProduceProbe BOOTSTRAP TOPIC BROKER_LOG -- COMMAND...}; prints
 * {@code BROKER_PID n} and {@code FIRST_PRODUCE_MS n}. The broker outlives the probe.
 */
public final class FirstProduceProbe {
    private FirstProduceProbe() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        java.io.File brokerLog = new java.io.File(args[2]);
        java.util.List<String> command = java.util.Arrays.asList(args).subList(4, args.length);
        try (KafkaProducer<byte[], byte[]> warm = new KafkaProducer<>(props(bootstrap, 200))) {
            warm.partitionsFor(topic);
        } catch (Exception expected) {
            // nothing listens yet: this only loaded and initialised the client's classes
        }
        long start = System.currentTimeMillis();
        Process broker = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(brokerLog).start();
        System.out.println("BROKER_PID " + broker.pid());
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props(bootstrap, 2_000))) {
                producer.send(new ProducerRecord<>(topic, new byte[100])).get(3, TimeUnit.SECONDS);
                System.out.println("FIRST_PRODUCE_MS " + (System.currentTimeMillis() - start));
                return;
            } catch (Exception e) {
                Thread.sleep(5); // the broker is not up yet; try again at once
            }
        }
        System.out.println("FIRST_PRODUCE_MS -1");
        System.exit(1);
    }

    private static Properties props(String bootstrap, int maxBlockMs) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, maxBlockMs);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 3_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 5);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 20);
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        // Kafka clients back off exponentially up to retry.backoff.max.ms (1 s); keep polling tight.
        props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 20);
        props.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, 100);
        return props;
    }
}
