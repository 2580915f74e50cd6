package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code spate produce TOPIC}: one record per line of standard input, in the manner of Redpanda's
 * {@code rpk topic produce} and kcat's {@code -P}. Each record's partition and offset (or a
 * summary) go to stdout, failures to stderr; a progress line goes to stderr only.
 */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = {"Produce one record per line of standard input to a topic.",
                "Prints each record's partition and offset (or, with --summary, one line at the end); "
                        + "a long input shows its progress on stderr. Exits 1 if any record failed."})
public final class ProduceCommand extends ClientCommand {
    /** At most this many failures are printed one by one; the rest are counted. */
    static final int FAILURES_PRINTED = 20;
    /** kafka-clients' default batch.size. */
    static final int DEFAULT_BATCH_SIZE = 16_384;

    private final InputStream input;

    @Parameters(paramLabel = "TOPIC", description = "The topic (it must exist).")
    String topic;

    @Option(names = {"-k", "--key-separator"}, paramLabel = "SEP",
            description = "Split each line at the first SEP into key and value (a line without SEP has no key).")
    String keySeparator;

    @Option(names = {"-H", "--header"}, paramLabel = "KEY=VALUE", description = "A header on every record; repeatable.")
    List<String> headers = new ArrayList<>();

    @Option(names = "--acks", paramLabel = "0|1|all", defaultValue = "all",
            description = "Acknowledgements to wait for: 0 (none), 1 (the leader), all (every in-sync replica; default).")
    String acks;

    @Option(names = {"-p", "--partition"}, paramLabel = "N", description = "Send every record to this partition (default: by key).")
    Integer partition;

    @Option(names = "--linger-ms", paramLabel = "MS", description = "How long the producer waits to fill a batch (default: the client's).")
    Integer lingerMs;

    @Option(names = "--summary", description = "One line at the end instead of one per record.")
    boolean summary;

    @Option(names = "--json", description = "One JSON object per record (topic, partition, offset, timestamp, line), and a JSON summary with --summary.")
    boolean json;

    @Option(names = "--progress-interval-ms", hidden = true, paramLabel = "MS",
            description = "How often the progress line is written (default: 250 ms on a terminal, 5000 ms otherwise).")
    Long progressIntervalMs;

    /** Reads standard input. */
    public ProduceCommand() {
        this(System.in);
    }

    /** Reads {@code input} instead of standard input (tests, embedding). */
    public ProduceCommand(InputStream input) {
        this.input = input;
    }

