package io.spate.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.File;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Start-up time as a client sees it: spawns the broker command, then retries one produce (to a
 * topic that does not exist yet, so the broker creates it) until the broker acknowledges it, and
 * prints the milliseconds from spawn to that acknowledgement.
 *
 * <p>A Kafka client's own first produce runs on cold code too (about 0.4 s of class loading and
 * interpretation here), and that is the client's start-up, not the broker's. So the probe first
 * starts the broker once to warm its client up: it produces there, stops that broker with
 * SIGTERM and waits for it to exit. The second start, on the same data directory, is the one
 * measured. Both brokers of the benchmark are treated alike.
 *
 * <p>Usage: {@code FirstProduceProbe BOOTSTRAP TOPIC BROKER_LOG -- COMMAND...}; prints
 * {@code BROKER_PID n} and {@code FIRST_PRODUCE_MS n}. The measured broker outlives the probe.
 */
public final class FirstProduceProbe {
    private FirstProduceProbe() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        File brokerLog = new File(args[2]);
        List<String> command = Arrays.asList(args).subList(4, args.length);

        long warmUpMs = timeToFirstAck(start(command, new File(brokerLog.getPath() + ".warm-up")), bootstrap, topic + "-warm-up", true);
        System.out.println("WARM_UP_START_MS " + warmUpMs);

        long spawnedAt = System.currentTimeMillis();
        Process broker = start(command, brokerLog);
        System.out.println("BROKER_PID " + broker.pid());
        long firstAckMs = timeToFirstAck(broker, bootstrap, topic, false);
        System.out.println("FIRST_PRODUCE_MS " + (firstAckMs < 0 ? -1 : System.currentTimeMillis() - spawnedAt));
        if (firstAckMs < 0) {
            System.exit(1);
        }
    }

    private static Process start(List<String> command, File log) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }

    /** Produces until acknowledged; returns the milliseconds that took, or -1. */
    private static long timeToFirstAck(Process broker, String bootstrap, String topic, boolean stopAfterwards) throws Exception {
        long start = System.currentTimeMillis();
        long deadline = start + 120_000;
        long took = -1;
        while (System.currentTimeMillis() < deadline && broker.isAlive()) {
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props(bootstrap))) {
                producer.send(new ProducerRecord<>(topic, new byte[100])).get(3, TimeUnit.SECONDS);
                took = System.currentTimeMillis() - start;
                break;
            } catch (Exception e) {
                Thread.sleep(5); // the broker is not up yet; try again at once
            }
        }
        if (stopAfterwards) {
            broker.destroy(); // SIGTERM: a clean shutdown, as an operator's restart would do
            if (!broker.waitFor(120, TimeUnit.SECONDS)) {
                broker.destroyForcibly().waitFor();
            }
        }
        return took;
    }

    private static Properties props(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2_000);
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
