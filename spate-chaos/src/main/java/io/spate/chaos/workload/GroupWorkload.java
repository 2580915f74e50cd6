package io.spate.chaos.workload;

import io.spate.chaos.RunClock;
import io.spate.chaos.history.Assignment;
import io.spate.chaos.history.Commit;
import io.spate.chaos.history.Read;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Consumers in one group reading the topic and committing what they read after every poll
 * (synchronously, so each commit's answer is known). Each member leaves and rejoins at seeded
 * random intervals, so the group rebalances during faults, and a partition's reading passes from
 * member to member through the committed offset; every assignment records the position the new
 * owner starts from.
 */
public final class GroupWorkload implements AutoCloseable {
    public static final String GROUP = "chaos-group";

    private final String bootstrap;
    private final String topic;
    private final int members;
    private final RunClock clock;
    private final long seed;
    private final ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Commit> commits = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Assignment> assignments = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    public GroupWorkload(String bootstrap, String topic, int members, long seed, RunClock clock) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.members = members;
        this.seed = seed;
        this.clock = clock;
    }

    private Map<String, Object> config(String member) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, member);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        return c;
    }

    public GroupWorkload start() {
        for (int i = 1; i <= members; i++) {
            String member = "c" + i;
            Random random = new Random(seed * 31 + i);
            threads.add(Thread.ofPlatform().name("consumer-" + member).start(() -> memberLoop(member, random)));
        }
        return this;
    }

    private void memberLoop(String member, Random random) {
        int incarnation = 0;
        while (running) {
            incarnation++;
            long stayMs = 10_000 + random.nextInt(30_000);
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config(member))) {
                runIncarnation(member, incarnation, consumer, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stayMs));
            } catch (RuntimeException e) {
                // the client failed as a whole (fatal error, close timed out): a new incarnation joins
                sleep(200);
            }
        }
    }

    private void runIncarnation(String member, int incarnation, KafkaConsumer<String, String> consumer, long leaveAt) {
        consumer.subscribe(List.of(topic), new Listener(member, incarnation, consumer));
        while (running && System.nanoTime() < leaveAt) {
            ConsumerRecords<String, String> records;
            try {
                records = consumer.poll(Duration.ofMillis(100));
            } catch (WakeupException e) {
                return;
            } catch (org.apache.kafka.common.errors.RetriableException | org.apache.kafka.clients.consumer.CommitFailedException e) {
                continue;
            }
            if (records.isEmpty()) {
                continue;
            }
            long at = clock.nowUs();
            Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                reads.add(new Read(member, incarnation, r.partition(), r.offset(), r.value(), at));
                next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            }
            commit(member, incarnation, consumer, next);
        }
        // Leaving: the last reads are committed, as a consumer shutting down cleanly does.
        try {
            consumer.unsubscribe();
        } catch (RuntimeException ignored) {
            // the group notices by the session timeout instead
        }
    }

    private void commit(String member, int incarnation, KafkaConsumer<String, String> consumer, Map<TopicPartition, OffsetAndMetadata> offsets) {
        long sent = clock.nowUs();
        String error = "";
        boolean ok;
        try {
            consumer.commitSync(offsets, Duration.ofSeconds(5));
            ok = true;
        } catch (RuntimeException e) {
            ok = false;
            error = e.toString();
        }
        long done = clock.nowUs();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            commits.add(new Commit(member, incarnation, e.getKey().partition(), e.getValue().offset(), sent, done, ok, error));
        }
    }

    /** Records where each new owner starts, and every revocation. */
    private final class Listener implements ConsumerRebalanceListener {
        private final String member;
        private final int incarnation;
        private final KafkaConsumer<String, String> consumer;

        Listener(String member, int incarnation, KafkaConsumer<String, String> consumer) {
            this.member = member;
            this.incarnation = incarnation;
            this.consumer = consumer;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            revoke(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            revoke(partitions);
        }

        private void revoke(Collection<TopicPartition> partitions) {
            long at = clock.nowUs();
            for (TopicPartition tp : partitions) {
                assignments.add(new Assignment(member, incarnation, tp.partition(), false, -1, false, at));
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                // Asked until answered: the position is what the checker compares with the commits.
                // It is stamped with the moment it was first asked for: a try that timed out may still
                // have fixed the position then (seed 640: a position fixed before a commit, answered
                // 6 s later, after it, was taken for one that regressed).
                // (The consumer may answer position() from the committed offsets it fetched for committed().)
                long askedAt = clock.nowUs();
                while (running) {
                    try {
                        OffsetAndMetadata committed = consumer.committed(Set.of(tp), Duration.ofSeconds(5)).get(tp);
                        long position = consumer.position(tp, Duration.ofSeconds(5));
                        assignments.add(new Assignment(member, incarnation, tp.partition(), true, position, committed != null, askedAt));
                        break;
                    } catch (org.apache.kafka.common.errors.RetriableException e) {
                        sleep(100);
                    }
                }
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(60_000);
        }
    }

    public List<Read> reads() {
        return List.copyOf(reads);
    }

    public List<Commit> commits() {
        return List.copyOf(commits);
    }

    public List<Assignment> assignments() {
        return List.copyOf(assignments);
    }
}
