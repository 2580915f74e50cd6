package io.spate.stream;

@FunctionalInterface
public interface ValueMapper<V, R> {
    R apply(V value);
}
