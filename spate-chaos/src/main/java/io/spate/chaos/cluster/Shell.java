package io.spate.chaos.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short system command (ip, mount, kill) and says clearly what failed. */
final class Shell {
    private Shell() {
    }

    /** Runs the command; throws with its output unless it exits 0. */
    static String run(List<String> command) {
        Result r = attempt(command);
        if (r.exit != 0) {
            throw new IllegalStateException("'" + String.join(" ", command) + "' failed (exit " + r.exit + "): " + r.output.strip());
        }
        return r.output;
    }

    static String run(String... command) {
        return run(List.of(command));
    }

    record Result(int exit, String output) {
    }

    static Result attempt(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out; " + out);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    static Result attempt(String... command) {
        return attempt(List.of(command));
    }
}
