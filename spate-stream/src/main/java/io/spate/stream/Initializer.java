package io.spate.stream;

/** The aggregate of a key (or a key's window) before its first record. */
@FunctionalInterface
public interface Initializer<A> {
    A apply();
}
