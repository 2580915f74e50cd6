package io.spate.stream;

/** The key of a windowed aggregate: the grouping key and the window, {@code [start, end)} in ms. */
public record Windowed<K>(K key, long start, long end) {
    @Override
    public String toString() {
        return key + "@[" + start + "," + end + ")";
    }
}
