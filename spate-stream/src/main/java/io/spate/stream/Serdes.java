package io.spate.stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The stock serdes. Numbers are big-endian, as Kafka's {@code LongSerializer} and
 * {@code IntegerSerializer} write them, so records interoperate with Kafka clients.
 */
public final class Serdes {
    private static final Serde<byte[]> BYTES = Serde.of(b -> b, b -> b);
    private static final Serde<String> STRING = Serde.of(s -> s.getBytes(StandardCharsets.UTF_8), b -> new String(b, StandardCharsets.UTF_8));
    private static final Serde<Long> LONGS = Serde.of(
            v -> ByteBuffer.allocate(Long.BYTES).putLong(v).array(),
            b -> {
                requireLength(b, Long.BYTES, "long");
                return ByteBuffer.wrap(b).getLong();
            });
    private static final Serde<Integer> INTEGERS = Serde.of(
            v -> ByteBuffer.allocate(Integer.BYTES).putInt(v).array(),
            b -> {
                requireLength(b, Integer.BYTES, "int");
                return ByteBuffer.wrap(b).getInt();
            });
    private static final ObjectMapper JSON = new ObjectMapper();

    private Serdes() {
    }

    public static Serde<byte[]> bytes() {
        return BYTES;
    }

    /** UTF-8. */
    public static Serde<String> string() {
        return STRING;
    }

    /** 8 bytes, big-endian. */
    public static Serde<Long> longs() {
        return LONGS;
    }

    /** 4 bytes, big-endian. */
    public static Serde<Integer> integers() {
        return INTEGERS;
    }

    /** JSON with Jackson (a shared {@code ObjectMapper}, default settings). */
    public static <T> Serde<T> json(Class<T> type) {
        return Serde.of(
                v -> {
                    try {
                        return JSON.writeValueAsBytes(v);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot write " + type.getName() + " as JSON", e);
                    }
                },
                b -> {
                    try {
                        return JSON.readValue(b, type);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot read " + type.getName() + " from JSON", e);
                    }
                });
    }

    /**
     * Windowed keys: the inner key's bytes, then the window's start and end as 8-byte big-endian
     * longs (not Kafka Streams' layout).
     */
    public static <K> Serde<Windowed<K>> windowed(Serde<K> inner) {
        return Serde.of(
                w -> {
                    byte[] k = inner.serialize(w.key());
                    int n = k == null ? 0 : k.length;
                    ByteBuffer buf = ByteBuffer.allocate(n + 2 * Long.BYTES);
                    if (k != null) {
                        buf.put(k);
                    }
                    return buf.putLong(w.start()).putLong(w.end()).array();
                },
                b -> {
                    if (b.length < 2 * Long.BYTES) {
                        throw new IllegalArgumentException("a windowed key has at least 16 bytes, got " + b.length);
                    }
                    ByteBuffer buf = ByteBuffer.wrap(b);
                    byte[] k = new byte[b.length - 2 * Long.BYTES];
                    buf.get(k);
                    return new Windowed<>(inner.deserialize(k), buf.getLong(), buf.getLong());
                });
    }

    private static void requireLength(byte[] b, int n, String what) {
        if (b.length != n) {
            throw new IllegalArgumentException("a " + what + " is " + n + " bytes, got " + b.length);
        }
    }
}