    @Override
    int execute() throws Exception {
        String acksValue = switch (acks.toLowerCase(Locale.ROOT)) {
            case "0", "1" -> acks;
            case "all", "-1" -> "all";
            default -> throw new GroupsCommand.Failure("bad --acks '" + acks + "': expected 0, 1 or all");
        };
        if (keySeparator != null && keySeparator.isEmpty()) {
            throw new GroupsCommand.Failure("bad --key-separator: empty");
        }
        List<Header> recordHeaders = new ArrayList<>();
        for (String h : headers) {
            Map.Entry<String, String> kv = keyValue("--header", h);
            recordHeaders.add(new RecordHeader(kv.getKey(), kv.getValue().getBytes(StandardCharsets.UTF_8)));
        }
        // The topic must exist (no auto-creation by a typo), and a partition asked for too; an
        // unreachable broker is one line after --timeout.
        int maxMessageBytes;
        try (Admin admin = connection.admin("spate-produce")) {
            TopicDescription d = describeExisting(admin, List.of(topic)).get(topic);
            if (partition != null && (partition < 0 || partition >= d.partitions().size())) {
                throw new GroupsCommand.Failure("topic '" + topic + "' has no partition " + partition
                        + " (it has " + d.partitions().size() + ")");
            }
            maxMessageBytes = maxMessageBytes(admin);
        }

        Properties props = connection.common("spate-produce");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, acksValue);
        // idempotence needs acks=all; with fewer acknowledgements the user asked for less
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, acksValue.equals("all"));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, connection.timeoutMs);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(connection.timeoutMs + 5000, 30_000));
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, connection.timeoutMs);
        if (maxMessageBytes < DEFAULT_BATCH_SIZE) {
            // kafka-clients splits a batch the topic refused as too large into batches of
            // batch.size, and splits those again for as long as they are refused: keep batches
            // within the topic's limit, so that only a record too large alone is refused (once).
            props.put(ProducerConfig.BATCH_SIZE_CONFIG, maxMessageBytes);
        }
        if (lingerMs != null) {
            props.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        }

        Counters counters = new Counters();
        PrintWriter out = out();
        boolean tty = stderrIsTerminal();
        long interval = progressIntervalMs != null ? progressIntervalMs : tty ? 250 : 5000;
        Progress progress = new Progress(err(), counters, tty, System.nanoTime());
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spate-produce-progress");
            t.setDaemon(true);
            return t;
        });
        // The first progress line comes only after a whole interval (a short input shows none).
        ticker.scheduleAtFixedRate(progress::show, interval, interval, TimeUnit.MILLISECONDS);
        try (KafkaProducer<byte[], byte[]> producer = connection.create(() -> new KafkaProducer<>(props));
             BufferedReader reader = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8))) {
            String line;
            long lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                byte[] key = null;
                String value = line;
                if (keySeparator != null) {
                    int at = line.indexOf(keySeparator);
                    if (at >= 0) {
                        key = line.substring(0, at).getBytes(StandardCharsets.UTF_8);
                        value = line.substring(at + keySeparator.length());
                    }
                }
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partition, null, key,
                        value.getBytes(StandardCharsets.UTF_8), recordHeaders);
                long n = lineNumber;
                counters.sent.incrementAndGet();
                try {
                    producer.send(record, (metadata, exception) -> {
                        if (exception != null) {
                            failed(counters, n, exception);
                        } else {
                            counters.acked.incrementAndGet();
                            if (!summary) {
                                printRecord(out, metadata, n);
                            }
                        }
                    });
                } catch (RuntimeException e) {
                    // refused before it was queued (too large, no metadata within --timeout, ...)
                    failed(counters, n, e);
                }
            }
            producer.flush();
        } finally {
            ticker.shutdownNow();
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            progress.finish();
        }
        long failed = counters.failed.get();
        if (failed > FAILURES_PRINTED) {
            error((failed - FAILURES_PRINTED) + " more records failed");
        }
        if (summary) {
            double seconds = Math.max(1e-9, (System.nanoTime() - progress.startNanos) / 1e9);
            if (json) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("topic", topic);
                s.put("records", counters.acked.get());
                s.put("failed", failed);
                s.put("seconds", Math.round(seconds * 1000) / 1000.0);
                out.println(json(s));
            } else {
                out.printf("Produced %d record%s to %s in %.1f s (%.0f records/s)%s%n", counters.acked.get(),
                        counters.acked.get() == 1 ? "" : "s", topic, seconds, counters.acked.get() / seconds,
                        failed == 0 ? "" : ", " + failed + " failed");
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    /** The topic's max.message.bytes, or {@link Integer#MAX_VALUE} when it cannot be read. */
    private int maxMessageBytes(Admin admin) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            ConfigEntry entry = admin.describeConfigs(List.of(resource)).values().get(resource).get()
                    .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            return entry == null || entry.value() == null ? Integer.MAX_VALUE : Integer.parseInt(entry.value());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Integer.MAX_VALUE; // the producer's defaults then
        }
    }

    private void printRecord(PrintWriter out, RecordMetadata m, long line) {
        synchronized (out) {
            if (json) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("topic", m.topic());
                r.put("partition", m.partition());
                r.put("offset", m.hasOffset() ? m.offset() : null);
                r.put("timestamp", m.hasTimestamp() ? m.timestamp() : null);
                r.put("line", line);
                out.println(json(r));
            } else if (m.hasOffset()) {
                out.printf("Produced to partition %d at offset %d with timestamp %d.%n", m.partition(), m.offset(), m.timestamp());
            } else {
                out.printf("Produced to partition %d (acks=0: no offset).%n", m.partition());
            }
        }
    }

    private void failed(Counters counters, long line, Exception e) {
        long n = counters.failed.incrementAndGet();
        if (n <= FAILURES_PRINTED) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            synchronized (err()) {
                error("record from line " + line + " failed: " + message);
            }
        }
    }

    static final class Counters {
        final AtomicLong sent = new AtomicLong();
        final AtomicLong acked = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
    }

    /** The progress line: in place on a terminal (carriage return), one line per interval otherwise. */
    static final class Progress {
        private final PrintWriter err;
        private final Counters counters;
        private final boolean tty;
        final long startNanos;
        private boolean shown;

        Progress(PrintWriter err, Counters counters, boolean tty, long startNanos) {
            this.err = err;
            this.counters = counters;
            this.tty = tty;
            this.startNanos = startNanos;
        }

        private long lastNanos;
        private long lastAcked;

        synchronized void show() {
            // the rate over the last interval: what the producer does now, not its average since the start
            long now = System.nanoTime();
            long acked = counters.acked.get();
            double seconds = Math.max(1e-9, (now - (lastNanos == 0 ? startNanos : lastNanos)) / 1e9);
            String line = String.format("spate: %d records produced (%.0f records/s), %d in flight, %d failed",
                    acked, (acked - lastAcked) / seconds, Math.max(0, counters.sent.get() - acked - counters.failed.get()), counters.failed.get());
            lastNanos = now;
            lastAcked = acked;
            synchronized (err) {
                if (tty) {
                    err.print("\r" + line + "\u001b[K");
                } else {
                    err.println(line);
                }
                err.flush();
            }
            shown = true;
        }

        /** Ends the in-place line so that what follows starts on a line of its own. */
        synchronized void finish() {
            if (shown && tty) {
                synchronized (err) {
                    err.println();
                    err.flush();
                }
            }
        }
    }

    /** Whether this process's stderr is a terminal (Linux: where file descriptor 2 points). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false;
        }
    }
}
