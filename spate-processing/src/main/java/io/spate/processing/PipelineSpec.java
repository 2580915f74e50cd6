package io.spate.processing;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A deployed pipeline as the catalog keeps it: where its code comes from (a shipped example, a
 * class on the node's class path, or a jar kept in the catalog by its SHA-256), its settings,
 * whether it is paused, and a generation that grows with every change so that a node can tell a
 * redeploy from a repeat.
 *
 * @param source    {@code example}, {@code classpath} or {@code jar}
 * @param reference the example's name, or the jar's SHA-256 (hex); empty for {@code classpath}
 * @param className the {@code io.spate.stream.Pipeline} implementation (examples: filled in)
 */
public record PipelineSpec(String name, String source, String reference, String className, Map<String, String> settings,
                           boolean paused, long generation) {
    public static final String EXAMPLE = "example";
    public static final String CLASSPATH = "classpath";
    public static final String JAR = "jar";

    public PipelineSpec {
        Objects.requireNonNull(name, "name");
        PipelineNames.validate(name);
        if (!source.equals(EXAMPLE) && !source.equals(CLASSPATH) && !source.equals(JAR)) {
            throw new IllegalArgumentException("unknown pipeline source " + source);
        }
        settings = Map.copyOf(new TreeMap<>(settings));
        reference = reference == null ? "" : reference;
        if (source.equals(JAR) && !reference.matches("[0-9a-f]{64}")) {
            // It names a file under the node's data directory: nothing but a hash may.
            throw new IllegalArgumentException("a jar is referenced by its SHA-256 in hex, not '" + reference + "'");
        }
    }

    public PipelineSettings parsedSettings() {
        return PipelineSettings.of(settings);
    }

    public PipelineSpec paused(boolean paused, long generation) {
        return new PipelineSpec(name, source, reference, className, settings, paused, generation);
    }
}
