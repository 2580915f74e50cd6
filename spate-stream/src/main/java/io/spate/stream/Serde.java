package io.spate.stream;

import java.util.Objects;
import java.util.function.Function;

/**
 * Turns values of {@code T} into record bytes and back. Null-safe: null serializes to null (a
 * null key, or a tombstone value) and null bytes deserialize to null. Implementations must be
 * stateless or thread-safe: one instance serves every task of a pipeline.
 */
public interface Serde<T> {
    byte[] serialize(T value);

    T deserialize(byte[] bytes);

    /** A serde from two functions, which are never called with null. */
    static <T> Serde<T> of(Function<? super T, byte[]> serializer, Function<byte[], ? extends T> deserializer) {
        Objects.requireNonNull(serializer, "serializer");
        Objects.requireNonNull(deserializer, "deserializer");
        return new Serde<>() {
            @Override
            public byte[] serialize(T value) {
                return value == null ? null : serializer.apply(value);
            }

            @Override
            public T deserialize(byte[] bytes) {
                return bytes == null ? null : deserializer.apply(bytes);
            }
        };
    }
}
