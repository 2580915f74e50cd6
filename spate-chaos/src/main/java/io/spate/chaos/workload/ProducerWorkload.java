package io.spate.chaos.workload;

import io.spate.chaos.RunClock;
import io.spate.chaos.history.Write;
import io.spate.chaos.history.Write.Outcome;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Idempotent {@code acks=all} producers, each on a thread of its own, sending unique values to
 * every partition in turn at a steady rate. Values are {@code w-PRODUCER-PARTITION-SEQ}; a
 * producer whose client enters a fatal state is replaced by a new one with a new number, so that
 * each number's sequences are one client's order. In-flight sends are bounded per partition: during a
 * stall the offered load to that partition waits rather than piling up, and the other partitions
 * go on (one bound shared by all let a partition stuck for seconds use it up: campaign 10's seed
 * 3219 then offered one partition three writes in six seconds and counted that as its stall).
 */
public final class ProducerWorkload implements AutoCloseable {
    private static final int MAX_IN_FLIGHT_PER_PARTITION = 100;

    private final String bootstrap;
    private final String topic;
    private final int partitions;
    private final int producers;
    private final long periodNanos;
    private final RunClock clock;
    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger nextNumber = new java.util.concurrent.atomic.AtomicInteger(1);
    private volatile boolean running = true;

    /** {@code rate}: records per second over all producers. */
    public ProducerWorkload(String bootstrap, String topic, int partitions, int producers, int rate, RunClock clock) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.partitions = partitions;
        this.producers = producers;
        this.periodNanos = TimeUnit.SECONDS.toNanos(1) * producers / rate;
        this.clock = clock;
    }

    public static Map<String, Object> clientConfig(String bootstrap) {
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        // A client tuned for low latency: a request to a frozen or unreachable leader is given up
        // after 2 s and retried where the metadata now points.
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        c.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        c.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        c.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 500);
        c.put(ProducerConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        c.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return c;
    }

    public ProducerWorkload start() {
        for (int i = 0; i < producers; i++) {
            threads.add(Thread.ofPlatform().name("producer-slot-" + i).start(this::loop));
        }
        return this;
    }

    private void loop() {
        while (running) {
            int number = nextNumber.getAndIncrement();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(clientConfig(bootstrap))) {
                runClient(number, producer);
            } catch (RuntimeException e) {
                // a client that could not even be built (no bootstrap reachable yet): try a new one
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
        }
    }

    private void runClient(int number, KafkaProducer<String, String> producer) {
        Semaphore[] inFlight = new Semaphore[partitions];
        for (int i = 0; i < partitions; i++) {
            inFlight[i] = new Semaphore(MAX_IN_FLIGHT_PER_PARTITION);
        }
        long[] seq = new long[partitions];
        java.util.concurrent.atomic.AtomicBoolean fatal = new java.util.concurrent.atomic.AtomicBoolean();
        long next = System.nanoTime();
        int partition = (number * 7) % partitions;
        while (running && !fatal.get()) {
            long delay = next - System.nanoTime();
            if (delay > 0) {
                LockSupport.parkNanos(delay);
            }
            next += periodNanos;
            // The next partition with room for one more send: a stuck one is skipped, not waited for.
            int tries = 0;
            while (tries < partitions && !inFlight[partition].tryAcquire()) {
                partition = (partition + 1) % partitions;
                tries++;
            }
            if (tries == partitions) {
                // Every partition is behind: wait a period (no spinning), and no burst to catch up afterwards.
                next = System.nanoTime() + periodNanos;
                continue;
            }
            int p = partition;
            Semaphore slot = inFlight[p];
            partition = (partition + 1) % partitions;
            long s = seq[p]++;
            String value = "w-" + number + "-" + p + "-" + s;
            long sent = clock.nowUs();
            try {
                producer.send(new ProducerRecord<>(topic, p, null, value), (md, e) -> {
                    slot.release();
                    long done = clock.nowUs();
                    if (e == null) {
                        writes.add(new Write(number, p, s, value, sent, done, Outcome.OK, md.offset(), ""));
                    } else {
                        writes.add(new Write(number, p, s, value, sent, done, Outcome.INDETERMINATE, -1, e.toString()));
                        if (e instanceof OutOfOrderSequenceException || e instanceof ProducerFencedException
                                || e instanceof IllegalStateException) {
                            fatal.set(true);
                        }
                    }
                });
            } catch (RuntimeException e) {
                // Refused before it left the client (buffer full past max.block.ms, client closed).
                slot.release();
                writes.add(new Write(number, p, s, value, sent, clock.nowUs(), Outcome.FAIL, -1, e.toString()));
                if (e instanceof IllegalStateException || e instanceof org.apache.kafka.common.KafkaException) {
                    fatal.set(true);
                }
            }
        }
        producer.close(Duration.ofSeconds(running ? 0 : 30));
    }

    /** Stops sending; waits for every send still in flight to be answered (or time out). */
    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(90_000);
        }
    }

    public List<Write> writes() {
        return List.copyOf(writes);
    }

    public int acknowledgedSoFar() {
        int n = 0;
        for (Write w : writes) {
            if (w.acknowledged()) {
                n++;
            }
        }
        return n;
    }
}
