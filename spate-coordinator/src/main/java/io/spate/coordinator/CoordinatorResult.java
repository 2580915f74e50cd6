package io.spate.coordinator;

import java.util.List;

/**
 * What an operation on a shard decided: the records to write (none for a read-only answer) and
 * the answer to give once they are committed.
 */
public record CoordinatorResult<R, T>(List<R> records, T response) {
    public CoordinatorResult {
        records = List.copyOf(records);
    }

    /** An answer that writes nothing. */
    public static <R, T> CoordinatorResult<R, T> of(T response) {
        return new CoordinatorResult<>(List.of(), response);
    }

    /** Records to write, answered with {@code response} once they are committed. */
    public static <R, T> CoordinatorResult<R, T> of(List<R> records, T response) {
        return new CoordinatorResult<>(records, response);
    }
}
