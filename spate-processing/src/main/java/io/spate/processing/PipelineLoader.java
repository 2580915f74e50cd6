package io.spate.processing;

import io.spate.stream.Pipeline;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Map;

/**
 * Makes a spec's {@link Pipeline}: a shipped example by name, a class on the node's class path
 * (the embedded API), or a class of a jar loaded in a class loader of its own, which sees the
 * stream API and the JDK but none of the node's classes.
 */
public final class PipelineLoader {
    /** The examples that ship with the build and deploy by name. */
    public static final Map<String, String> EXAMPLES = Map.of(
            "wordcount", "io.spate.stream.examples.WordCount",
            "bench-a", "io.spate.stream.examples.BenchA",
            "bench-b", "io.spate.stream.examples.BenchB",
            "topic-to-table", "io.spate.stream.examples.TopicToTable");

    /** What a jar's classes may see of the node's: the API they were compiled against, and its logging and JSON. */
    private static final String[] SHARED_PREFIXES = {"io.spate.stream.", "com.fasterxml.jackson.", "org.slf4j."};

    private PipelineLoader() {
    }

    /** The class name an example deploys, or an error naming the examples there are. */
    public static String exampleClass(String example) {
        String className = EXAMPLES.get(example);
        if (className == null) {
            throw new IllegalArgumentException("no example named '" + example + "'; the examples are " + new java.util.TreeSet<>(EXAMPLES.keySet()));
        }
        return className;
    }

    /** A loaded pipeline and the class loader that must be closed with it (null when none of its own). */
    public record Loaded(Pipeline pipeline, URLClassLoader loader) implements AutoCloseable {
        @Override
        public void close() {
            if (loader != null) {
                try {
                    loader.close();
                } catch (IOException ignored) {
                    // its jar file stays open until the JVM ends: nothing else is lost
                }
            }
        }
    }

    /** Loads {@code spec}'s pipeline; {@code jar} is the jar's local copy when the source is a jar. */
    public static Loaded load(PipelineSpec spec, Path jar) {
        return switch (spec.source()) {
            case PipelineSpec.EXAMPLE, PipelineSpec.CLASSPATH -> new Loaded(instantiate(PipelineLoader.class.getClassLoader(), spec.className()), null);
            case PipelineSpec.JAR -> loadFromJar(jar, spec.className());
            default -> throw new IllegalArgumentException("unknown source " + spec.source());
        };
    }

    public static Loaded loadFromJar(Path jar, String className) {
        URLClassLoader loader;
        try {
            loader = new URLClassLoader("pipeline:" + jar.getFileName(), new URL[]{jar.toUri().toURL()},
                    new ApiOnlyLoader(PipelineLoader.class.getClassLoader()));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot open " + jar + ": " + e.getMessage(), e);
        }
        try {
            return new Loaded(instantiate(loader, className), loader);
        } catch (RuntimeException e) {
            try {
                loader.close();
            } catch (IOException ignored) {
                // as above
            }
            throw e;
        }
    }

    private static Pipeline instantiate(ClassLoader loader, String className) {
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("cannot load class " + className + ": " + e, e);
        }
        if (!Pipeline.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(className + " does not implement " + Pipeline.class.getName());
        }
        try {
            return (Pipeline) type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException("cannot create " + className + " with its public no-argument constructor: " + cause, cause);
        }
    }

    /** The parent of a jar's loader: the JDK, and of the node's classes only the shared API. */
    private static final class ApiOnlyLoader extends ClassLoader {
        private final ClassLoader node;

        ApiOnlyLoader(ClassLoader node) {
            super("spate-stream-api", ClassLoader.getPlatformClassLoader());
            this.node = node;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            for (String prefix : SHARED_PREFIXES) {
                if (name.startsWith(prefix)) {
                    return node.loadClass(name);
                }
            }
            return super.loadClass(name, resolve);
        }
    }
}
