package io.spate.broker.cli;

import io.spate.processing.PipelineAdmin;
import io.spate.processing.PipelineSpec;
import io.spate.processing.TaskStatus;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code spate pipeline}: deploy and manage pipelines that run at the data, over the Kafka
 * protocol only (the catalog and status are compacted topics every node reads).
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Deploy, list, describe, pause, resume and delete pipelines (over the Kafka protocol).",
        subcommands = {PipelineCommand.Deploy.class, PipelineCommand.ListPipelines.class, PipelineCommand.Describe.class,
                PipelineCommand.Pause.class, PipelineCommand.Resume.class, PipelineCommand.Delete.class, CommandLine.HelpCommand.class})
public final class PipelineCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A subcommand on one pipeline admin; a bad request is one line, not a stack trace. */
    abstract static class PipelineSub extends GroupsCommand.Sub {
        @Override
        String group() {
            return null;
        }

        @Override
        final void run(Admin admin) throws Exception {
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
            try (PipelineAdmin pipelines = new PipelineAdmin(connection.bootstrapServer, Duration.ofMillis(timeoutMs()))) {
                run(pipelines);
            } catch (IllegalArgumentException e) {
                throw new GroupsCommand.Failure(e.getMessage());
            }
        }

        /**
         * A step of a pipeline command (a catalog read, topic creation, a delete's wait for its
         * tasks) gets --timeout when given, else PipelineAdmin's own 30 s: the other commands'
         * 15 s default is too short for a deploy that creates topics on a busy cluster.
         */
        @Override
        int timeoutMs() {
            return spec.commandLine().getParseResult().hasMatchedOption("--timeout")
                    ? connection.timeoutMs : (int) PipelineAdmin.DEFAULT_STEP.toMillis();
        }

        abstract void run(PipelineAdmin pipelines) throws Exception;
    }

    static final class Code {
        @Option(names = "--example", paramLabel = "NAME", description = "A pipeline that ships with Spate: wordcount, bench-a, bench-b.")
        String example;

        @ArgGroup(exclusive = false)
        JarCode jar;
    }

    static final class JarCode {
        @Option(names = "--jar", paramLabel = "FILE", required = true, description = "A jar holding the pipeline's classes.")
        Path jar;

        @Option(names = "--class", paramLabel = "CLASS", required = true, description = "Its io.spate.stream.Pipeline implementation.")
        String className;
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = "Check a pipeline, create its topics and start it on the nodes that lead its input partitions (a new deploy of a name replaces it).")
    static final class Deploy extends PipelineSub {
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "The pipeline's name (starts its internal topics' names).")
        String name;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Code code;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A setting of the pipeline (processing.guarantee, commit.interval.ms, "
                + "batch.max.records, state.store, ...; the rest go to its code). Repeatable.")
        Map<String, String> settings = new LinkedHashMap<>();

        @Override
        void run(PipelineAdmin pipelines) throws Exception {
            PipelineAdmin.Code what;
            if (code.example != null) {
                what = new PipelineAdmin.Code.Example(code.example);
            } else {
                if (!Files.isRegularFile(code.jar.jar)) {
                    throw new GroupsCommand.Failure("no jar at " + code.jar.jar);
                }
                what = new PipelineAdmin.Code.Jar(code.jar.jar, code.jar.className);
            }
            PipelineAdmin.Deployed deployed = pipelines.deploy(name, what, settings);
            out().printf("deployed pipeline %s (generation %d, %d partitions)%n", name, deployed.spec().generation(), deployed.partitions());
            out().println(deployed.topology());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per pipeline: its code, state and settings.")
    static final class ListPipelines extends PipelineSub {
        @Override
        void run(PipelineAdmin pipelines) {
            GroupsCommand.Table table = new GroupsCommand.Table("PIPELINE", "STATE", "GENERATION", "CODE", "SETTINGS");
            for (PipelineSpec spec : pipelines.list()) {
                table.row(spec.name(), spec.paused() ? "PAUSED" : "RUNNING", String.valueOf(spec.generation()), code(spec),
                        spec.settings().isEmpty() ? "-" : spec.settings().toString());
            }
            table.print(out());
        }
    }

    static String code(PipelineSpec spec) {
        return switch (spec.source()) {
            case PipelineSpec.EXAMPLE -> "example " + spec.reference();
            case PipelineSpec.JAR -> spec.className() + " (jar " + spec.reference().substring(0, 12) + ")";
            default -> spec.className();
        };
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "A pipeline's tasks: node, state, input lag, records/s, processing latency p50/p99/p99.9, restores "
                    + "(changelog records read, and those a standby on the node already held), the share of results written in place, failures, and the age of each report.")
    static final class Describe extends PipelineSub {
        @Parameters(paramLabel = "NAME", description = "The pipeline.")
        String name;

        @Override
        void run(PipelineAdmin pipelines) {
            Optional<PipelineAdmin.Description> found = pipelines.describe(name);
            if (found.isEmpty()) {
                throw new GroupsCommand.Failure("no pipeline named " + name);
            }
            PipelineSpec spec = found.get().spec();
            out().printf("pipeline %s: %s, generation %d, %s%s%n", name, spec.paused() ? "PAUSED" : "RUNNING", spec.generation(), code(spec),
                    spec.settings().isEmpty() ? "" : ", " + spec.settings());
            GroupsCommand.Table table = new GroupsCommand.Table("TASK", "NODE", "STATE", "LAG", "RECORDS", "RECORDS/S", "P50-MS", "P99-MS",
                    "P99.9-MS", "LATE", "RESTORES", "RESTORE-MS", "RESTORED", "FROM-STANDBY", "OUT-IN-PLACE", "FAILURES", "AGE-MS", "ERROR");
            List<TaskStatus> tasks = found.get().tasks();
            long now = System.currentTimeMillis(); // a report's age: a task that stopped reporting shows it
            for (TaskStatus t : tasks) {
                table.row(t.subTopology() < 0 ? "(pipeline)" : t.subTopology() + "/" + t.partition(), String.valueOf(t.node()), t.state(),
                        String.valueOf(t.inputLag()), String.valueOf(t.recordsProcessed()), String.format("%.0f", t.recordsPerSecond()),
                        millis(t.latencyP50Us()), millis(t.latencyP99Us()), millis(t.latencyP999Us()), String.valueOf(t.lateRecords()),
                        String.valueOf(t.restores()), t.lastRestoreMs() < 0 ? "-" : String.valueOf(t.lastRestoreMs()),
                        String.valueOf(t.restoredRecords()), String.valueOf(t.standbyRecords()), inPlace(t), String.valueOf(t.failures()),
                        String.valueOf(Math.max(0, now - t.reportedAtMs())), t.error() == null || t.error().isEmpty() ? "-" : t.error());
            }
            table.print(out());
            if (tasks.isEmpty()) {
                out().println("(no task has reported yet)");
            }
            List<TaskStatus> standbys = found.get().standbys();
            if (!standbys.isEmpty()) {
                // Warm copies of the tasks' stores on other nodes (num.standby.replicas): what a task taking over there need not restore.
                out().println();
                GroupsCommand.Table warm = new GroupsCommand.Table("STANDBY", "NODE", "APPLIED", "BEHIND", "AGE-MS");
                for (TaskStatus s : standbys) {
                    warm.row(s.subTopology() + "/" + s.partition(), String.valueOf(s.node()), String.valueOf(s.standbyRecords()),
                            String.valueOf(s.inputLag()), String.valueOf(Math.max(0, now - s.reportedAtMs())));
                }
                warm.print(out());
            }
        }

        /** The share of the task's results appended in place (to partitions its node leads), without a network hop. */
        private static String inPlace(TaskStatus t) {
            long all = t.resultsInPlace() + t.resultsSent();
            return all == 0 ? "-" : Math.round(100.0 * t.resultsInPlace() / all) + "%";
        }

        private static String millis(long micros) {
            return String.format("%.1f", micros / 1000.0);
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Stop a pipeline's tasks, keeping its positions and state.")
    static final class Pause extends PipelineSub {
        @Parameters(paramLabel = "NAME", description = "The pipeline.")
        String name;

        @Override
        void run(PipelineAdmin pipelines) throws Exception {
            PipelineSpec spec = pipelines.pause(name);
            out().printf("paused pipeline %s (generation %d)%n", name, spec.generation());
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Start a paused (or failed) pipeline's tasks again from their positions.")
    static final class Resume extends PipelineSub {
        @Parameters(paramLabel = "NAME", description = "The pipeline.")
        String name;

        @Override
        void run(PipelineAdmin pipelines) throws Exception {
            PipelineSpec spec = pipelines.resume(name);
            out().printf("resumed pipeline %s (generation %d)%n", name, spec.generation());
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Remove a pipeline, its repartition and changelog topics and its positions (its output topics stay).")
    static final class Delete extends PipelineSub {
        @Parameters(paramLabel = "NAME", description = "The pipeline.")
        String name;

        @Option(names = "--keep-state", description = "Keep its internal topics and positions (a later deploy of the name goes on from them).")
        boolean keepState;

        @Override
        void run(PipelineAdmin pipelines) throws Exception {
            List<String> left = pipelines.delete(name, !keepState);
            out().printf("deleted pipeline %s%n", name);
            for (String what : left) {
                out().println("note: " + what);
            }
        }
    }
}
