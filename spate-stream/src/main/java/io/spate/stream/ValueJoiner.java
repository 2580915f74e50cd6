package io.spate.stream;

/** Joins a record's value with the matching value of the other side (null in a left join with no match). */
@FunctionalInterface
public interface ValueJoiner<V1, V2, R> {
    R apply(V1 value1, V2 value2);
}
