package io.spate.bench;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The failover measurement of the Kafka anchor's {@code FailoverProbe.java}, with the same options,
 * the same load and the same {@code RESULT} line: an idempotent acks=all producer sends at a steady
 * rate round-robin to explicit partitions; after {@code --pre-ms} the leader of a partition is
 * killed with {@code --kill-cmd}; acks are watched for {@code --post-ms}; then the whole topic is
 * read back and every acknowledged record must be at its acknowledged offset; the victim is
 * restarted, preferred leaders are elected and the topic is read back again.
 *
 * <p>Differences, so that a cluster that does not recover is reported as such rather than as a
 * short gap or no result at all:
 * <ul>
 *   <li>an ack gap still open when the watch window ends counts up to that end (the anchor only
 *       measures between two acks, so a partition that never acks again shows its last normal gap);
 *   <li>{@code partitionsWithoutPostKillAck} counts the partitions that never acknowledged a record
 *       sent after the kill (their {@code firstAckOfPostKillRecord} is Infinity);
 *   <li>a verification, restart or election that fails is reported in the RESULT line, which is
 *       always printed; the preferred election covers only the probe's topic.
 * </ul>
 *
 * <p>Usage: {@code FailoverGapProbe --bootstrap B --kill-cmd 'CMD with %d' [--topic T] [--partitions 6]
 * [--rf 3] [--min-isr 2] [--rate 2000] [--size 100] [--pre-ms 8000] [--post-ms 30000]
 * [--victim partition0|controller|non-controller] [--restart-cmd 'CMD with %d'] [--victim-file F]};
 * {@code %d} is replaced by the victim's node id.
 */
public final class FailoverGapProbe {
    private static final Map<String, String> OPTIONS = new HashMap<>();
    private static final long T0 = System.nanoTime();

    private FailoverGapProbe() {
    }

    private static String opt(String key, String fallback) {
        return OPTIONS.getOrDefault(key, fallback);
    }

    private static void log(String s) {
        System.out.printf(Locale.ROOT, "[%9.1f ms] %s%n", (System.nanoTime() - T0) / 1e6, s);
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            OPTIONS.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String bs = opt("bootstrap", "127.0.0.1:9092");
        String topic = opt("topic", "failover-" + System.currentTimeMillis());
        int parts = Integer.parseInt(opt("partitions", "6"));
        int rf = Integer.parseInt(opt("rf", "3"));
        int rate = Integer.parseInt(opt("rate", "2000"));
        int size = Math.max(16, Integer.parseInt(opt("size", "100")));
        long preMs = Long.parseLong(opt("pre-ms", "8000"));
        long postMs = Long.parseLong(opt("post-ms", "30000"));
        String victimMode = opt("victim", "partition0");
        String killCmd = OPTIONS.get("kill-cmd");
        if (killCmd == null) {
            throw new IllegalArgumentException("--kill-cmd required");
        }

        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bs);
        Admin admin = Admin.create(ap);
        if (!admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(topic)) {
            NewTopic nt = new NewTopic(topic, parts, (short) rf).configs(Map.of("min.insync.replicas", opt("min-isr", "2")));
            admin.createTopics(List.of(nt)).all().get(60, TimeUnit.SECONDS);
            log("created topic " + topic + " partitions=" + parts + " rf=" + rf + " min.insync.replicas=" + opt("min-isr", "2"));
        }
        waitFullIsr(admin, topic, rf, 60_000);

        int cap = (int) (rate * (preMs + postMs + 5000) / 1000) + 1000;
        long[] sendT = new long[cap];
        long[] ackT = new long[cap];
        long[] offs = new long[cap];
        int[] part = new int[cap];
        Arrays.fill(ackT, -1);
        AtomicLong failed = new AtomicLong();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();

