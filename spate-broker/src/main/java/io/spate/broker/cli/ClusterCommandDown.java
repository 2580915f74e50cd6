package io.spate.broker.cli;

import io.spate.broker.cli.ClusterCommand.Layout;
import io.spate.broker.cli.ClusterCommand.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@code spate cluster down}: stops every node of the cluster, cleanly if it can. */
@Command(name = "down", mixinStandardHelpOptions = true,
        description = {"Stop every node: SIGTERM (a clean shutdown), then SIGKILL for any node still running after --timeout-s; "
                + "removes the pid files. Data and logs stay in DIR: 'spate cluster up' with the same --dir restarts the cluster.",
                "Stopping a cluster that is not running is not an error. Exit codes: 0 stopped (or nothing to stop); "
                        + "1 a node could not be stopped; 2 no cluster in DIR."})
final class ClusterCommandDown extends ClusterCommand.Sub {
    @Option(names = "--timeout-s", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long each node has to stop after SIGTERM before it is killed (default: ${DEFAULT-VALUE}).")
    int timeoutS;

    @Override
    int execute() throws Exception {
        Path dir = dir();
        Layout layout = layout();
        Map<Node, ProcessHandle> running = new LinkedHashMap<>();
        for (Node node : layout.nodes()) {
            Optional<Long> pid = ClusterCommand.recordedPid(dir, node);
            if (pid.isEmpty()) {
                continue;
            }
            Optional<ProcessHandle> process = ClusterCommand.liveProcess(dir, node);
            if (process.isPresent()) {
                running.put(node, process.get());
            } else {
                // the node died (or was stopped) without this command: its pid may now be another program's
                Files.deleteIfExists(node.pidFile(dir));
            }
        }
        if (running.isEmpty()) {
            out().println("cluster in " + dir + " is not running; nothing to stop");
            return 0;
        }

        running.values().forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(0, timeoutS));
        List<String> survivors = new ArrayList<>();
        for (Map.Entry<Node, ProcessHandle> e : running.entrySet()) {
            Node node = e.getKey();
            ProcessHandle process = e.getValue();
            String how = "";
            if (!waitForExit(process, deadline - System.nanoTime())) {
                err().printf("spate: node %d (pid %d) still running %d s after SIGTERM; killing it (SIGKILL)%n", node.id(), process.pid(), timeoutS);
                err().flush();
                process.destroyForcibly();
                how = " (killed with SIGKILL)";
                if (!waitForExit(process, TimeUnit.SECONDS.toNanos(10))) {
                    survivors.add("node " + node.id() + " (pid " + process.pid() + ")");
                    continue;
                }
            }
            deletePidFile(node.pidFile(dir));
            out().printf("stopped node %d (pid %d)%s%n", node.id(), process.pid(), how);
            out().flush();
        }
        if (!survivors.isEmpty()) {
            throw ClusterCommand.Failure.failed("could not stop " + String.join(", ", survivors));
        }
        out().printf("cluster in %s stopped (%d node%s); its data is kept%n", dir, running.size(), running.size() == 1 ? "" : "s");
        return 0;
    }

    private static boolean waitForExit(ProcessHandle process, long nanos) throws InterruptedException {
        try {
            process.onExit().get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return !process.isAlive();
        } catch (ExecutionException e) {
            return !process.isAlive();
        }
    }

    private static void deletePidFile(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stale pid file is recognised as such by every subcommand
        }
    }
}
