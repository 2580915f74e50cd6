package io.spate.stream;

import java.util.Objects;

/**
 * The name of an operator or store, instead of the one generated from its position in the graph.
 * Internal topic names derive from it ({@code <pipeline>-<name>-repartition},
 * {@code <pipeline>-<name>-changelog}), so naming the stateful steps keeps those topics stable
 * when the pipeline changes.
 */
public record Named(String name) {
    public Named {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || !name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("a name is letters, digits, '.', '_' and '-': '" + name + "'");
        }
    }

    public static Named as(String name) {
        return new Named(name);
    }
}
