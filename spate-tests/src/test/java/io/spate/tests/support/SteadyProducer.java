package io.spate.tests.support;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A real idempotent {@code acks=all} producer sending numbered records to explicit partitions
 * (round robin) at a steady rate on a background thread. Record key: the partition-local sequence;
 * value: {@code g=<global> p=<partition> s=<local>} plus padding. Every acknowledgement
 * (partition, offset) and every failure is remembered.
 */
public final class SteadyProducer implements AutoCloseable {
    public static final String PREFIX = "g=";

    public record Ack(long global, int partition, long local, long offset, String value) {
    }

    public record Failure(long global, int partition, long local, Exception error) {
    }

    private final String topic;
    private final int partitions;
    private final long periodNanos;
    private final KafkaProducer<String, String> producer;
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong sent = new AtomicLong();
    /** Highest global sequence acknowledged, per partition. */
    private final AtomicLong[] lastAckedGlobal;
    private volatile boolean running;
    private Thread thread;
    private boolean closed;

    public SteadyProducer(String bootstrap, String topic, int partitions, int recordsPerSecond, Map<String, Object> overrides) {
        this.topic = topic;
        this.partitions = partitions;
        this.periodNanos = TimeUnit.SECONDS.toNanos(1) / recordsPerSecond;
        Map<String, Object> config = new HashMap<>(defaults());
        config.putAll(overrides);
        this.producer = Clients.producer(bootstrap, config);
        this.lastAckedGlobal = new AtomicLong[partitions];
        for (int p = 0; p < partitions; p++) {
            lastAckedGlobal[p] = new AtomicLong(-1);
        }
    }

    public static Map<String, Object> defaults() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        // a request to a paused node is given up after this, and retried at the new leader
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 2);
        config.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        config.put(ProducerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        return config;
    }

    public static String value(long global, int partition, long local) {
        StringBuilder b = new StringBuilder(PREFIX).append(global).append(" p=").append(partition).append(" s=").append(local).append(' ');
        while (b.length() < 100) {
            b.append('x');
        }
        return b.toString();
    }

    public SteadyProducer start() {
        running = true;
        thread = Thread.ofPlatform().name("steady-producer").daemon().start(this::run);
        return this;
    }

    private void run() {
        long[] local = new long[partitions];
        long next = System.nanoTime();
        for (long global = 0; running; global++) {
            int partition = (int) (global % partitions);
            long seq = local[partition]++;
            String value = value(global, partition, seq);
            long g = global;
            try {
                producer.send(new ProducerRecord<>(topic, partition, String.valueOf(seq), value), (meta, error) -> {
                    if (error == null) {
                        acks.add(new Ack(g, meta.partition(), seq, meta.offset(), value));
                        lastAckedGlobal[partition].accumulateAndGet(g, Math::max);
                    } else {
                        failures.add(new Failure(g, partition, seq, error));
                    }
                });
            } catch (RuntimeException e) {
                failures.add(new Failure(g, partition, seq, e));
            }
            sent.set(global + 1);
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else if (wait < -TimeUnit.SECONDS.toNanos(1)) {
                next = System.nanoTime(); // blocked in send: carry on at the steady rate, no burst
            }
        }
    }

    /** How many records were handed to the producer so far; the next record's global sequence. */
    public long sent() {
        return sent.get();
    }

    public int ackCount() {
        return acks.size();
    }

    /** Whether some record with global sequence at least {@code global} was acknowledged on every partition. */
    public boolean ackedOnEveryPartitionFrom(long global) {
        for (AtomicLong last : lastAckedGlobal) {
            if (last.get() < global) {
                return false;
            }
        }
        return true;
    }

    /** Acknowledged records with global sequence at least {@code global}. */
    public long ackedFrom(long global) {
        return acks.stream().filter(a -> a.global() >= global).count();
    }

    public List<Ack> acks() {
        return new ArrayList<>(acks);
    }

    public List<Failure> failures() {
        return new ArrayList<>(failures);
    }

    public String failureSummary() {
        List<Failure> f = failures();
        if (f.isEmpty()) {
            return "no send failures";
        }
        Map<String, Integer> byType = new HashMap<>();
        f.forEach(x -> byType.merge(x.error().getClass().getSimpleName() + ": " + x.error().getMessage(), 1, Integer::sum));
        return f.size() + " send failures, e.g. first global=" + f.getFirst().global() + " p=" + f.getFirst().partition() + "; by type " + byType;
    }

    /**
     * Stops sending, then waits until every record sent has been acknowledged or has failed
     * (bounded by the delivery timeout), and closes the producer.
     */
    public void stop() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(30_000);
        }
        if (!closed) {
            closed = true;
            producer.flush();
            producer.close(Duration.ofSeconds(30));
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(30_000);
        }
        if (!closed) {
            closed = true;
            producer.close(Duration.ZERO);
        }
    }
}
