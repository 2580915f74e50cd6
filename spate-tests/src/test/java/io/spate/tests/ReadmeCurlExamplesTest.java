package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's HTTP examples, run as written with {@code curl} against an embedded node (its HTTP
 * port in place of {@code localhost:8082}) holding the topic they use: every command succeeds,
 * none answers an error, and where the README shows the answer (a {@code # {...}} or
 * {@code # [...]} comment on the command's line or the line after it) the answer is that JSON.
 * A README example that stops working fails here.
 */
class ReadmeCurlExamplesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String README_PORT = "localhost:8082";

    @TempDir
    Path tmp;

    /** One example: the shell command (continuation lines joined) and the answer the README shows, if any. */
    record Example(String command, String shownAnswer) {
    }

    @Test
    void theReadmesHttpExamplesWorkAsWritten() throws Exception {
        List<Example> examples = httpExamples(readme());
        assertThat(examples).as("curl examples in the README's HTTP section").hasSizeGreaterThanOrEqualTo(8);
        Files.write(tmp.resolve("photo.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F'});
        try (SpateNode node = SpateNode.builder().dataDir(tmp.resolve("data")).httpPort(0).start()) {
            Clients.createTopic(node.bootstrapServers(), "greetings", 1, Map.of());
            String address = "127.0.0.1:" + node.httpPort();
            for (Example example : examples) {
                String command = example.command().replace(README_PORT, address);
                boolean live = command.contains("curl -sN");
                if (live) {
                    // A live stream runs until the client leaves: take two seconds of it.
                    command = command.replace("curl -sN", "curl -sN --max-time 2");
                }
                Result result = run(command);
                assertThat(result.exit()).as("exit status of %s (output %s)", command, result.output())
                        .isIn(live ? List.of(0, 28) : List.of(0));
                // An error code that is not null (REST Proxy v2 answers carry "error_code": null per record written).
                assertThat(result.output()).as(command).isNotBlank().doesNotContainPattern("\"error_code\"\\s*+:\\s*+(?!null)");
                if (live) {
                    assertThat(result.output()).as(command).contains("data: ").contains("\"hello\"");
                }
                if (example.shownAnswer() != null) {
                    assertThat(JSON.readTree(result.output())).as(command).isEqualTo(JSON.readTree(example.shownAnswer()));
                }
            }
        }
    }

    private static String readme() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.exists(dir.resolve("README.md")) && Files.exists(dir.resolve("mvnw")))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("the repository root above the working directory").isNotNull();
        return Files.readString(dir.resolve("README.md"));
    }

    /**
     * The indented shell lines of the README's "## HTTP" section that call curl on
     * {@code localhost:8082}, continuation lines joined, each with the JSON answer shown for it.
     */
    static List<Example> httpExamples(String readme) {
        int start = readme.indexOf("\n## HTTP\n");
        assertThat(start).as("the README's HTTP section").isNotNegative();
        int end = readme.indexOf("\n## ", start + 1);
        String[] lines = readme.substring(start, end < 0 ? readme.length() : end).split("\n");
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].startsWith("    ")) {
                continue;
            }
            StringBuilder command = new StringBuilder();
            String line = lines[i];
            while (line.stripTrailing().endsWith("\\") && i + 1 < lines.length) {
                command.append(line.stripTrailing(), 0, line.stripTrailing().length() - 1).append(' ');
                line = lines[++i];
            }
            if (!(command + line).contains("curl ") || !(command + line).contains(README_PORT)) {
                continue;
            }
            String shown = null;
            int comment = line.indexOf("  # ");
            if (comment >= 0) {
                shown = jsonOrNull(line.substring(comment + 4).strip());
                line = line.substring(0, comment);
            }
            command.append(line.strip());
            if (shown == null && i + 1 < lines.length && lines[i + 1].strip().startsWith("# ")) {
                shown = jsonOrNull(lines[i + 1].strip().substring(2).strip());
            }
            examples.add(new Example(command.toString().strip(), shown));
        }
        return examples;
    }

    private static String jsonOrNull(String text) {
        if (!text.startsWith("{") && !text.startsWith("[")) {
            return null;
        }
        try {
            JsonNode parsed = JSON.readTree(text);
            return parsed == null ? null : text;
        } catch (IOException e) {
            return null;
        }
    }

    record Result(int exit, String output) {
    }

    private Result run(String command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", "-c", command).directory(tmp.toFile()).redirectErrorStream(true).start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("%s ended", command).isTrue();
        return new Result(process.exitValue(), output);
    }
}
