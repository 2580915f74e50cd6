package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code spate consume TOPIC...}: print records, in the manner of Redpanda's {@code rpk topic
 * consume} and kcat's {@code -C}: from an offset of your choice, or as a member of a consumer group
 * that commits what it printed; as values, a format string, or JSON lines. Ctrl-C (or SIGTERM)
 * stops it cleanly: the consumer commits and leaves its group.
 */
@Command(name = "consume", mixinStandardHelpOptions = true,
        description = {"Print records from topics: one value per line by default, a --format string, or --json lines.",
                "Runs until -n records were printed or Ctrl-C; with --group, commits the offsets of what it printed."})
public final class ConsumeCommand extends ClientCommand {
    @Parameters(paramLabel = "TOPIC", arity = "1..*", description = "The topics to read.")
    List<String> topics;

    @Option(names = {"-o", "--offset"}, paramLabel = "WHERE",
            description = {"Where to start: start (default), end, N (the offset N), -N (N records before the end), "
                    + "@MS (the first record at or after this timestamp, in ms since the epoch).",
                    "With --group: start or end, for partitions the group has no committed offset for."})
    String offset;

    @Option(names = {"-g", "--group"}, paramLabel = "GROUP", description = "Consume as a member of this group, committing the offsets printed.")
    String group;

    @Option(names = {"-n", "--num"}, paramLabel = "N", description = "Stop after N records.")
    Long num;