        Properties pp = new Properties();
        pp.put("bootstrap.servers", bs);
        pp.put("acks", "all");
        pp.put("enable.idempotence", "true");
        pp.put("linger.ms", opt("linger-ms", "5"));
        pp.put("max.in.flight.requests.per.connection", "5");
        pp.put("delivery.timeout.ms", opt("delivery-timeout-ms", "120000"));
        KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());

        AtomicInteger sentCount = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread sender = new Thread(() -> {
            long interval = 1_000_000_000L / rate;
            long next = System.nanoTime();
            for (int i = 0; i < cap && !stop.get(); i++) {
                long now;
                while ((now = System.nanoTime()) < next) {
                    LockSupport.parkNanos(next - now);
                }
                next += interval;
                final int seq = i;
                ByteBuffer v = ByteBuffer.allocate(size);
                v.putLong(seq).putLong(now);
                part[seq] = seq % parts;
                sendT[seq] = now;
                prod.send(new ProducerRecord<>(topic, seq % parts, null, v.array()), (md, ex) -> {
                    if (ex != null) {
                        failed.incrementAndGet();
                        if (errors.size() < 20) {
                            errors.add(seq + ": " + ex);
                        }
                        return;
                    }
                    offs[seq] = md.offset();
                    ackT[seq] = System.nanoTime();
                });
                sentCount.set(i + 1);
            }
        }, "sender");
        sender.start();
        Thread.sleep(preMs);

        long quorumLeader = -1;
        try {
            quorumLeader = admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS).leaderId();
        } catch (Exception e) {
            log("describeMetadataQuorum not available: " + e);
        }
        Map<Integer, Integer> leaderOf = leaders(admin, topic);
        int victim = -1;
        for (int p = 0; p < parts && victim < 0; p++) {
            int l = leaderOf.get(p);
            if (victimMode.equals("partition0") && p == 0) {
                victim = l;
            }
            if (victimMode.equals("controller") && l == quorumLeader) {
                victim = l;
            }
            if (victimMode.equals("non-controller") && l != quorumLeader) {
                victim = l;
            }
        }
        if (victim < 0) {
            victim = leaderOf.get(0);
        }
        final int vic = victim;
        Set<Integer> victimParts = new TreeSet<>();
        leaderOf.forEach((p, l) -> {
            if (l == vic) {
                victimParts.add(p);
            }
        });
        log("leaders before kill " + leaderOf + "; metadata quorum leader (active controller) = " + quorumLeader);
        log("VICTIM node " + victim + " (mode " + victimMode + ", is active controller: " + (victim == quorumLeader)
                + ") leads partitions " + victimParts);
        if (OPTIONS.containsKey("victim-file")) {
            Files.writeString(Path.of(OPTIONS.get("victim-file")), victim + "\n");
        }
        long killStart = System.nanoTime();
        int rc = new ProcessBuilder("bash", "-c", killCmd.replace("%d", String.valueOf(victim))).inheritIO().start().waitFor();
        // reference time: the kill command has returned (SIGKILL delivered)
        long kill = System.nanoTime();
        log("kill command exit code " + rc + " (took " + String.format(Locale.ROOT, "%.1f", (kill - killStart) / 1e6) + " ms)");

        long leaderMoved = -1;
        long watchEnd = kill + postMs * 1_000_000L;
        while (System.nanoTime() < watchEnd) {
            if (leaderMoved < 0) {
                try {
                    Map<Integer, Integer> now = leaders(admin, topic);
                    if (victimParts.stream().allMatch(p -> now.get(p) != null && now.get(p) != vic && now.get(p) >= 0)) {
                        leaderMoved = System.nanoTime();
                        log("metadata shows new leaders for " + victimParts + ": " + now);
                    }
                } catch (Exception e) {
                    // the admin client may still be talking to the dead node
                }
            }
            Thread.sleep(100);
        }
        stop.set(true);
        long windowEnd = System.nanoTime();
        sender.join();
        prod.flush();
        prod.close(Duration.ofSeconds(150));
        int sent = sentCount.get();
        log("producer closed: sent=" + sent + " failed=" + failed.get() + " rate=" + rate + "/s");
        errors.forEach(e -> log("  send error " + e));

        // ---- ack gaps (times relative to the kill); a gap still open at the end of the watch
        // window counts up to that end
        StringBuilder sb = new StringBuilder();
        double worstFirstAck = 0;
        double worstGap = 0;
        int unrecovered = 0;
        for (int p = 0; p < parts; p++) {
            long lastBefore = -1;
            long firstPost = Long.MAX_VALUE;
            long maxGap = 0;
            long prevT = -1;
            List<Long> ts = new ArrayList<>();
            for (int i = 0; i < sent; i++) {
                if (part[i] == p && ackT[i] > 0) {
                    ts.add(ackT[i]);
                    if (sendT[i] >= kill) {
                        firstPost = Math.min(firstPost, ackT[i]);
                    }
                }
            }
            ts.sort(null);
            for (long t : ts) {
                if (t < kill) {
                    lastBefore = t;
                }
                if (prevT > 0) {
                    maxGap = Math.max(maxGap, t - prevT);
                }
                prevT = t;
            }
            boolean open = prevT > 0 && prevT < windowEnd;
            if (open) {
                maxGap = Math.max(maxGap, windowEnd - prevT);
            }
            if (firstPost == Long.MAX_VALUE) {
                unrecovered++;
            }
            double fa = firstPost == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : (firstPost - kill) / 1e6;
            worstFirstAck = Math.max(worstFirstAck, fa);
            worstGap = Math.max(worstGap, maxGap / 1e6);
            sb.append(String.format(Locale.ROOT, "  p%d%s lastAckBeforeKill=%.0fms firstAckOfRecordSentAfterKill=+%.0fms maxAckGap=%.0fms%s%n",
                    p, victimParts.contains(p) ? "(victim-led)" : "            ",
                    lastBefore < 0 ? Double.NaN : (lastBefore - kill) / 1e6, fa, maxGap / 1e6,
                    open && windowEnd - prevT > 1_000_000_000L ? " (still silent at the end of the watch window)" : ""));
        }
        long[] allAcks = Arrays.stream(ackT, 0, sent).filter(t -> t > 0).sorted().toArray();
        long globalGap = 0;
        for (int i = 1; i < allAcks.length; i++) {
            globalGap = Math.max(globalGap, allAcks[i] - allAcks[i - 1]);
        }
        if (allAcks.length > 0 && allAcks[allAcks.length - 1] < windowEnd) {
            globalGap = Math.max(globalGap, windowEnd - allAcks[allAcks.length - 1]);
        }
        long[] pre = new long[sent];
        int np = 0;
        for (int i = 0; i < sent; i++) {
            if (ackT[i] > 0 && ackT[i] < kill) {
                pre[np++] = ackT[i] - sendT[i];
            }
        }
        long[] preS = Arrays.copyOf(pre, np);
        Arrays.sort(preS);
        long maxLatAfter = 0;
        for (int i = 0; i < sent; i++) {
            if (ackT[i] > 0 && sendT[i] >= kill) {
                maxLatAfter = Math.max(maxLatAfter, ackT[i] - sendT[i]);
            }
        }
        log("per-partition acks around the kill (times relative to kill):\n" + sb);
        StringBuilder h = new StringBuilder("  acks per 500ms bucket, from kill-2s: ");
        for (long b = -4; b < 32; b++) {
            long lo = kill + b * 500_000_000L;
            long hi = lo + 500_000_000L;
            int c = 0;
            for (int i = 0; i < sent; i++) {
                if (ackT[i] >= lo && ackT[i] < hi) {
                    c++;
                }
            }
            h.append(c).append(b == -1 ? " | " : " ");
        }
        log(h.toString());
        long acked = allAcks.length;

        String v1 = verify(bs, topic, parts, sent, ackT, offs, part, "after kill, victim down");
        String v2 = "skipped";
        if (OPTIONS.containsKey("restart-cmd")) {
            int rrc = new ProcessBuilder("bash", "-c", OPTIONS.get("restart-cmd").replace("%d", String.valueOf(victim))).inheritIO().start().waitFor();
            log("restart command exit code " + rrc);
            String when = "after victim rejoined and preferred leaders elected";
            try {
                waitFullIsr(admin, topic, rf, 120_000);
            } catch (Exception e) {
                when = "after victim restart, ISR not full: " + e.getMessage();
            }
            try {
                List<TopicPartition> tps = new ArrayList<>();
                for (int p = 0; p < parts; p++) {
                    tps.add(new TopicPartition(topic, p));
                }
                admin.electLeaders(ElectionType.PREFERRED, new HashSet<>(tps)).partitions().get(30, TimeUnit.SECONDS);
                // The election is applied by now; wait until the metadata clients read says so too.
                waitForPartitions(admin, topic, i -> i.leader() != null && i.leader().id() == i.replicas().get(0).id(),
                        "every partition led by its preferred replica", 30_000);
            } catch (Exception e) {
                log("preferred leader election failed: " + e);
                when = when.replace(" and preferred leaders elected", "") + ", preferred leader election failed (" + e + ")";
            }
            try {
                log("after restart, leaders = " + leaders(admin, topic));
            } catch (Exception e) {
                log("after restart, leaders unknown: " + e);
            }
            v2 = verify(bs, topic, parts, sent, ackT, offs, part, when);
        }
        admin.close(Duration.ofSeconds(5));
        System.out.printf(Locale.ROOT, "RESULT victim=%d victimWasController=%s victimPartitions=%s sent=%d acked=%d failed=%d "
                        + "ackStreamMaxGap(all partitions)=%.0fms maxPartitionAckGap=%.0fms firstAckOfPostKillRecord(worst partition)=+%.0fms "
                        + "partitionsWithoutPostKillAck=%d metadataShowsNewLeader=+%.0fms maxAckLatencyOfRecordsSentAfterKill=%.0fms "
                        + "ackLatencyBeforeKill p50=%.1fms p99=%.1fms | verify1: %s | verify2: %s%n",
                victim, victim == quorumLeader, victimParts, sent, acked, failed.get(), globalGap / 1e6, worstGap, worstFirstAck,
                unrecovered, leaderMoved < 0 ? Double.NaN : (leaderMoved - kill) / 1e6, maxLatAfter / 1e6,
                np == 0 ? Double.NaN : preS[np / 2] / 1e6, np == 0 ? Double.NaN : preS[(int) (np * 0.99)] / 1e6, v1, v2);
        System.out.flush();
        // the Kafka clients' threads must not keep the JVM alive
        System.exit(0);
    }

    private static Map<Integer, Integer> leaders(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
        Map<Integer, Integer> m = new TreeMap<>();
        for (TopicPartitionInfo i : d.partitions()) {
            m.put(i.partition(), i.leader() == null ? -1 : i.leader().id());
        }
        return m;
    }

    private static void waitFullIsr(Admin admin, String topic, int rf, long timeoutMs) throws Exception {
        waitForPartitions(admin, topic, i -> i.leader() != null && i.isr().size() >= rf, "all partitions have leader and full ISR", timeoutMs);
    }

    /** Polls the topic's metadata until every partition satisfies {@code condition}. */
    private static void waitForPartitions(Admin admin, String topic, java.util.function.Predicate<org.apache.kafka.common.TopicPartitionInfo> condition,
                                          String what, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (true) {
            try {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(5, TimeUnit.SECONDS).get(topic);
                if (d.partitions().stream().allMatch(condition)) {
                    log(what);
                    return;
                }
            } catch (Exception e) {
                // retry until the deadline
            }
            if (System.currentTimeMillis() > end) {
                throw new IllegalStateException("not reached after " + timeoutMs + " ms: " + what);
            }
            Thread.sleep(250);
        }
    }

    private static String verify(String bs, String topic, int parts, int sent, long[] ackT, long[] offs, int[] part, String when) {
        try {
            return verifyOrThrow(bs, topic, parts, sent, ackT, offs, part, when);
        } catch (Exception e) {
            log("verify [" + when + "] failed to run: " + e);
            return "failed to run [" + when + "]: " + e;
        }
    }

    private static String verifyOrThrow(String bs, String topic, int parts, int sent, long[] ackT, long[] offs, int[] part, String when) {
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bs);
        cp.put("group.id", "failover-verify-" + System.nanoTime());
        cp.put("enable.auto.commit", "false");
        cp.put("isolation.level", "read_uncommitted");
        List<Map<Long, Long>> byOffset = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            byOffset.add(new HashMap<>());
        }
        long dup = 0;
        long outOfOrder = 0;
        long read = 0;
        boolean complete;
        Set<Long> seen = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(30));
            long[] lastSeq = new long[parts];
            Arrays.fill(lastSeq, -1);
            long deadline = System.currentTimeMillis() + 120_000;
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    long seq = ByteBuffer.wrap(r.value()).getLong();
                    read++;
                    if (!seen.add(seq)) {
                        dup++;
                    }
                    if (seq <= lastSeq[r.partition()]) {
                        outOfOrder++;
                    }
                    lastSeq[r.partition()] = seq;
                    byOffset.get(r.partition()).put(r.offset(), seq);
                }
            }
            complete = tps.stream().allMatch(tp -> c.position(tp) >= end.get(tp));
        }
        long acked = 0;
        long lost = 0;
        long unackedButPresent = 0;
        for (int i = 0; i < sent; i++) {
            if (ackT[i] > 0) {
                acked++;
                Long s = byOffset.get(part[i]).get(offs[i]);
                if (s == null || s != i) {
                    lost++;
                    if (lost <= 5) {
                        log("  LOST seq " + i + " p" + part[i] + " offset " + offs[i] + " found " + s);
                    }
                }
            } else if (seen.contains((long) i)) {
                unackedButPresent++;
            }
        }
        String r = String.format(Locale.ROOT, "[%s] read=%d acked=%d lostAcked=%d duplicates=%d outOfOrder=%d unackedButPresent=%d%s",
                when, read, acked, lost, dup, outOfOrder, unackedButPresent, complete ? "" : " (read timed out before the end offsets)");
        log("verify " + r);
        return r;
    }
}
