package io.spate.stream;

@FunctionalInterface
public interface Reducer<V> {
    V apply(V aggregate, V value);
}