    @Option(names = {"-p", "--partitions"}, paramLabel = "P", split = ",",
            description = "Only these partitions (of every topic named; not with --group).")
    List<Integer> partitions;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT",
            description = {"How to print a record: %%t topic, %%p partition, %%o offset, %%k key, %%v value, "
                    + "%%h headers (k=v,k=v), %%T timestamp (ms), %%%% a percent sign; \\n, \\t, \\\\ escapes.",
                    "Default: %%v\\n (the value, one per line)."})
    String format;

    @Option(names = "--json", description = "One JSON object per record: topic, partition, offset, timestamp, key, value, headers.")
    boolean json;

    @Override
    int execute() throws Exception {
        if (json && format != null) {
            throw new GroupsCommand.Failure("--json and --format cannot be used together");
        }
        if (num != null && num < 0) {
            throw new GroupsCommand.Failure("bad --num " + num + ": at least 0");
        }
        if (group != null && partitions != null) {
            throw new GroupsCommand.Failure("--partitions cannot be used with --group (the group assigns partitions)");
        }
        StartAt start = StartAt.parse(offset == null ? "start" : offset);
        if (group != null && start.kind() != StartAt.Kind.START && start.kind() != StartAt.Kind.END) {
            throw new GroupsCommand.Failure("with --group, --offset must be start or end (where a partition without a committed offset begins)");
        }
        List<Segment> segments = format == null ? null : Segment.parse(format);

        Map<String, TopicDescription> described;
        try (Admin admin = connection.admin("spate-consume")) {
            described = describeExisting(admin, topics);
        }
        List<TopicPartition> assigned = new ArrayList<>();
        if (group == null) {
            for (TopicDescription d : described.values()) {
                int count = d.partitions().size();
                if (partitions == null) {
                    for (int p = 0; p < count; p++) {
                        assigned.add(new TopicPartition(d.name(), p));
                    }
                } else {
                    for (int p : partitions) {
                        if (p < 0 || p >= count) {
                            throw new GroupsCommand.Failure("topic '" + d.name() + "' has no partition " + p + " (it has " + count + ")");
                        }
                        assigned.add(new TopicPartition(d.name(), p));
                    }
                }
            }
        }

        Properties props = connection.common("spate-consume");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, connection.timeoutMs);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, start.kind() == StartAt.Kind.END ? "latest" : "earliest");
        if (group != null) {
            props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }

        PrintWriter out = out();
        AtomicBoolean stopping = new AtomicBoolean();
        CountDownLatch closed = new CountDownLatch(1);
        KafkaConsumer<byte[], byte[]> consumer = connection.create(() -> new KafkaConsumer<>(props));
        // Ctrl-C or SIGTERM: wake the poll, commit, close (leaving the group), then let the JVM go.
        Thread hook = new Thread(() -> {
            stopping.set(true);
            consumer.wakeup();
            try {
                closed.await(connection.timeoutMs + 5000L, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "spate-consume-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
        long printed = 0;
        try {
            if (group == null) {
                consumer.assign(assigned);
                position(consumer, assigned, start);
            } else {
                consumer.subscribe(topics, new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                        // what was printed from a partition leaving this member is committed now,
                        // and never again: its next owner's commits must not be overwritten
                        Map<TopicPartition, OffsetAndMetadata> leaving = new HashMap<>();
                        for (TopicPartition tp : revoked) {
                            OffsetAndMetadata o = toCommit.remove(tp);
                            if (o != null) {
                                leaving.put(tp, o);
                            }
                        }
                        if (!leaving.isEmpty()) {
                            commit(consumer, leaving);
                        }
                    }

                    @Override
                    public void onPartitionsLost(Collection<TopicPartition> lost) {
                        lost.forEach(toCommit::remove); // another member may own them already
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                    }
                });
            }
            while (!stopping.get() && (num == null || printed < num)) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(500));
                } catch (WakeupException e) {
                    break;
                }
                Map<TopicPartition, OffsetAndMetadata> printedNow = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (num != null && printed >= num) {
                        break;
                    }
                    print(out, r, segments);
                    printed++;
                    printedNow.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                out.flush();
                if (out.checkError()) {
                    // stdout went away (the reader of a pipe stopped): this batch may not have been
                    // printed, so it is not committed; nothing more to print to
                    break;
                }
                toCommit.putAll(printedNow);
                if (group != null && !toCommit.isEmpty()) {
                    commit(consumer, toCommit);
                }
            }
        } catch (WakeupException e) {
            // Ctrl-C while positioning or committing: stop as after a poll
        } finally {
            try {
                if (group != null && !toCommit.isEmpty()) {
                    commit(consumer, toCommit);
                }
            } finally {
                consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofMillis(connection.timeoutMs)));
                closed.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down: the hook is running and returns now
                }
            }
        }
        out.flush();
        return 0;
    }

    /**
     * Commits what was printed and forgets it (committed once: a later commit of the same offsets
     * could overwrite a newer owner's); a wakeup (Ctrl-C) during a commit is retried once.
     */
    private static void commit(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            consumer.commitSync(offsets);
        }
        offsets.clear();
    }

    /** Seeks every assigned partition to where {@code start} says. */
    private static void position(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> assigned, StartAt start) {
        switch (start.kind()) {
            case START -> consumer.seekToBeginning(assigned);
            case END -> consumer.seekToEnd(assigned);
            case OFFSET, FROM_END -> {
                Map<TopicPartition, Long> low = consumer.beginningOffsets(assigned);
                Map<TopicPartition, Long> high = consumer.endOffsets(assigned);
                for (TopicPartition tp : assigned) {
                    long want = start.kind() == StartAt.Kind.OFFSET ? start.value() : high.get(tp) - start.value();
                    consumer.seek(tp, Math.max(low.get(tp), Math.min(high.get(tp), want)));
                }
            }
            case TIMESTAMP -> {
                Map<TopicPartition, Long> query = new HashMap<>();
                assigned.forEach(tp -> query.put(tp, start.value()));
                Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
                Map<TopicPartition, Long> high = consumer.endOffsets(assigned);
                for (TopicPartition tp : assigned) {
                    OffsetAndTimestamp at = found.get(tp);
                    consumer.seek(tp, at == null ? high.get(tp) : at.offset());
                }
            }
        }
    }

    private void print(PrintWriter out, ConsumerRecord<byte[], byte[]> r, List<Segment> segments) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", r.topic());
            m.put("partition", r.partition());
            m.put("offset", r.offset());
            m.put("timestamp", r.timestamp());
            m.put("key", text(r.key()));
            m.put("value", text(r.value()));
            List<Map<String, Object>> headers = new ArrayList<>();
            for (Header h : r.headers()) {
                Map<String, Object> header = new LinkedHashMap<>();
                header.put("key", h.key());
                header.put("value", text(h.value()));
                headers.add(header);
            }
            m.put("headers", headers);
            out.println(json(m));
        } else if (segments == null) {
            out.println(r.value() == null ? "" : text(r.value()));
        } else {
            StringBuilder line = new StringBuilder();
            for (Segment s : segments) {
                s.append(line, r);
            }
            out.print(line);
        }
    }

    static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** Where to start reading, from {@code -o}. */
    record StartAt(Kind kind, long value) {
        enum Kind { START, END, OFFSET, FROM_END, TIMESTAMP }

        static StartAt parse(String text) {
            String t = text.trim();
            try {
                return switch (t) {
                    case "start", "beginning", "oldest" -> new StartAt(Kind.START, 0);
                    case "end", "newest" -> new StartAt(Kind.END, 0);
                    default -> {
                        if (t.startsWith("@")) {
                            yield new StartAt(Kind.TIMESTAMP, nonNegative(Long.parseLong(t.substring(1))));
                        } else if (t.startsWith("-")) {
                            yield new StartAt(Kind.FROM_END, nonNegative(Long.parseLong(t.substring(1))));
                        } else {
                            yield new StartAt(Kind.OFFSET, nonNegative(Long.parseLong(t.startsWith("+") ? t.substring(1) : t)));
                        }
                    }
                };
            } catch (NumberFormatException e) {
                throw new GroupsCommand.Failure("bad --offset '" + text + "': expected start, end, N, -N or @TIMESTAMP-MS");
            }
        }

        private static long nonNegative(long v) {
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        }
    }

    /** A piece of a --format string: literal text or one field of the record. */
    record Segment(char field, String literal) {
        static List<Segment> parse(String format) {
            List<Segment> segments = new ArrayList<>();
            StringBuilder literal = new StringBuilder();
            for (int i = 0; i < format.length(); i++) {
                char c = format.charAt(i);
                if ((c == '%' || c == '\\') && i + 1 == format.length()) {
                    throw new GroupsCommand.Failure("bad --format '" + format + "': it ends in a lone " + c);
                }
                if (c == '\\') {
                    char e = format.charAt(++i);
                    switch (e) {
                        case 'n' -> literal.append('\n');
                        case 't' -> literal.append('\t');
                        case 'r' -> literal.append('\r');
                        case '\\' -> literal.append('\\');
                        default -> throw new GroupsCommand.Failure("bad --format '" + format + "': unknown escape \\" + e);
                    }
                } else if (c == '%') {
                    char f = format.charAt(++i);
                    if (f == '%') {
                        literal.append('%');
                    } else if ("tpokvhT".indexOf(f) >= 0) {
                        if (!literal.isEmpty()) {
                            segments.add(new Segment('\0', literal.toString()));
                            literal.setLength(0);
                        }
                        segments.add(new Segment(f, null));
                    } else {
                        throw new GroupsCommand.Failure("bad --format '" + format + "': unknown field %" + f
                                + " (known: %t %p %o %k %v %h %T %%)");
                    }
                } else {
                    literal.append(c);
                }
            }
            if (!literal.isEmpty()) {
                segments.add(new Segment('\0', literal.toString()));
            }
            return segments;
        }

        void append(StringBuilder line, ConsumerRecord<byte[], byte[]> r) {
            switch (field) {
                case '\0' -> line.append(literal);
                case 't' -> line.append(r.topic());
                case 'p' -> line.append(r.partition());
                case 'o' -> line.append(r.offset());
                case 'k' -> line.append(r.key() == null ? "" : text(r.key()));
                case 'v' -> line.append(r.value() == null ? "" : text(r.value()));
                case 'T' -> line.append(r.timestamp());
                case 'h' -> {
                    boolean first = true;
                    for (Header h : r.headers()) {
                        line.append(first ? "" : ",").append(h.key()).append('=').append(h.value() == null ? "" : text(h.value()));
                        first = false;
                    }
                }
                default -> throw new IllegalStateException("field " + field);
            }
        }
    }
}
