package io.spate.processing;

import org.apache.kafka.common.utils.internals.ByteUtils;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The store changes of a stateful task's micro-batches that one batch in place commits with its
 * results ({@link AnchoredOutput}): per changelog topic, each key's latest record the stores
 * logged (a changelog value is a key's whole state, so an earlier one for the same key is
 * replaced, as Kafka Streams' record cache does before its changelog: a count updated a hundred
 * times in a micro-batch carries one change), in the order of those latest changes, and the
 * task's stream time after them. Carried in the header {@value #HEADER} of the batch's
 * last record, which names its task, so that a restart can apply what its changelog may lack.
 *
 * <p>Encoding (varints as Kafka's records use them): the task key (length, UTF-8), the stream
 * time, the number of topics, then per topic its name and its records, each a timestamp, a key
 * and a value (lengths; a value of length -1 is null, a deletion).
 */
final class StateDelta {
    static final String HEADER = "spate.state";

    /** A changelog record: a store's new value for a key, or its deletion (null). */
    record Change(byte[] key, byte[] value, long timestamp) {
    }

    /** Changes decoded from a header, with the stream time they leave the task at. */
    record Decoded(long streamTimeMs, Map<String, List<Change>> changes) {
    }

    /** Per topic, each key's latest change by key content (a null key, never logged by a store, is kept as it comes). */
    private final Map<String, LinkedHashMap<Object, Change>> changes = new LinkedHashMap<>();
    private int bytes;

    void add(String topic, byte[] key, byte[] value, long timestamp) {
        LinkedHashMap<Object, Change> latest = changes.get(topic);
        if (latest == null) {
            latest = new LinkedHashMap<>();
            changes.put(topic, latest);
            bytes += 5 + topic.length() * 3 + 5;
        }
        Change change = new Change(key, value, timestamp);
        Object k = key == null ? new Object() : ByteBuffer.wrap(key);
        // Removed first, so that the key takes the place of its latest change in the order.
        Change replaced = latest.remove(k);
        if (replaced != null) {
            bytes -= sizeOf(replaced);
        }
        latest.put(k, change);
        bytes += sizeOf(change);
    }

    private static int sizeOf(Change c) {
        return 10 + 5 + (c.key() == null ? 0 : c.key().length) + 5 + (c.value() == null ? 0 : c.value().length);
    }

    boolean isEmpty() {
        return changes.isEmpty();
    }

    /** At least the size of {@link #encode} without the task key and stream time. */
    int estimatedBytes() {
        return bytes;
    }

    /** Per changelog topic, the changes to write, in order. */
    Map<String, List<Change>> changes() {
        Map<String, List<Change>> byTopic = new LinkedHashMap<>();
        changes.forEach((topic, latest) -> byTopic.put(topic, new ArrayList<>(latest.values())));
        return byTopic;
    }

    void clear() {
        changes.clear();
        bytes = 0;
    }

    byte[] encode(String taskKey, long streamTimeMs) {
        byte[] task = taskKey.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(bytes + task.length + 5 + 10 + 5);
        writeBytes(out, task);
        ByteUtils.writeVarlong(streamTimeMs, out);
        ByteUtils.writeVarint(changes.size(), out);
        for (Map.Entry<String, LinkedHashMap<Object, Change>> topic : changes.entrySet()) {
            writeBytes(out, topic.getKey().getBytes(StandardCharsets.UTF_8));
            ByteUtils.writeVarint(topic.getValue().size(), out);
            for (Change c : topic.getValue().values()) {
                ByteUtils.writeVarlong(c.timestamp(), out);
                writeBytes(out, c.key());
                writeBytes(out, c.value());
            }
        }
        byte[] encoded = new byte[out.position()];
        out.flip().get(encoded);
        return encoded;
    }

    /** The changes in {@code header} if it is the task {@code taskKey}'s, else null. */
    static Decoded decode(byte[] header, String taskKey) {
        ByteBuffer in = ByteBuffer.wrap(header);
        byte[] task = readBytes(in);
        if (task == null || !taskKey.equals(new String(task, StandardCharsets.UTF_8))) {
            return null;
        }
        long streamTime = ByteUtils.readVarlong(in);
        int topics = ByteUtils.readVarint(in);
        Map<String, List<Change>> changes = new LinkedHashMap<>();
        for (int t = 0; t < topics; t++) {
            String topic = new String(readBytes(in), StandardCharsets.UTF_8);
            int count = ByteUtils.readVarint(in);
            List<Change> list = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long timestamp = ByteUtils.readVarlong(in);
                list.add(new Change(readBytes(in), readBytes(in), timestamp));
            }
            changes.put(topic, list);
        }
        return new Decoded(streamTime, changes);
    }

    private static void writeBytes(ByteBuffer out, byte[] bytes) {
        if (bytes == null) {
            ByteUtils.writeVarint(-1, out);
            return;
        }
        ByteUtils.writeVarint(bytes.length, out);
        out.put(bytes);
    }

    private static byte[] readBytes(ByteBuffer in) {
        int length = ByteUtils.readVarint(in);
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }
}
