package io.spate.tests.support;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Builds a real pipeline jar in a test: compiles Java sources against the stream API (the test's
 * class path) with the JDK's compiler and packs the classes, as a user's build would.
 */
public final class PipelineJars {
    private PipelineJars() {
    }

    /** A source file: its fully qualified class name and text. */
    public record Source(String className, String text) {
    }

    public static Path build(Path workDir, String jarName, List<Source> sources) throws IOException {
        Path src = Files.createDirectories(workDir.resolve(jarName + "-src"));
        Path classes = Files.createDirectories(workDir.resolve(jarName + "-classes"));
        // The stream API's own location first: surefire may hand the JVM a manifest-only class path.
        String api;
        try {
            api = Path.of(io.spate.stream.Pipeline.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        String classPath = api + java.io.File.pathSeparator + System.getProperty("java.class.path");
        List<String> args = new java.util.ArrayList<>(List.of("-d", classes.toString(), "-cp", classPath,
                "--release", "21", "-proc:none"));
        for (Source source : sources) {
            Path file = src.resolve(source.className().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.text());
            args.add(file.toString());
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int exit = compiler.run(null, errors, errors, args.toArray(String[]::new));
        if (exit != 0) {
            throw new IllegalStateException("the pipeline sources do not compile:\n" + errors);
        }
        Path jar = workDir.resolve(jarName + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path c : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(c).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(c));
                out.closeEntry();
            }
        }
        return jar;
    }
}
