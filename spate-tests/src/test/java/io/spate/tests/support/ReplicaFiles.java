package io.spate.tests.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The on-disk log of one partition on each replica: {@code <dataDir>/<topic>-<partition>/*.log}
 * (segments named by their 20-digit base offset) concatenated in name order, compared byte for
 * byte up to the high watermark.
 */
public final class ReplicaFiles {
    private static final int BATCH_HEADER = 61;

    private ReplicaFiles() {
    }

    /**
     * One replica's log bytes. The node may be running: a segment the cleaner or retention
     * replaces between the listing and its read is gone by then, and the listing is taken again.
     */
    public static byte[] read(Path dataDir, String topic, int partition) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return readOnce(dataDir, topic, partition);
            } catch (java.nio.file.NoSuchFileException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    private static byte[] readOnce(Path dataDir, String topic, int partition) throws IOException {
        Path dir = dataDir.resolve(topic + "-" + partition);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!Files.isDirectory(dir)) {
            return out.toByteArray();
        }
        List<Path> segments;
        try (Stream<Path> files = Files.list(dir)) {
            segments = files.filter(f -> {
                String name = f.getFileName().toString();
                return name.endsWith(".log") && name.length() == 24;
            }).sorted().toList();
        }
        for (Path segment : segments) {
            out.write(Files.readAllBytes(segment));
        }
        return out.toByteArray();
    }

    /**
     * The byte length of the whole batches that cover offsets [0, {@code endOffset}) exactly,
     * checking that they are contiguous from offset 0; a description of the problem if not.
     */
    static Object prefixLength(byte[] log, long endOffset) {
        ByteBuffer buf = ByteBuffer.wrap(log);
        int pos = 0;
        long expected = 0;
        while (expected < endOffset) {
            if (pos + BATCH_HEADER > log.length) {
                return "log ends (" + log.length + " bytes) at offset " + expected + ", before the high watermark " + endOffset;
            }
            long base = buf.getLong(pos);
            int length = buf.getInt(pos + 8);
            int lastDelta = buf.getInt(pos + 23);
            if (base != expected) {
                return "batch at byte " + pos + " has base offset " + base + ", expected " + expected;
            }
            if (pos + 12L + length > log.length) {
                return "batch at byte " + pos + " (offset " + base + ") is cut at the end of the log";
            }
            pos += 12 + length;
            expected = base + lastDelta + 1;
        }
        if (expected != endOffset) {
            return "the batch ending at byte " + pos + " ends at offset " + expected + ", beyond the high watermark " + endOffset;
        }
        return pos;
    }

    /** The batch holding byte {@code at}, for messages. */
    static String batchAt(byte[] log, int at) {
        if (at < 0) {
            return "-";
        }
        ByteBuffer buf = ByteBuffer.wrap(log);
        int pos = 0;
        while (pos + BATCH_HEADER <= log.length) {
            int length = buf.getInt(pos + 8);
            if (at < pos + 12 + length) {
                return "batch at byte " + pos + " base offset " + buf.getLong(pos) + " leader epoch " + buf.getInt(pos + 12)
                        + " last offset delta " + buf.getInt(pos + 23) + " producer id " + buf.getLong(pos + 43)
                        + " base sequence " + buf.getInt(pos + 53);
            }
            pos += 12 + length;
        }
        return "no batch (log of " + log.length + " bytes)";
    }

    /**
     * Awaits (a settled cluster: everything in sync) that every replica of every partition holds
     * the same bytes up to the partition's high watermark ({@code endOffsets}, from a consumer).
     */
    public static void assertReplicasAgree(SpateCluster cluster, String topic, Map<Integer, Long> endOffsets) {
        assertReplicasAgree(cluster, topic, endOffsets, partition -> cluster.ids());
    }

    /** As above, for partitions held by some nodes only: {@code holders} names each partition's replicas. */
    public static void assertReplicasAgree(SpateCluster cluster, String topic, Map<Integer, Long> endOffsets,
                                           java.util.function.IntFunction<java.util.Collection<Integer>> holders) {
        for (Map.Entry<Integer, Long> e : endOffsets.entrySet()) {
            int partition = e.getKey();
            long hw = e.getValue();
            // Looked at once at first (the cluster has settled: usually they agree already), then every 500 ms.
            await("replicas of " + topic + "-" + partition + " agree up to " + hw).atMost(Duration.ofSeconds(30))
                    .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                        Map<Integer, byte[]> prefixes = new LinkedHashMap<>();
                        List<String> problems = new ArrayList<>();
                        for (int id : holders.apply(partition)) {
                            byte[] log = read(cluster.dataDir(id), topic, partition);
                            Object length = prefixLength(log, hw);
                            if (length instanceof Integer n) {
                                prefixes.put(id, Arrays.copyOf(log, n));
                            } else {
                                problems.add("node " + id + ": " + length);
                            }
                        }
                        assertThat(problems).as("%s-%d: every replica holds whole batches for offsets [0, %d)", topic, partition, hw).isEmpty();
                        Map.Entry<Integer, byte[]> first = prefixes.entrySet().iterator().next();
                        for (Map.Entry<Integer, byte[]> other : prefixes.entrySet()) {
                            int mismatch = Arrays.mismatch(first.getValue(), other.getValue());
                            assertThat(mismatch).as("%s-%d: first differing byte between node %d (%d bytes) and node %d (%d bytes) below hw %d: "
                                            + "node %d has %s, node %d has %s",
                                    topic, partition, first.getKey(), first.getValue().length, other.getKey(), other.getValue().length, hw,
                                    first.getKey(), batchAt(first.getValue(), mismatch), other.getKey(), batchAt(other.getValue(), mismatch))
                                    .isEqualTo(-1);
                        }
                        if (hw > 0) {
                            assertThat(first.getValue().length).as("%s-%d bytes below hw %d", topic, partition, hw).isPositive();
                        }
                    });
        }
        SpateCluster.log("replicas agree byte for byte up to the high watermarks " + endOffsets);
    }
}
