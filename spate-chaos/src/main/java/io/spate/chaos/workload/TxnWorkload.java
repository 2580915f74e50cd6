package io.spate.chaos.workload;

import io.spate.chaos.RunClock;
import io.spate.chaos.history.Txn;
import io.spate.chaos.history.Txn.Outcome;
import io.spate.chaos.history.TxnOutput;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * An exactly-once consume-transform-produce pipeline (KIP-98, KIP-447), as applications write it
 * with the real Kafka client: members of one consumer group read the input topic read_committed,
 * and for each poll a transactional producer writes one output per input record (to the output
 * partition of the input's number, its value naming the input, see {@link TxnOutput}) and sends
 * the consumed offsets to the transaction. One transaction in {@value #ABORT_ONE_IN} is aborted
 * on purpose after its outputs were flushed to the log, so that read_committed has aborted
 * records to hide. Every transaction is recorded with the outcome its client saw ({@link Txn}).
 *
 * <p>The input is the producers' topic, written during the run by {@link ProducerWorkload}: the
 * transactions then run through every fault instead of finishing a backlog before the first one,
 * and the input keeps every check of the plain workload (acknowledged, not duplicated, in order).
 *
 * <p>Each member has a stable transactional id ({@code chaos-txn-t1}, ...); it leaves and rejoins
 * the group at seeded intervals with a new consumer and producer, so partitions move between
 * members mid-stream and the new producer's {@code initTransactions} fences the old one. On a
 * fatal producer error (fenced, epoch, sequence) the producer is closed and another with the same
 * id takes over; on any other error the transaction is aborted. Either way the consumer is rewound
 * to the group's committed offsets, so what the failed transaction read is read again.
 */
public final class TxnWorkload implements AutoCloseable {
    public static final String GROUP = "chaos-txn";
    /** One transaction in this many is aborted on purpose. */
    static final int ABORT_ONE_IN = 10;
    /** Inputs per transaction at most (max.poll.records). */
    private static final int MAX_INPUTS_PER_TXN = 100;
    /** How many times a commit that timed out is asked again before its outcome is given up as unknown. */
    private static final int COMMIT_ATTEMPTS = 3;

    private final String bootstrap;
    private final String input;
    private final String output;
    private final int members;
    private final long seed;
    private final RunClock clock;
    private final ConcurrentLinkedQueue<Txn> transactions = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    public TxnWorkload(String bootstrap, String input, String output, int members, long seed, RunClock clock) {
        this.bootstrap = bootstrap;
        this.input = input;
        this.output = output;
        this.members = members;
        this.seed = seed;
        this.clock = clock;
    }

    public static String transactionalId(String member) {
        return "chaos-txn-" + member;
    }

    private Map<String, Object> consumerConfig(String member) {
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "txn-" + member);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        // Longer than a commit can block (max.block.ms 10 s is the producer's): a member waiting
        // out a fault in its producer is not thrown out of the group for that alone.
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 15_000);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        c.put(ConsumerConfig.RETRY_BACKOFF_MS_CONFIG, 50);
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5_000);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_INPUTS_PER_TXN);
        return c;
    }

    private Map<String, Object> producerConfig(String member) {
        Map<String, Object> c = ProducerWorkload.clientConfig(bootstrap);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(member));
        c.put(ProducerConfig.CLIENT_ID_CONFIG, "txn-" + member);
        // Shorter than Kafka's 60 s: a transaction its client lost track of is aborted by the
        // coordinator within 20 s (plus its check interval), not a minute, and holds the output's
        // last stable offset, so read_committed readers, back that long.
        c.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        return c;
    }

    public TxnWorkload start() {
        for (int i = 1; i <= members; i++) {
            Member member = new Member("t" + i, new Random(seed * 37 + i), new Random(seed * 41 + i));
            threads.add(Thread.ofPlatform().name("txn-" + member.name).start(member));
        }
        return this;
    }

    /** One member of the pipeline: its incarnations one after the other, all with one transactional id. */
    private final class Member implements Runnable {
        final String name;
        /** Which transactions are aborted on purpose. */
        final Random random;
        /**
         * When the member leaves and whether as a crash: a sequence of its own, so that a seed
         * fixes it (the other's draws depend on how many transactions fit in a stay).
         */
        final Random leaving;
        /** The producer a crashed incarnation left mid-transaction, until its successor's producer initialized. */
        Zombie zombie;

        Member(String name, Random random, Random leaving) {
            this.name = name;
            this.random = random;
            this.leaving = leaving;
        }

        @Override
        public void run() {
            int incarnation = 0;
            while (running) {
                incarnation++;
                long stayMs = 10_000 + leaving.nextInt(20_000);
                boolean crash = leaving.nextBoolean();
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig(name))) {
                    new Incarnation(this, incarnation, consumer).run(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stayMs), crash);
                } catch (RuntimeException e) {
                    // the consumer failed as a whole, or could not rewind: a new incarnation joins and
                    // starts from the group's committed offsets
                    sleep(200);
                }
            }
            fenceLeftovers();
        }

        /** Called once a new producer with this member's transactional id initialized: a zombie left behind tries its commit now. */
        void successorInitialized() {
            if (zombie != null) {
                zombie.commitAfterSuccessor();
                zombie = null;
            }
        }

        /**
         * At the end: one more producer with the member's transactional id initializes and closes, so
         * that a transaction a failed producer left open is aborted now rather than at its timeout,
         * and the output's last stable offset reaches its end for the final read.
         */
        private void fenceLeftovers() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(name))) {
                    producer.initTransactions();
                    successorInitialized();
                    return;
                } catch (KafkaException e) {
                    sleep(200);
                }
            }
            if (zombie != null) {
                zombie.giveUp();
            }
        }
    }

    /**
     * A producer whose member left mid-transaction as if the application crashed: its outputs and
     * offsets were sent and flushed, its commit not asked for. Once the member's next producer
     * (same transactional id) initialized, which must fence it and abort its transaction, it asks
     * to commit, as a zombie would; it must be refused.
     */
    private final class Zombie {
        private final KafkaProducer<String, String> producer;
        private final String member;
        private final int incarnation;
        private final int number;
        private final long beginUs;
        private final List<Txn.InputRange> inputs;

        Zombie(KafkaProducer<String, String> producer, String member, int incarnation, int number, long beginUs, List<Txn.InputRange> inputs) {
            this.producer = producer;
            this.member = member;
            this.incarnation = incarnation;
            this.number = number;
            this.beginUs = beginUs;
            this.inputs = inputs;
        }

        void commitAfterSuccessor() {
            Outcome outcome;
            String error = "";
            try {
                producer.commitTransaction();
                outcome = Outcome.ZOMBIE_COMMITTED;
            } catch (RuntimeException e) {
                // ProducerFencedException or InvalidProducerEpochException as a rule; any refusal will do
                outcome = Outcome.FENCED;
                error = e.toString();
            } finally {
                producer.close(Duration.ZERO);
            }
            transactions.add(new Txn(member, incarnation, number, outcome, beginUs, clock.nowUs(), inputs, error));
        }

        /** No successor could initialize: the zombie never asks to commit. */
        void giveUp() {
            producer.close(Duration.ZERO);
            transactions.add(new Txn(member, incarnation, number, Outcome.ABANDONED, beginUs, clock.nowUs(), inputs,
                    "crashed mid-transaction; no successor initialized"));
        }
    }

    /** One consumer and producer pair of a member, from joining the group to leaving it. */
    private final class Incarnation {
        private final Member member;
        private final int incarnation;
        private final KafkaConsumer<String, String> consumer;
        private final Random random;
        private KafkaProducer<String, String> producer;
        private int number;

        Incarnation(Member member, int incarnation, KafkaConsumer<String, String> consumer) {
            this.member = member;
            this.incarnation = incarnation;
            this.consumer = consumer;
            this.random = member.random;
        }

        /** Until {@code leaveAt}, then leaves: cleanly, or with {@code crash} as if the application crashed mid-transaction. */
        void run(long leaveAt, boolean crash) {
            consumer.subscribe(List.of(input));
            try {
                while (running) {
                    if (producer == null) {
                        producer = newProducer();
                        if (producer == null) {
                            return; // stopping
                        }
                    }
                    if (System.nanoTime() >= leaveAt) {
                        if (crash) {
                            leaveAsCrash();
                        }
                        return;
                    }
                    ConsumerRecords<String, String> records = poll();
                    if (records.isEmpty()) {
                        continue;
                    }
                    if (transact(records, false) != Outcome.COMMITTED && !startOver()) {
                        return; // stopping
                    }
                }
            } finally {
                if (producer != null) {
                    // No transaction is open here: each ended (or its producer was replaced) before the next poll.
                    producer.close(Duration.ofSeconds(5));
                }
                try {
                    consumer.unsubscribe();
                } catch (RuntimeException ignored) {
                    // the group notices by the session timeout instead
                }
            }
        }

        private ConsumerRecords<String, String> poll() {
            try {
                return consumer.poll(Duration.ofMillis(100));
            } catch (org.apache.kafka.common.errors.RetriableException e) {
                return ConsumerRecords.empty();
            }
        }

        /**
         * The next poll's records go into a transaction that is left open. A fault may fail that
         * transaction before it is flushed (it is then recorded as any failed one): the crash is
         * tried again with the next records, for up to 15 s.
         */
        private void leaveAsCrash() {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (running && System.nanoTime() < until) {
                ConsumerRecords<String, String> records = poll();
                if (records.isEmpty()) {
                    continue;
                }
                if (transact(records, true) == null || !startOver()) {
                    return; // the zombie is left, or stopping
                }
            }
        }

        /**
         * After a transaction that did not commit: a new producer if the failed one was given up,
         * then the rewind; false when stopping. The successor comes first: its initTransactions
         * ends what the failed producer left open, whose pending offsets would otherwise hold the
         * rewind's offset fetch until the coordinator times the transaction out.
         */
        private boolean startOver() {
            if (producer == null && (producer = newProducer()) == null) {
                return false;
            }
            rewind();
            return true;
        }

        /** A producer with the member's transactional id, initialized (fencing its predecessor); null when stopping. */
        private KafkaProducer<String, String> newProducer() {
            while (running) {
                KafkaProducer<String, String> p;
                try {
                    p = new KafkaProducer<>(producerConfig(member.name));
                } catch (KafkaException e) {
                    sleep(200); // no bootstrap reachable yet
                    continue;
                }
                try {
                    // Retried after a timeout, as the client allows: the coordinator may be moving.
                    while (true) {
                        try {
                            p.initTransactions();
                            member.successorInitialized();
                            return p;
                        } catch (TimeoutException e) {
                            if (!running) {
                                throw e;
                            }
                        }
                    }
                } catch (KafkaException e) {
                    p.close(Duration.ZERO);
                    sleep(200);
                }
            }
            return null;
        }

        /**
         * One transaction over one poll's records; returns how it ended, as recorded. With {@code
         * crash} it is left open once its outputs and offsets are flushed, its producer handed to
         * the member as a zombie (recorded when the zombie tries to commit); then null.
         */
        private Outcome transact(ConsumerRecords<String, String> records, boolean crash) {
            number++;
            String label = Txn.label(member.name, incarnation, number);
            boolean abortOnPurpose = random.nextInt(ABORT_ONE_IN) == 0;
            long begin = clock.nowUs();
            List<Txn.InputRange> inputs = ranges(records);
            boolean commitAsked = false;
            Outcome outcome;
            String error = "";
            try {
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    String value = new TxnOutput(r.partition(), r.offset(), r.value(), label).value();
                    producer.send(new ProducerRecord<>(output, r.partition(), null, value));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                if (crash) {
                    producer.flush();
                    member.zombie = new Zombie(producer, member.name, incarnation, number, begin, inputs);
                    producer = null; // not closed: the zombie lives on
                    return null;
                }
                if (abortOnPurpose) {
                    // The outputs reach the log first: read_uncommitted sees them, read_committed must not.
                    producer.flush();
                    producer.abortTransaction();
                    outcome = Outcome.ABORTED_ON_PURPOSE;
                } else {
                    commitAsked = true;
                    commit();
                    outcome = Outcome.COMMITTED;
                }
            } catch (RuntimeException e) {
                // KafkaExceptions, and IllegalStateException from a producer in a state that allows no transaction
                error = e.toString();
                outcome = recover(e, commitAsked);
            }
            transactions.add(new Txn(member.name, incarnation, number, outcome, begin, clock.nowUs(), inputs, error));
            return outcome;
        }

        /** commitTransaction, asked again after a timeout (the client resumes the pending commit). */
        private void commit() {
            for (int attempt = 1; ; attempt++) {
                try {
                    producer.commitTransaction();
                    return;
                } catch (TimeoutException e) {
                    if (attempt == COMMIT_ATTEMPTS) {
                        throw e;
                    }
                }
            }
        }

        /**
         * After a failed transaction: abort it if the producer can (an abort that returns is an
         * answer: the transaction did not commit, even if a commit had been asked for), else replace
         * the producer (its successor, with the same transactional id, aborts what it left open or
         * completes a commit the coordinator had already decided). Returns the outcome as the client
         * knows it. A commit that timed out cannot be aborted by the client, only asked again.
         */
        private Outcome recover(RuntimeException e, boolean commitAsked) {
            if (!fatal(e) && !(commitAsked && e instanceof TimeoutException)) {
                try {
                    producer.abortTransaction();
                    return Outcome.ABORTED;
                } catch (RuntimeException abortFailed) {
                    // fall through: a new producer
                }
            }
            producer.close(Duration.ZERO);
            producer = null; // made again before the next poll
            return commitAsked ? Outcome.UNKNOWN : Outcome.ABANDONED;
        }

        private boolean fatal(RuntimeException e) {
            return e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                    || e instanceof OutOfOrderSequenceException || e instanceof UnsupportedVersionException
                    || e instanceof AuthorizationException || e instanceof IllegalStateException;
        }

        /**
         * Back to the group's committed offsets: what the failed transaction read is read again. A
         * rewind that cannot be done ends the incarnation (the next one starts from the committed
         * offsets): reading on from the current position would skip those inputs.
         */
        private void rewind() {
            Set<TopicPartition> assigned = consumer.assignment();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, Duration.ofSeconds(30));
            for (TopicPartition tp : assigned) {
                OffsetAndMetadata offset = committed.get(tp);
                if (offset == null) {
                    consumer.seekToBeginning(List.of(tp));
                } else {
                    consumer.seek(tp, offset.offset());
                }
            }
        }
    }

    /** The offsets of one poll as ranges per partition (a poll returns each partition's records in offset order). */
    static List<Txn.InputRange> ranges(ConsumerRecords<String, String> records) {
        List<Txn.InputRange> ranges = new ArrayList<>();
        for (TopicPartition tp : records.partitions()) {
            long first = -1;
            long last = -1;
            for (ConsumerRecord<String, String> r : records.records(tp)) {
                if (first >= 0 && r.offset() != last + 1) {
                    ranges.add(new Txn.InputRange(tp.partition(), first, last));
                    first = -1;
                }
                if (first < 0) {
                    first = r.offset();
                }
                last = r.offset();
            }
            if (first >= 0) {
                ranges.add(new Txn.InputRange(tp.partition(), first, last));
            }
        }
        return ranges;
    }

    /**
     * Waits until the pipeline has consumed the whole input: the group's committed offset of every
     * input partition at its end offset (the producers have stopped). Returns false at the deadline.
     */
    public boolean awaitDrained(Admin admin, int partitions, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(input, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> ends = null;
        while (System.nanoTime() < deadline) {
            try {
                if (ends == null) {
                    Map<TopicPartition, Long> e = new HashMap<>();
                    admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).forEach((tp, info) -> e.put(tp, info.offset()));
                    ends = e;
                }
                Map<Integer, Long> committed = committedInput(admin);
                boolean drained = true;
                for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
                    long at = committed.getOrDefault(e.getKey().partition(), 0L);
                    drained &= e.getValue() == 0 || at >= e.getValue();
                }
                if (drained) {
                    return true;
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // asked again
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** The pipeline group's committed offset per input partition, pending transactional offsets resolved first. */
    public Map<Integer, Long> committedInput(Admin admin) throws InterruptedException, java.util.concurrent.ExecutionException,
            java.util.concurrent.TimeoutException {
        Map<Integer, Long> result = new TreeMap<>();
        admin.listConsumerGroupOffsets(GROUP, new ListConsumerGroupOffsetsOptions().requireStable(true))
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).forEach((tp, om) -> {
                    if (om != null && tp.topic().equals(input)) {
                        result.put(tp.partition(), om.offset());
                    }
                });
        return result;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after each member's current transaction; the members' transactional ids are left with nothing open. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(90_000);
        }
    }

    public int members() {
        return members;
    }

    public List<Txn> transactions() {
        return List.copyOf(transactions);
    }
}
